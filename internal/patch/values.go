package patch

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/scimkit/scim/internal/schema"
	"github.com/scimkit/scim/internal/scimerr"
	"github.com/scimkit/scim/store"
)

// This file keeps multi-valued attributes within bounds and free of
// repeats: RFC 7643 §2.4 says the same (type, value) SHOULD NOT be
// returned twice, and a list of thousands of values costs every later
// read and write.

// tooManyValues is the 413 for a multi-valued attribute over the limit.
func (e *engine) tooManyValues(urn string, a *schema.Attr) *scimerr.Error {
	name := a.Name
	if urn != "" {
		name = urn + ":" + a.Name
	}
	return scimerr.New(http.StatusRequestEntityTooLarge, scimerr.TooMany,
		"attribute %q may hold at most %d values", name, e.opts.maxValues())
}

// touch records that the request changed multi-valued attribute a of
// the container of schema urn ("" for the core schema); finishValues
// de-duplicates and counts it. A list over the limit is refused at once,
// so that no operation works on more values than allowed.
func (e *engine) touch(urn string, a *schema.Attr) *scimerr.Error {
	c := e.container(urn, false)
	if list, _ := c[a.Name].([]any); len(list) > e.opts.maxValues() {
		// Repeats do not count: remove them before refusing.
		if list = dedupe(a, list); len(list) > e.opts.maxValues() {
			return e.tooManyValues(urn, a)
		}
		c[a.Name] = list
	}
	for _, t := range e.touched {
		if t.a == a && t.urn == urn {
			return nil
		}
	}
	e.touched = append(e.touched, touchedAttr{urn: urn, a: a})
	return nil
}

type touchedAttr struct {
	urn string
	a   *schema.Attr
}

// finishValues de-duplicates the multi-valued attributes the request
// changed, and refuses one left with more values than allowed.
func (e *engine) finishValues() *scimerr.Error {
	for _, t := range e.touched {
		c := e.container(t.urn, false)
		list, ok := c[t.a.Name].([]any)
		if !ok {
			continue
		}
		list = dedupe(t.a, list)
		if len(list) > e.opts.maxValues() {
			return e.tooManyValues(t.urn, t.a)
		}
		c[t.a.Name] = list
	}
	return nil
}

// dedupe removes from list, the values of multi-valued attribute a, the
// elements that repeat an earlier one: the same type and value, each
// compared as the schema says (caseExact or not); for an attribute
// without a value sub-attribute (addresses), the same sub-attributes but
// primary. The first is kept, and made primary when a repeat was. list is
// modified in place.
func dedupe(a *schema.Attr, list []any) []any {
	if len(list) < 2 {
		return list
	}
	var seen seenSet
	out := list[:0]
	for _, el := range list {
		k, ok := dupKey(a, el)
		if !ok {
			out = append(out, el)
			continue
		}
		if at := seen.find(k); at >= 0 {
			if m, ok := el.(map[string]any); ok && m["primary"] == true {
				out[at].(map[string]any)["primary"] = true
			}
			continue
		}
		seen.add(k, len(out))
		out = append(out, el)
	}
	clear(list[len(out):])
	return out
}

// seenSet maps keys to positions: a slice searched in turn while small, a
// map beyond.
type seenSet struct {
	keys  []string
	pos   []int
	index map[string]int
}

const smallSet = 8

func (s *seenSet) find(k string) int {
	if s.index != nil {
		if p, ok := s.index[k]; ok {
			return p
		}
		return -1
	}
	for i, have := range s.keys {
		if have == k {
			return s.pos[i]
		}
	}
	return -1
}

func (s *seenSet) add(k string, p int) {
	if s.index == nil && len(s.keys) < smallSet {
		s.keys, s.pos = append(s.keys, k), append(s.pos, p)
		return
	}
	if s.index == nil {
		s.index = make(map[string]int, 2*smallSet)
		for i, have := range s.keys {
			s.index[have] = s.pos[i]
		}
	}
	s.index[k] = p
}

// dupKey returns the key two elements of a share when they repeat each
// other, or false when el cannot be compared so (it is then kept).
func dupKey(a *schema.Attr, el any) (string, bool) {
	if a.Type != schema.Complex {
		return scalarKey(el, a.CaseExact)
	}
	m, ok := el.(map[string]any)
	if !ok {
		return "", false
	}
	if vs := a.Sub("value"); vs != nil {
		v, ok := scalarKey(m[vs.Name], vs.CaseExact)
		if !ok {
			return "", false
		}
		typeExact := true
		if ts := a.Sub("type"); ts != nil {
			typeExact = ts.CaseExact
		}
		t, ok := scalarKey(m["type"], typeExact)
		if !ok {
			return "", false
		}
		return t + "\x00" + v, true
	}
	names := make([]string, 0, len(m))
	for k := range m {
		if k != "primary" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		exact := true
		if s := a.Sub(k); s != nil {
			exact = s.CaseExact
		}
		v, ok := scalarKey(m[k], exact)
		if !ok {
			return "", false
		}
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(v)
		b.WriteByte(0)
	}
	return b.String(), true
}

// scalarKey returns the comparison key of a scalar value: its kind and
// text, strings case-folded unless caseExact.
func scalarKey(v any, caseExact bool) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "-", true
	case string:
		if !caseExact {
			v = store.Fold(v)
		}
		return "s" + v, true
	case bool:
		return "b" + strconv.FormatBool(v), true
	}
	if f, ok := store.Number(v); ok {
		return "n" + strconv.FormatFloat(f, 'g', -1, 64), true
	}
	return "", false
}
