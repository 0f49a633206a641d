package store

import (
	"encoding/json"
	"math"
	"strings"
	"time"
)

// Path names an attribute of a resource. The root package resolves every
// attribute name a client sends (in any letter case, with or without schema
// URN) to its canonical Path before a Store sees it.
type Path struct {
	// URN is the schema URN of an extension attribute, "" for an attribute
	// of the resource's core schema or a common attribute (id, meta,
	// externalId).
	URN string
	// Name is the canonical attribute name: "userName", "emails", "meta",
	// "id", "members".
	Name string
	// Sub is the canonical sub-attribute name ("value", "givenName",
	// "created"), or "".
	Sub string
}

// IsZero reports whether p names no attribute.
func (p Path) IsZero() bool { return p == Path{} }

// String returns the path as a client would write it, for logs and errors.
func (p Path) String() string {
	s := p.Name
	if p.Sub != "" {
		s += "." + p.Sub
	}
	if p.URN != "" {
		s = p.URN + ":" + s
	}
	return s
}

// Op is a filter comparison operator (RFC 7644 §3.4.2.2).
type Op string

// The comparison operators.
const (
	Eq Op = "eq" // equal
	Ne Op = "ne" // not equal
	Co Op = "co" // contains
	Sw Op = "sw" // starts with
	Ew Op = "ew" // ends with
	Gt Op = "gt" // greater than
	Ge Op = "ge" // greater than or equal
	Lt Op = "lt" // less than
	Le Op = "le" // less than or equal
	Pr Op = "pr" // present (has a value)
)

// Filter is a parsed SCIM filter: one of And, Or, Not, Compare, ValuePath.
type Filter interface{ isFilter() }

// And matches when both sides match.
type And struct{ Left, Right Filter }

// Or matches when either side matches.
type Or struct{ Left, Right Filter }

// Not matches when Filter does not.
type Not struct{ Filter Filter }

// Compare compares the value(s) at Path with Value.
//
// Value is a string, bool, float64, time.Time (for dateTime attributes) or
// nil (for Pr). CaseExact tells whether strings compare case-sensitively; the
// root sets it from the attribute's schema (userName and emails are not case
// exact; id and externalId are).
//
// On a multi-valued attribute Compare matches when any value matches; Ne is
// the negation of Eq (no value equals). A resource without the attribute
// matches only Ne and the negation of other operators under Not.
type Compare struct {
	Path      Path
	Op        Op
	Value     any
	CaseExact bool
}

// ValuePath matches when one element of the multi-valued attribute at Path
// matches Filter as a whole (emails[type eq "work" and value co "@x.com"]).
// Paths inside Filter name sub-attributes of the element: Path{Name: "type"}.
type ValuePath struct {
	Path   Path
	Filter Filter
}

func (And) isFilter()       {}
func (Or) isFilter()        {}
func (Not) isFilter()       {}
func (Compare) isFilter()   {}
func (ValuePath) isFilter() {}

// Resolver returns the values a resource holds at a path, flattened: for a
// multi-valued attribute one entry per element (or per element's
// sub-attribute when p.Sub is set). A missing attribute gives no values.
type Resolver func(p Path) []any

// Eval reports whether the resource that r resolves matches f. Adapters that
// cannot push a filter down evaluate it with Eval, so that every adapter
// shares one definition of filter semantics.
func Eval(f Filter, r Resolver) bool {
	switch f := f.(type) {
	case nil:
		return true
	case And:
		return Eval(f.Left, r) && Eval(f.Right, r)
	case Or:
		return Eval(f.Left, r) || Eval(f.Right, r)
	case Not:
		return !Eval(f.Filter, r)
	case Compare:
		return evalCompare(f, r(f.Path))
	case ValuePath:
		for _, el := range r(Path{URN: f.Path.URN, Name: f.Path.Name}) {
			m, ok := el.(map[string]any)
			if !ok {
				// A multi-valued simple attribute: the element itself is
				// the "value" sub-attribute.
				m = map[string]any{"value": el}
			}
			if Eval(f.Filter, MapResolver(m)) {
				return true
			}
		}
		return false
	}
	return false
}

// MapResolver resolves paths against a map of attributes laid out as in
// Attributes: core attributes by name, extension attributes under their URN.
func MapResolver(attrs map[string]any) Resolver {
	return func(p Path) []any { return Lookup(attrs, p) }
}

// Lookup returns the values at p in attrs, flattened as a Resolver returns
// them.
func Lookup(attrs map[string]any, p Path) []any {
	if p.URN != "" {
		ext, ok := attrs[p.URN].(map[string]any)
		if !ok {
			return nil
		}
		attrs = ext
	}
	v, ok := attrs[p.Name]
	if !ok || v == nil {
		return nil
	}
	var out []any
	add := func(el any) {
		if p.Sub == "" {
			if el != nil {
				out = append(out, el)
			}
			return
		}
		if m, ok := el.(map[string]any); ok {
			if sv, ok := m[p.Sub]; ok && sv != nil {
				out = append(out, sv)
			}
		}
	}
	if list, ok := v.([]any); ok {
		for _, el := range list {
			add(el)
		}
	} else {
		add(v)
	}
	return out
}

