// Package patch applies SCIM PATCH requests (RFC 7644 §3.5.2) to a
// resource's attributes, in memory and atomically, and normalises the
// bodies of PUT and POST requests.
//
// It speaks the dialects identity providers really send: capitalised op
// names and attribute names in any case (Entra), booleans as "True" and
// "False", a bare id for manager or for a member, pathless values whose keys
// are dotted or URN-qualified paths, Add/Replace on a filtered path that
// creates the element (emails[type eq "work"].value), Entra's member
// removal by value list, Okta's removal by members[value eq "id"] and its
// empty push "replace members []".
//
// Group membership is never rewritten as a whole list: Apply returns the
// membership changes as an ordered list of MemberOp for the caller to apply
// incrementally through the store.
//
// # Choices where RFC 7644 and real clients disagree
//
//   - remove on a filtered path that matches nothing is a no-op, not
//     noTarget: identity providers retry removals and expect success.
//   - add or replace on a filtered path that matches nothing creates the
//     element only when the filter is type eq one of the canonical values
//     of the attribute's type sub-attribute (emails[type eq "work"].value:
//     Entra relies on it); the element gets that type. Any other filter
//     that matches nothing is 400 noTarget (RFC 7644 §3.5.2.3).
//   - In a pathless value, keys that are not attributes, read-only
//     attributes (id, meta, schemas, groups) and password are ignored:
//     Okta sends id and schemas back, Microsoft's validator sends junk.
//     A known attribute with a value of the wrong type is 400 invalidValue.
//   - With a path, read-only attributes are 400 mutability and unknown
//     attributes 400 invalidPath. password is accepted and dropped:
//     scimkit never stores passwords.
//   - A null value, or an empty list on replace, removes the attribute.
//   - Removing a required attribute (userName, displayName) is 400
//     invalidValue.
//   - Too many operations or member values, or a multi-valued attribute
//     left with more values than Options.MaxValues, is 413 with scimType
//     tooMany: the request as a whole is too large, not malformed.
//   - The values of a multi-valued attribute the request changes are
//     de-duplicated (RFC 7643 §2.4): two elements with the same type and
//     value (compared as the schema says, caseExact or not) are one, the
//     first kept, and primary when either was. Group members are
//     de-duplicated by value (see MemberOp).
package patch

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/scimkit/scim/internal/filter"
	"github.com/scimkit/scim/internal/schema"
	"github.com/scimkit/scim/internal/scimerr"
	"github.com/scimkit/scim/store"
)

// Default limits applied by the zero Options.
const (
	DefaultMaxOperations = 1000
	DefaultMaxMembers    = 10000
	DefaultMaxValues     = 1000
)

// Options bounds the requests Apply accepts. A zero field takes its
// default.
type Options struct {
	// MaxOperations is the maximum number of operations in one request.
	MaxOperations int
	// MaxMembers is the maximum number of member values, summed over all
	// operations of one request.
	MaxMembers int
	// MaxValues is the maximum number of values of a multi-valued
	// attribute other than members, counted in the result after repeats
	// are removed.
	MaxValues int
}

func (o Options) maxOperations() int { return orDefault(o.MaxOperations, DefaultMaxOperations) }
func (o Options) maxMembers() int    { return orDefault(o.MaxMembers, DefaultMaxMembers) }
func (o Options) maxValues() int     { return orDefault(o.MaxValues, DefaultMaxValues) }

