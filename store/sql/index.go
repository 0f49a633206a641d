package sqlstore

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/scimkit/scim/internal/jsonenc"
	"github.com/scimkit/scim/store"
)

// The filter document (column fdoc) is derived from a resource's
// attributes on every write, so that filters and sorting on any attribute
// run in SQL with one shape of JSON per engine:
//
//	{
//	  "v": {KEY: [ENTRY, ...]},       // store.Lookup(attrs, path), one entry per value
//	  "o": {KEY: "sort key"},         // store.SortKey for path, as a byte-ordered string
//	  "e": {KEY: [{"v": {...}}, ...]} // elements of a multi-valued or complex
//	                                  // attribute, each indexed like the resource,
//	                                  // for value-path filters
//	}
//
// KEY is pathKey(path); an ENTRY describes one value by kind:
//
//	{"s": exact, "f": folded, "t": time}  a string ("t" when it parses as RFC 3339)
//	{"n": number} {"b": 0 or 1}           a number, a boolean
//	{}                                    a complex or list value
//
// plus "p": 1 when the value is present in the sense of the "pr" operator.

// fold returns s as compared case-insensitively: the same folding as
// store.Eval.
func fold(s string) string { return store.Fold(s) }

// timeKey formats t so that byte order is time order.
func timeKey(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

// pathKey encodes p as a key of the filter document. The result contains
// only [A-Za-z0-9:._%/-], so it can sit inside a quoted JSON path literal
// in SQL text unescaped.
func pathKey(p store.Path) string {
	return keyPart(p.URN) + "/" + keyPart(p.Name) + "/" + keyPart(p.Sub)
}

func keyPart(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ':' || c == '.' || c == '_' || c == '-' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func entryOf(v any) map[string]any {
	e := map[string]any{}
	if store.Present(v) {
		e["p"] = 1
	}
	switch x := v.(type) {
	case string:
		e["s"] = x
		e["f"] = fold(x)
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
			e["t"] = timeKey(t)
		}
	case bool:
		if x {
			e["b"] = 1
		} else {
			e["b"] = 0
		}
	case time.Time:
		e["t"] = timeKey(x)
	default:
		if n, ok := store.Number(v); ok {
			e["n"] = n
		}
	}
	return e
}

// sortString encodes a sort key so that byte order of the encodings is the
// order of store.CompareSortKeys (case-insensitive for strings, ties
// broken by the exact string).
func sortString(v any) string {
	switch x := v.(type) {
	case bool:
		if x {
			return "1 1"
		}
		return "1 0"
	case string:
		return "3 " + fold(x) + "\x01" + x
	case time.Time:
		return "4 " + timeKey(x)
	}
	if n, ok := store.Number(v); ok {
		return "2 " + floatKey(n)
	}
	return "5"
}

// floatKey encodes f as 16 hex digits whose byte order is numeric order.
func floatKey(f float64) string {
	if f == 0 {
		f = 0 // -0 sorts as 0
	}
	bits := math.Float64bits(f)
	if bits>>63 == 1 {
		bits = ^bits
	} else {
		bits |= 1 << 63
	}
	return fmt.Sprintf("%016x", bits)
}

// paths lists every path at which store.Lookup finds something in attrs:
// each attribute, each sub-attribute of a complex value or of an element
// of a multi-valued one, and the same for the attributes of extension
// schemas (keys starting with "urn:").
func paths(attrs map[string]any, withURNs bool) []store.Path {
	var out []store.Path
	var walk func(urn string, m map[string]any)
	walk = func(urn string, m map[string]any) {
		for name, v := range m {
			if v == nil {
				continue
			}
			out = append(out, store.Path{URN: urn, Name: name})
			subs := map[string]bool{}
			collect := func(el any) {
				if em, ok := el.(map[string]any); ok {
					for k := range em {
						subs[k] = true
					}
				}
			}
			if list, ok := v.([]any); ok {
				for _, el := range list {
					collect(el)
				}
			} else {
				collect(v)
			}
			for sub := range subs {
				out = append(out, store.Path{URN: urn, Name: name, Sub: sub})
			}
			if ext, ok := v.(map[string]any); ok && withURNs && urn == "" && strings.HasPrefix(strings.ToLower(name), "urn:") {
				walk(name, ext)
			}
		}
	}
	walk("", attrs)
	return out
}

// valueIndex returns the "v" part of a filter document for attrs.
func valueIndex(attrs map[string]any, withURNs bool) map[string]any {
	v := map[string]any{}
	for _, p := range paths(attrs, withURNs) {
		vals := store.Lookup(attrs, p)
		if len(vals) == 0 {
			continue
		}
		entries := make([]any, len(vals))
		for i, val := range vals {
			entries[i] = entryOf(val)
		}
		v[pathKey(p)] = entries
	}
	return v
}

// filterDoc builds the filter document of a resource with attributes attrs.
func filterDoc(attrs map[string]any) ([]byte, error) {
	doc := map[string]any{"v": valueIndex(attrs, true)}
	order := map[string]any{}
	elems := map[string]any{}
	r := store.MapResolver(attrs)
	for _, p := range paths(attrs, true) {
		if k, ok := store.SortKey(r, p); ok {
			order[pathKey(p)] = sortString(k)
		}
		if p.Sub != "" {
			continue
		}
		raw := attrs[p.Name]
		if p.URN != "" {
			raw = attrs[p.URN].(map[string]any)[p.Name]
		}
		switch raw.(type) {
		case []any, map[string]any:
		default:
			continue // value paths on a simple single value are not indexed
		}
		var list []any
		for _, el := range store.Lookup(attrs, p) {
			m, ok := el.(map[string]any)
			if !ok {
				m = map[string]any{"value": el}
			}
			list = append(list, map[string]any{"v": valueIndex(m, false)})
		}
		if len(list) > 0 {
			elems[pathKey(p)] = list
		}
	}
	doc["o"] = order
	doc["e"] = elems
	return jsonenc.Marshal(doc)
}

// emailRow is one element of a user's emails, as stored in scim_emails.
type emailRow struct {
	value, typ *string
	primary    *bool
	bare       int // 1 for an element that is not an object
}

func emailRows(attrs map[string]any) []emailRow {
	var out []emailRow
	for _, el := range store.Lookup(attrs, store.Path{Name: "emails"}) {
		var r emailRow
		m, ok := el.(map[string]any)
		if !ok {
			m = map[string]any{"value": el}
			r.bare = 1
		}
		if s, ok := m["value"].(string); ok {
			r.value = &s
		}
		if s, ok := m["type"].(string); ok {
			r.typ = &s
		}
		if b, ok := m["primary"].(bool); ok {
			r.primary = &b
		}
		out = append(out, r)
	}
	return out
}

func foldPtr(s *string) *string {
	if s == nil {
		return nil
	}
	f := fold(*s)
	return &f
}

func stringAttr(attrs map[string]any, name string) *string {
	if s, ok := attrs[name].(string); ok {
		return &s
	}
	return nil
}

// nanos and fromNanos store times as Unix nanoseconds, the zero time as
// NULL.
func nanos(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	n := t.UnixNano()
	return &n
}

func fromNanos(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return time.Unix(0, *n).UTC()
}

func itoa(i int) string { return strconv.Itoa(i) }