func evalCompare(c Compare, values []any) bool {
	switch c.Op {
	case Pr:
		for _, v := range values {
			if Present(v) {
				return true
			}
		}
		return false
	case Ne:
		return !evalCompare(Compare{Path: c.Path, Op: Eq, Value: c.Value, CaseExact: c.CaseExact}, values)
	}
	for _, v := range values {
		if compareOne(c, v) {
			return true
		}
	}
	return false
}

// Present reports whether a resolved value counts as present for the pr
// operator: not nil, not "", not an empty list or object. Adapters that
// translate pr themselves use it to derive what they index.
func Present(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case string:
		return v != ""
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	}
	return true
}

func compareOne(c Compare, stored any) bool {
	switch want := c.Value.(type) {
	case string:
		got, ok := stored.(string)
		if !ok {
			return false
		}
		if !c.CaseExact {
			got, want = Fold(got), Fold(want)
		}
		switch c.Op {
		case Eq:
			return got == want
		case Co:
			return strings.Contains(got, want)
		case Sw:
			return strings.HasPrefix(got, want)
		case Ew:
			return strings.HasSuffix(got, want)
		}
		return ordered(c.Op, strings.Compare(got, want))
	case bool:
		got, ok := stored.(bool)
		return ok && c.Op == Eq && got == want
	case float64:
		got, ok := Number(stored)
		if !ok {
			return false
		}
		switch {
		case c.Op == Eq:
			return got == want
		case got < want:
			return ordered(c.Op, -1)
		case got > want:
			return ordered(c.Op, 1)
		}
		return ordered(c.Op, 0)
	case time.Time:
		got, ok := timeValue(stored)
		if !ok {
			return false
		}
		if c.Op == Eq {
			return got.Equal(want)
		}
		return ordered(c.Op, got.Compare(want))
	}
	return false
}

// ordered applies an ordering operator to the result of a three-way
// comparison of stored value against filter value.
func ordered(op Op, cmp int) bool {
	switch op {
	case Gt:
		return cmp > 0
	case Ge:
		return cmp >= 0
	case Lt:
		return cmp < 0
	case Le:
		return cmp <= 0
	}
	return false
}

// Number returns v as a float64 when it is a number as filters compare
// numbers: a float or integer type or a json.Number, finite.
func Number(v any) (float64, bool) {
	var f float64
	switch n := v.(type) {
	case float64:
		f = n
	case float32:
		f = float64(n)
	case int:
		f = float64(n)
	case int64:
		f = float64(n)
	case int32:
		f = float64(n)
	case json.Number:
		var err error
		if f, err = n.Float64(); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

func timeValue(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, true
	case string:
		p, err := time.Parse(time.RFC3339Nano, t)
		return p, err == nil
	}
	return time.Time{}, false
}

// SortKey returns the value a resource sorts by for p: for a multi-valued
// attribute the value of the element marked primary, else the first. ok is
// false when the resource has no value there.
func SortKey(r Resolver, p Path) (v any, ok bool) {
	if p.Sub != "" {
		elems := r(Path{URN: p.URN, Name: p.Name})
		for _, el := range elems {
			if m, isMap := el.(map[string]any); isMap && m["primary"] == true {
				if sv, has := m[p.Sub]; has && sv != nil {
					return sv, true
				}
			}
		}
	}
	vals := r(p)
	if len(vals) == 0 {
		return nil, false
	}
	return vals[0], true
}

// CompareSortKeys orders two sort keys returned by SortKey: negative when a
// sorts before b. Strings compare case-insensitively unless caseExact.
// Values of different kinds order by kind, so that sorting never fails.
func CompareSortKeys(a, b any, caseExact bool) int {
	switch av := a.(type) {
	case string:
		if bv, ok := b.(string); ok {
			if !caseExact {
				if c := strings.Compare(Fold(av), Fold(bv)); c != 0 {
					return c
				}
			}
			return strings.Compare(av, bv)
		}
	case bool:
		if bv, ok := b.(bool); ok {
			switch {
			case av == bv:
				return 0
			case !av:
				return -1
			}
			return 1
		}
	case time.Time:
		if bt, ok := timeValue(b); ok {
			return av.Compare(bt)
		}
	}
	if an, ok := Number(a); ok {
		if bn, ok := Number(b); ok {
			switch {
			case an < bn:
				return -1
			case an > bn:
				return 1
			}
			return 0
		}
	}
	return kindRank(a) - kindRank(b)
}

func kindRank(v any) int {
	switch v.(type) {
	case bool:
		return 1
	case float64, int, int64, json.Number:
		return 2
	case string:
		return 3
	case time.Time:
		return 4
	}
	return 5
}
