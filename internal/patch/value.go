package patch

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/scimkit/scim/internal/filter"
	"github.com/scimkit/scim/internal/schema"
	"github.com/scimkit/scim/internal/scimerr"
	"github.com/scimkit/scim/store"
)

// This file converts attribute values as clients send them into the form
// stored in store.Attributes: canonical sub-attribute names, booleans as
// bool (Entra sends "True"/"False"), numbers as float64, strings for string,
// reference, binary and dateTime attributes. Type switches only: this runs
// for every attribute of every PATCH, PUT and POST.

func invalidValue(path string, format string, args ...any) *scimerr.Error {
	e := scimerr.BadRequest(scimerr.InvalidValue, format, args...)
	e.Detail = "attribute " + strconv.Quote(path) + ": " + e.Detail
	return e
}

// coerce converts v for attribute a (multi-valued or not). name is the
// path for error details. A nil result means no value.
func coerce(a *schema.Attr, v any, name string) (any, *scimerr.Error) {
	if v == nil {
		return nil, nil
	}
	if !a.MultiValued {
		return coerceOne(a, v, name)
	}
	list, ok := v.([]any)
	if !ok {
		// A single element where a list is expected: Entra and Microsoft's
		// validator send `"value": "id"` or `"value": {...}` for members.
		list = []any{v}
	}
	out := make([]any, 0, len(list))
	for _, el := range list {
		c, err := coerceOne(a, el, name)
		if err != nil {
			return nil, err
		}
		if c != nil {
			out = append(out, c)
		}
	}
	return out, nil
}

// coerceOne converts one value (one element of a multi-valued attribute).
func coerceOne(a *schema.Attr, v any, name string) (any, *scimerr.Error) {
	if v == nil {
		return nil, nil
	}
	switch a.Type {
	case schema.Complex:
		return coerceComplex(a, v, name)
	case schema.Boolean:
		switch v := v.(type) {
		case bool:
			return v, nil
		case string:
			switch {
			case strings.EqualFold(v, "true"):
				return true, nil
			case strings.EqualFold(v, "false"):
				return false, nil
			}
		}
		return nil, invalidValue(name, "want a boolean, got %s", describe(v))
	case schema.Integer, schema.Decimal:
		var f float64
		switch v := v.(type) {
		case float64:
			f = v
		case json.Number:
			n, err := v.Float64()
			if err != nil {
				return nil, invalidValue(name, "want a number, got %q", string(v))
			}
			f = n
		case string:
			n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
				return nil, invalidValue(name, "want a number, got %s", describe(v))
			}
			f = n
		default:
			return nil, invalidValue(name, "want a number, got %s", describe(v))
		}
		if a.Type == schema.Integer && f != math.Trunc(f) {
			return nil, invalidValue(name, "want an integer, got %v", f)
		}
		return f, nil
	case schema.DateTime:
		s, ok := v.(string)
		if !ok {
			return nil, invalidValue(name, "want a dateTime string, got %s", describe(v))
		}
		if _, ok := filter.ParseTime(s); !ok {
			return nil, invalidValue(name, "want an RFC 3339 dateTime, got %q", s)
		}
		return s, nil
	}
	// string, reference, binary
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case float64:
		// Numeric identifiers (employeeNumber: 12345) are kept as the
		// text the client meant.
		s = strconv.FormatFloat(v, 'f', -1, 64)
	case json.Number:
		s = string(v)
	default:
		return nil, invalidValue(name, "want a string, got %s", describe(v))
	}
	if a.Strict {
		return canonical(a, s, name)
	}
	return s, nil
}

// canonical returns the canonical value of a that s is (ignoring case
// unless a is caseExact), in its canonical spelling, or 400 invalidValue.
func canonical(a *schema.Attr, s, name string) (any, *scimerr.Error) {
	for _, c := range a.CanonicalValues {
		if c == s || (!a.CaseExact && strings.EqualFold(c, s)) {
			return c, nil
		}
	}
	return nil, invalidValue(name, "%s is not one of %s", describe(s), strings.Join(a.CanonicalValues, ", "))
}

// coerceComplex converts an object for complex attribute a: sub-attribute
// names made canonical, unknown and read-only sub-attributes dropped (ids
// and $ref sent back to us), null sub-attributes dropped. A bare scalar for
// an attribute with a "value" sub-attribute is that sub-attribute (Entra
// sends manager as a bare id, the validator members as bare ids).
func coerceComplex(a *schema.Attr, v any, name string) (any, *scimerr.Error) {
	m, ok := v.(map[string]any)
	if !ok {
		switch v.(type) {
		case string:
			vs := a.Sub("value")
			if vs == nil {
				return nil, invalidValue(name, "want an object, got %s", describe(v))
			}
			c, err := coerceOne(vs, v, name+".value")
			if err != nil {
				return nil, err
			}
			return map[string]any{vs.Name: c}, nil
		}
		return nil, invalidValue(name, "want an object, got %s", describe(v))
	}
	out := make(map[string]any, len(m))
	for k, sv := range m {
		s := a.Sub(k)
		if s == nil || s.Mutability == schema.ReadOnly || sv == nil {
			continue
		}
		c, err := coerceOne(s, sv, name+"."+s.Name)
		if err != nil {
			return nil, err
		}
		if c != nil {
			out[s.Name] = c
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func describe(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return "a value of another type"
}

// CopyObject returns a deep copy of a JSON object: a copy whose maps and
// lists the caller may change without changing m.
func CopyObject(m map[string]any) map[string]any { return copyMap(m) }

// deepCopy copies a JSON-shaped value.
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return copyMap(v)
	case []any:
		out := make([]any, len(v))
		for i, el := range v {
			out[i] = deepCopy(el)
		}
		return out
	}
	return v
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, el := range m {
		out[k] = deepCopy(el)
	}
	return out
}

// equal reports whether two JSON-shaped values are equal. Numbers compare
// by value whether float64, json.Number or int.
func equal(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok || len(a) != len(bm) {
			return false
		}
		for k, av := range a {
			bv, ok := bm[k]
			if !ok || !equal(av, bv) {
				return false
			}
		}
		return true
	case []any:
		bl, ok := b.([]any)
		if !ok || len(a) != len(bl) {
			return false
		}
		for i := range a {
			if !equal(a[i], bl[i]) {
				return false
			}
		}
		return true
	case string:
		bs, ok := b.(string)
		return ok && a == bs
	case bool:
		bb, ok := b.(bool)
		return ok && a == bb
	case nil:
		return b == nil
	}
	af, aok := store.Number(a)
	bf, bok := store.Number(b)
	return aok && bok && af == bf
}

// stampValue turns a filter value into the value stored for it.
func stampValue(v any) any {
	if t, ok := v.(time.Time); ok {
		return t.Format(time.RFC3339Nano)
	}
	return v
}