func orDefault(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

// MemberOpKind says what a MemberOp does.
type MemberOpKind uint8

// The membership changes, mapping onto store.Tx methods.
const (
	// AddMembers adds Members (Tx.AddMembers).
	AddMembers MemberOpKind = iota + 1
	// RemoveMembers removes the members whose ids are Members[i].Value
	// (Tx.RemoveMembers).
	RemoveMembers
	// ReplaceMembers makes Members the whole membership
	// (Tx.ReplaceMembers). Members is never empty; see RemoveAllMembers.
	ReplaceMembers
	// RemoveAllMembers removes every member (Tx.ReplaceMembers with an
	// empty list).
	RemoveAllMembers
)

// String returns the kind's name, for logs.
func (k MemberOpKind) String() string {
	switch k {
	case AddMembers:
		return "add"
	case RemoveMembers:
		return "remove"
	case ReplaceMembers:
		return "replace"
	case RemoveAllMembers:
		return "removeAll"
	}
	return "MemberOpKind(" + strconv.Itoa(int(k)) + ")"
}

// MemberOp is one membership change of a group, to be applied in order.
// Consecutive changes of one request are merged, so that a request of 200
// Okta removals is one RemoveMembers.
type MemberOp struct {
	Kind    MemberOpKind
	Members []store.Member
}

// Result is the outcome of Apply.
type Result struct {
	// Attrs is the new attribute document: a copy, the input is never
	// modified. For a group it holds no members.
	Attrs store.Attributes
	// Members lists the membership changes in order (groups only).
	Members []MemberOp
	// Changed reports whether Attrs differs from the input attributes.
	// Membership changes are not counted: see Members.
	Changed bool
}

type opKind uint8

const (
	opAdd opKind = iota + 1
	opReplace
	opRemove
)

func (k opKind) String() string {
	switch k {
	case opAdd:
		return "add"
	case opReplace:
		return "replace"
	}
	return "remove"
}

type request struct {
	Operations []operation `json:"Operations"`
}

type operation struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

// Apply applies the PATCH request body (a PatchOp message) to attrs, the
// current attributes of a resource of type rt, and returns the new
// attributes. Either every operation applies or Apply returns an error, a
// *scimerr.Error; attrs is never modified.
//
// For a resource type with a members attribute (Group), member changes are
// returned in Result.Members instead of being applied to Attrs.
func Apply(rt *schema.ResourceType, attrs store.Attributes, body []byte, opts Options) (Result, error) {
	res, err := apply(rt, attrs, body, opts)
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

func apply(rt *schema.ResourceType, attrs store.Attributes, body []byte, opts Options) (Result, *scimerr.Error) {
	var req request
	if err := json.Unmarshal(body, &req); err != nil {
		return Result{}, scimerr.BadRequest(scimerr.InvalidSyntax, "invalid PatchOp body: %s", jsonErrDetail(err))
	}
	if len(req.Operations) > opts.maxOperations() {
		return Result{}, scimerr.New(http.StatusRequestEntityTooLarge, scimerr.TooMany,
			"a PATCH request may hold at most %d operations, got %d", opts.maxOperations(), len(req.Operations))
	}
	e := newEngine(rt, attrs, opts)
	for i, op := range req.Operations {
		var kind opKind
		switch {
		case strings.EqualFold(op.Op, "add"):
			kind = opAdd
		case strings.EqualFold(op.Op, "replace"):
			kind = opReplace
		case strings.EqualFold(op.Op, "remove"):
			kind = opRemove
		default:
			return Result{}, scimerr.BadRequest(scimerr.InvalidSyntax, "operation %d: unknown op %q", i, op.Op)
		}
		if err := e.op(kind, strings.TrimSpace(op.Path), op.Value); err != nil {
			err.Detail = "operation " + strconv.Itoa(i) + " (" + kind.String() + "): " + err.Detail
			return Result{}, err
		}
	}
	if err := e.finishValues(); err != nil {
		return Result{}, err
	}
	res := Result{Attrs: e.doc, Members: e.finishMembers()}
	orig := attrs
	if e.group {
		if _, ok := attrs["members"]; ok {
			orig = make(store.Attributes, len(attrs))
			for k, v := range attrs {
				if k != "members" {
					orig[k] = v
				}
			}
		}
	}
	res.Changed = !equal(map[string]any(orig), map[string]any(e.doc))
	return res, nil
}

func jsonErrDetail(err error) string {
	switch err := err.(type) {
	case *json.SyntaxError:
		return "malformed JSON at offset " + strconv.FormatInt(err.Offset, 10)
	case *json.UnmarshalTypeError:
		if err.Field != "" {
			return "member " + strconv.Quote(err.Field) + " has the wrong type"
		}
		return "not a JSON object"
	}
	return "malformed JSON"
}

// engine holds the document being patched.
type engine struct {
	rt    *schema.ResourceType
	doc   map[string]any
	opts  Options
	group bool
	// normalize is set when the engine builds a PUT/POST body: null
	// values are absent rather than removals.
	normalize bool
	members   []MemberOp
	nMembers  int
	// touched lists the multi-valued attributes the request changed.
	touched []touchedAttr
}

func newEngine(rt *schema.ResourceType, attrs store.Attributes, opts Options) *engine {
	e := &engine{rt: rt, opts: opts, group: rt.Core.Attr("members") != nil}
	e.doc = copyMap(attrs)
	if e.group {
		delete(e.doc, "members")
	}
	return e
}

func (e *engine) op(kind opKind, path string, value any) *scimerr.Error {
	if path == "" {
		if kind == opRemove {
			return scimerr.BadRequest(scimerr.NoTarget, "remove needs a path")
		}
		if value == nil {
			return nil
		}
		m, ok := value.(map[string]any)
		if !ok {
			return scimerr.BadRequest(scimerr.InvalidValue, "without a path the value must be an object of attributes, got %s", describe(value))
		}
		return e.object(kind, m, nil)
	}
	p, err := filter.ParsePath(e.rt, path)
	if err != nil {
		return err.(*scimerr.Error)
	}
	if p.Schema != "" {
		ext := e.rt.Extension(p.Schema)
		if kind == opRemove {
			delete(e.doc, ext.ID)
			return nil
		}
		if value == nil {
			delete(e.doc, ext.ID)
			return nil
		}
		m, ok := value.(map[string]any)
		if !ok {
			return invalidValue(ext.ID, "want an object of attributes, got %s", describe(value))
		}
		return e.object(kind, m, ext)
	}
	if p.Attr.Attr.Mutability == schema.ReadOnly || (p.Attr.Sub != nil && p.Attr.Sub.Mutability == schema.ReadOnly) {
		return scimerr.BadRequest(scimerr.Mutability, "attribute %q is read-only", p.Attr.Path.String())
	}
	if p.Attr.Attr.Discard {
		return nil // password: accepted, never stored
	}
	if e.group && p.Attr.Path.URN == "" && p.Attr.Attr.Name == "members" {
		return e.memberOp(kind, p, value)
	}
	return e.apply(kind, p.Attr, p.Filter, value)
}

// object applies a pathless value, or the value of a path naming a whole
// extension (ext set): each key is an attribute, a dotted or URN-qualified
// path, or a schema URN holding an object of that schema's attributes.
func (e *engine) object(kind opKind, m map[string]any, ext *schema.Schema) *scimerr.Error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// A stable order, and "name" before "name.givenName".
	sort.Strings(keys)
	for _, k := range keys {
		v := m[k]
		if v == nil && e.normalize {
			continue
		}
		full := k
		if ext != nil {
			full = ext.ID + ":" + k
		} else if urn, ok := e.rt.IsSchemaURN(k); ok {
			sub, isMap := v.(map[string]any)
			if !isMap {
				if v == nil {
					if s := e.rt.Extension(urn); s != nil {
						delete(e.doc, s.ID)
					}
					continue
				}
				return invalidValue(urn, "want an object of attributes, got %s", describe(v))
			}
			var s *schema.Schema
			if urn != e.rt.Core.ID {
				s = e.rt.Extension(urn)
			}
			if err := e.object(kind, sub, s); err != nil {
				return err
			}
			continue
		}
		if strings.ContainsRune(full, '[') {
			// Entra (aadOptscim062020) sends filtered paths as keys:
			// {"emails[type eq \"work\"].value": "x"}.
			if err := e.filteredKey(kind, full, v); err != nil {
				return err
			}
			continue
		}
		r, err := e.rt.Resolve(full)
		if err != nil {
			continue // not an attribute: ignored (see package doc)
		}
		if r.Attr.Mutability == schema.ReadOnly || (r.Sub != nil && r.Sub.Mutability == schema.ReadOnly) ||
			r.Attr.Discard {
			continue
		}
		if e.group && r.Path.URN == "" && r.Attr.Name == "members" {
			if err := e.memberOp(kind, filter.Path{Attr: r}, v); err != nil {
				return err
			}
			continue
		}
		if err := e.apply(kind, r, nil, v); err != nil {
			return err
		}
	}
	return nil
}

// filteredKey applies a key of a pathless value that is a filtered path
// as if it were the operation's path. Like other keys of a pathless value,
// one naming no writable attribute is ignored.
func (e *engine) filteredKey(kind opKind, key string, v any) *scimerr.Error {
	p, err := filter.ParsePath(e.rt, key)
	if err != nil || p.Schema != "" {
		return nil
	}
	a := p.Attr
	if a.Attr.Mutability == schema.ReadOnly || (a.Sub != nil && a.Sub.Mutability == schema.ReadOnly) ||
		a.Attr.Discard {
		return nil
	}
	if e.group && a.Path.URN == "" && a.Attr.Name == "members" {
		return e.memberOp(kind, p, v)
	}
	return e.apply(kind, a, p.Filter, v)
}

// container returns the map holding r's attribute: the document, or the
// extension's map, created when create is set.
func (e *engine) container(urn string, create bool) map[string]any {
	if urn == "" {
		return e.doc
	}
	c, ok := e.doc[urn].(map[string]any)
	if !ok && create {
		c = make(map[string]any, 4)
		e.doc[urn] = c
	}
	return c
}

// apply runs one operation on one attribute of the document.
func (e *engine) apply(kind opKind, r schema.Resolved, f store.Filter, value any) *scimerr.Error {
	a, name := r.Attr, r.Path.String()
	if value == nil && kind != opRemove {
		kind = opRemove // RFC 7644 §3.5.2.3: null is unassigned
	}
	if kind == opRemove && a.Required && f == nil && r.Sub == nil {
		return invalidValue(name, "required attribute cannot be removed")
	}
	c := e.container(r.Path.URN, kind != opRemove)
	if c == nil {
		return nil // removing from an absent extension
	}
	old, had := c[a.Name]
	var err *scimerr.Error
	switch {
	case f != nil:
		err = e.applyFiltered(kind, c, r, f, value)
	case r.Sub != nil:
		err = e.applySub(kind, c, r, value)
	default:
		err = e.applyWhole(kind, c, r, value)
	}
	if err != nil {
		return err
	}
	if a.Mutability == schema.Immutable && had && old != nil && !equal(old, c[a.Name]) {
		return scimerr.BadRequest(scimerr.Mutability, "attribute %q is immutable", name)
	}
	if a.MultiValued {
		if err := e.touch(r.Path.URN, a); err != nil {
			return err
		}
	}
	if r.Path.URN != "" && len(c) == 0 {
		delete(e.doc, r.Path.URN)
	}
	return nil
}

// applyWhole handles a path naming a whole attribute.
func (e *engine) applyWhole(kind opKind, c map[string]any, r schema.Resolved, value any) *scimerr.Error {
	a, name := r.Attr, r.Path.String()
	if kind == opRemove {
		if value != nil && a.MultiValued {
			return removeValues(c, r, value)
		}
		delete(c, a.Name)
		return nil
	}
	v, err := coerce(a, value, name)
	if err != nil {
		return err
	}
	switch {
	case a.MultiValued:
		list := dedupe(a, v.([]any))
		if len(list) > e.opts.maxValues() {
			return e.tooManyValues(r.Path.URN, a)
		}
		if primaries(list) > 1 {
			return invalidValue(name, "more than one value is primary")
		}
		if kind == opReplace {
			if len(list) == 0 {
				delete(c, a.Name)
			} else {
				c[a.Name] = list
			}
			return nil
		}
		// The values are appended; repeats of values already there are
		// removed when the request ends (finishValues), in one pass, the
		// first kept.
		cur, _ := c[a.Name].([]any)
		touched := make([]int, 0, len(list))
		for _, el := range list {
			cur = append(cur, el)
			touched = append(touched, len(cur)-1)
		}
		if len(cur) > 0 {
			c[a.Name] = cur
		}
		clearOtherPrimaries(cur, touched)
	case a.Type == schema.Complex:
		// add and replace on a complex attribute both merge: sub-attributes
		// not in the value are left as they are (RFC 7644 §3.5.2.1/3).
		if v == nil {
			return nil
		}
		cur, ok := c[a.Name].(map[string]any)
		if !ok {
			c[a.Name] = v
			return nil
		}
		for k, sv := range v.(map[string]any) {
			cur[k] = sv
		}
	default:
		c[a.Name] = v
	}
	return nil
}

// removeValues removes from a multi-valued attribute the elements listed
// in value (Entra: remove members [{"value": "id"}]). An element given with
// a "value" matches stored elements by value; otherwise it must equal one.
func removeValues(c map[string]any, r schema.Resolved, value any) *scimerr.Error {
	v, err := coerce(r.Attr, value, r.Path.String())
	if err != nil {
		return err
	}
	cur, _ := c[r.Attr.Name].([]any)
	out := cur[:0]
	for _, have := range cur {
		if !matchesAny(have, v.([]any)) {
			out = append(out, have)
		}
	}
	clear(cur[len(out):])
	if len(out) == 0 {
		delete(c, r.Attr.Name)
	} else {
		c[r.Attr.Name] = out
	}
	return nil
}

func matchesAny(have any, gone []any) bool {
	hm, _ := have.(map[string]any)
	for _, g := range gone {
		if gm, ok := g.(map[string]any); ok && hm != nil {
			if gv, ok := gm["value"]; ok {
				if equal(hm["value"], gv) {
					return true
				}
				continue
			}
		}
		if equal(have, g) {
			return true
		}
	}
	return false
}

// applySub handles "name.givenName" and, on a multi-valued attribute
// without filter, "emails.value" (every element).
func (e *engine) applySub(kind opKind, c map[string]any, r schema.Resolved, value any) *scimerr.Error {
	a, s, name := r.Attr, r.Sub, r.Path.String()
	var v any
	if kind != opRemove {
		var err *scimerr.Error
		if v, err = coerceOne(s, value, name); err != nil {
			return err
		}
		if s.MultiValued {
			return invalidValue(name, "multi-valued sub-attributes are not supported")
		}
	}
	if a.MultiValued {
		cur, _ := c[a.Name].([]any)
		if len(cur) == 0 {
			if kind == opRemove {
				return nil
			}
			c[a.Name] = []any{map[string]any{s.Name: v}}
			return nil
		}
		var touched []int
		for i, el := range cur {
			m, ok := el.(map[string]any)
			if !ok {
				continue
			}
			if kind == opRemove {
				delete(m, s.Name)
			} else {
				m[s.Name] = v
				touched = append(touched, i)
			}
		}
		if s.Name == "primary" && v == true && len(touched) > 1 {
			return invalidValue(name, "more than one value would be primary")
		}
		return nil
	}
	m, ok := c[a.Name].(map[string]any)
	if kind == opRemove {
		if ok {
			delete(m, s.Name)
			if len(m) == 0 {
				delete(c, a.Name)
			}
		}
		return nil
	}
	if !ok {
		m = make(map[string]any, 2)
		c[a.Name] = m
	}
	m[s.Name] = v
	return nil
}

// applyFiltered handles emails[type eq "work"] and
// emails[type eq "work"].value.
func (e *engine) applyFiltered(kind opKind, c map[string]any, r schema.Resolved, f store.Filter, value any) *scimerr.Error {
	a, s, name := r.Attr, r.Sub, r.Path.String()
	cur, _ := c[a.Name].([]any)
	var matched []int
	for i, el := range cur {
		m, ok := el.(map[string]any)
		if !ok {
			m = map[string]any{"value": el}
		}
		if store.Eval(f, store.MapResolver(m)) {
			matched = append(matched, i)
		}
	}
	if kind == opRemove {
		if len(matched) == 0 {
			return nil // see package doc: a no-op, not noTarget
		}
		if s == nil {
			out := cur[:0]
			j := 0
			for i, el := range cur {
				if j < len(matched) && matched[j] == i {
					j++
					continue
				}
				out = append(out, el)
			}
			clear(cur[len(out):])
			if len(out) == 0 {
				delete(c, a.Name)
			} else {
				c[a.Name] = out
			}
			return nil
		}
		for _, i := range matched {
			if m, ok := cur[i].(map[string]any); ok {
				delete(m, s.Name)
			}
		}
		return nil
	}

	// add or replace: compute the new content first.
	var sv any
	var obj map[string]any
	if s != nil {
		v, err := coerceOne(s, value, name)
		if err != nil {
			return err
		}
		sv = v
	} else {
		v, err := coerceOne(a, value, name)
		if err != nil {
			return err
		}
		if a.Type != schema.Complex {
			// A multi-valued simple attribute: the element is the value,
			// and there is no type to create one of.
			if len(matched) == 0 {
				return scimerr.BadRequest(scimerr.NoTarget, "no value of %q matches the filter", a.Name)
			}
			for _, i := range matched {
				cur[i] = v
			}
			c[a.Name] = cur
			return nil
		}
		obj, _ = v.(map[string]any)
	}
	if len(matched) == 0 {
		el, ok := creatable(a, f)
		if !ok {
			return scimerr.BadRequest(scimerr.NoTarget,
				"no value of %q matches the filter; only a filter type eq one of the canonical types (%s) creates one",
				a.Name, strings.Join(canonicalTypes(a), ", "))
		}
		cur = append(cur, el)
		matched = append(matched, len(cur)-1)
		c[a.Name] = cur
	}
	for _, i := range matched {
		el, ok := cur[i].(map[string]any)
		if !ok {
			continue
		}
		switch {
		case s != nil:
			el[s.Name] = sv
		case kind == opReplace:
			// The element is replaced; fields the filter selected on are
			// kept so that it still answers to the filter.
			repl := make(map[string]any, len(obj)+2)
			stamp(f, repl)
			for k, ov := range obj {
				repl[k] = ov
			}
			cur[i] = repl
		default:
			for k, ov := range obj {
				el[k] = ov
			}
		}
	}
	if primaries(pick(cur, matched)) > 1 {
		return invalidValue(name, "more than one value would be primary")
	}
	clearOtherPrimaries(cur, matched)
	return nil
}

func pick(list []any, idx []int) []any {
	out := make([]any, 0, len(idx))
	for _, i := range idx {
		out = append(out, list[i])
	}
	return out
}

// creatable returns the element an add or replace on a filtered path that
// matched nothing creates, and whether it may: only for a filter
// 'type eq "v"' where v is one of the canonical values of the attribute's
// type sub-attribute (emails[type eq "work"], which Entra relies on), in
// their spelling. Any other filter names no element that could exist, and
// RFC 7644 §3.5.2 answers noTarget.
func creatable(a *schema.Attr, f store.Filter) (map[string]any, bool) {
	c, ok := f.(store.Compare)
	if !ok || c.Op != store.Eq || c.Path.URN != "" || c.Path.Sub != "" || !strings.EqualFold(c.Path.Name, "type") {
		return nil, false
	}
	v, ok := c.Value.(string)
	if !ok {
		return nil, false
	}
	for _, t := range canonicalTypes(a) {
		if strings.EqualFold(t, v) {
			return map[string]any{"type": t}, true
		}
	}
	return nil, false
}

// canonicalTypes returns the canonical values of a's type sub-attribute.
func canonicalTypes(a *schema.Attr) []string {
	if t := a.Sub("type"); t != nil {
		return t.CanonicalValues
	}
	return nil
}

// stamp writes into el the values a conjunction of "eq" comparisons
// requires, and reports whether f is such a conjunction.
func stamp(f store.Filter, el map[string]any) bool {
	switch f := f.(type) {
	case store.Compare:
		if f.Op != store.Eq || f.Path.Sub != "" || f.Path.URN != "" {
			return false
		}
		el[f.Path.Name] = stampValue(f.Value)
		return true
	case store.And:
		return stamp(f.Left, el) && stamp(f.Right, el)
	}
	return false
}

func primaries(list []any) int {
	n := 0
	for _, el := range list {
		if m, ok := el.(map[string]any); ok && m["primary"] == true {
			n++
		}
	}
	return n
}

// clearOtherPrimaries sets primary to false on every element not in
// touched when a touched element is primary (RFC 7644 §3.5.2: at most one
// primary value).
func clearOtherPrimaries(list []any, touched []int) {
	keep := -1
	for _, i := range touched {
		if m, ok := list[i].(map[string]any); ok && m["primary"] == true {
			keep = i
		}
	}
	if keep < 0 {
		return
	}
	for i, el := range list {
		if m, ok := el.(map[string]any); ok && i != keep && m["primary"] == true {
			m["primary"] = false
		}
	}
}
