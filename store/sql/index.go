package sqlstore

import (
	"fmt"
	"math"
	"slices"
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
	i := 0
	for i < len(s) && keyByte(s[i]) {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s[:i])
	for ; i < len(s); i++ {
		if c := s[i]; keyByte(c) {
			b = append(b, c)
		} else {
			b = fmt.Appendf(b, "%%%02X", c)
		}
	}
	return string(b)
}

// keyByte reports whether c stands for itself in a path key.
func keyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ':' || c == '.' || c == '_' || c == '-'
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
			// Each key of the value's map, or of its elements' maps, once
			// (Sub "" would be the attribute itself, listed above).
			subsFrom := len(out)
			els := []any{v}
			if list, ok := v.([]any); ok {
				els = list
			}
			for _, el := range els {
				if em, ok := el.(map[string]any); ok {
					for k := range em {
						if k != "" {
							out = append(out, store.Path{URN: urn, Name: name, Sub: k})
						}
					}
				}
			}
			if subs := out[subsFrom:]; len(subs) > 1 {
				slices.SortFunc(subs, func(a, b store.Path) int { return strings.Compare(a.Sub, b.Sub) })
				subs = slices.CompactFunc(subs, func(a, b store.Path) bool { return a.Sub == b.Sub })
				out = out[:subsFrom+len(subs)]
			}
			if ext, ok := v.(map[string]any); ok && withURNs && urn == "" && strings.HasPrefix(strings.ToLower(name), "urn:") {
				walk(name, ext)
			}
		}
	}
	walk("", attrs)
	return out
}

// keyedPath is a path of a resource with its key in the filter document
// and its values (store.Lookup), looked up once for the document's parts.
type keyedPath struct {
	p    store.Path
	key  string
	vals []any
}

// keyedPaths returns paths(attrs, withURNs) with their keys and values, in
// the order of the keys, which is the order of a JSON object's keys as
// json.Marshal writes them.
func keyedPaths(attrs map[string]any, withURNs bool) []keyedPath {
	ps := paths(attrs, withURNs)
	out := make([]keyedPath, len(ps))
	for i, p := range ps {
		out[i] = keyedPath{p: p, key: pathKey(p), vals: store.Lookup(attrs, p)}
	}
	slices.SortFunc(out, func(a, b keyedPath) int { return strings.Compare(a.key, b.key) })
	return out
}

// filterDoc builds the filter document of a resource with attributes
// attrs. It writes the JSON directly, keys sorted as json.Marshal sorts
// them: it runs in every create and update, on SQLite under the
// database's write lock.
func filterDoc(attrs map[string]any) ([]byte, error) {
	ps := keyedPaths(attrs, true)
	b := make([]byte, 0, 1024)
	b = append(b, `{"e":{`...)
	first := true
	for _, kp := range ps {
		if kp.p.Sub != "" {
			continue
		}
		raw := attrs[kp.p.Name]
		if kp.p.URN != "" {
			raw = attrs[kp.p.URN].(map[string]any)[kp.p.Name]
		}
		switch raw.(type) {
		case []any, map[string]any:
		default:
			continue // value paths on a simple single value are not indexed
		}
		if len(kp.vals) == 0 {
			continue
		}
		var err error
		if b, err = appendArray(b, kp.key, first, kp.vals, appendElement); err != nil {
			return nil, err
		}
		first = false
	}
	b = append(b, `},"o":{`...)
	first = true
	r := store.MapResolver(attrs)
	for _, kp := range ps {
		if k, ok := store.SortKey(r, kp.p); ok {
			b, first = appendKey(b, kp.key, first), false
			b = jsonenc.AppendString(b, sortString(k))
		}
	}
	b = append(b, `},"v":`...)
	b, err := appendValueIndex(b, ps)
	if err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// appendKey appends an object's key, after a comma unless it is the first.
func appendKey(b []byte, key string, first bool) []byte {
	if !first {
		b = append(b, ',')
	}
	b = jsonenc.AppendString(b, key)
	return append(b, ':')
}

// appendArray appends key and an array of vals, each appended by enc.
func appendArray(b []byte, key string, first bool, vals []any, enc func([]byte, any) ([]byte, error)) ([]byte, error) {
	b = appendKey(b, key, first)
	b = append(b, '[')
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = enc(b, v); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

// appendElement appends the index of one element of a multi-valued or
// complex attribute; an element that is not an object is indexed as its
// "value".
func appendElement(b []byte, el any) ([]byte, error) {
	m, ok := el.(map[string]any)
	if !ok {
		m = map[string]any{"value": el}
	}
	b = append(b, `{"v":`...)
	b, err := appendValueIndex(b, keyedPaths(m, false))
	if err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// appendValueIndex appends the "v" part of a filter document of a
// resource whose paths are ps: for each path, the entries of its values.
func appendValueIndex(b []byte, ps []keyedPath) ([]byte, error) {
	b = append(b, '{')
	first := true
	for _, kp := range ps {
		if len(kp.vals) == 0 {
			continue
		}
		var err error
		if b, err = appendArray(b, kp.key, first, kp.vals, appendEntry); err != nil {
			return nil, err
		}
		first = false
	}
	return append(b, '}'), nil
}

// rfc3339 parses s as an RFC 3339 time. Strings that cannot be one are
// turned down before time.Parse, which allocates its error.
func rfc3339(s string) (time.Time, bool) {
	if len(s) < len("2006-01-02T15:04:05Z") || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// appendEntry appends the ENTRY of one value (see the top of this file),
// its keys in the order b, f, n, p, s, t.
func appendEntry(b []byte, v any) ([]byte, error) {
	b = append(b, '{')
	switch x := v.(type) {
	case string:
		b = append(b, `"f":`...)
		b = jsonenc.AppendString(b, fold(x))
		if x != "" {
			b = append(b, `,"p":1`...)
		}
		b = append(b, `,"s":`...)
		b = jsonenc.AppendString(b, x)
		if t, ok := rfc3339(x); ok {
			b = append(b, `,"t":`...)
			b = jsonenc.AppendString(b, timeKey(t))
		}
	case bool:
		if x {
			b = append(b, `"b":1,"p":1`...)
		} else {
			b = append(b, `"b":0,"p":1`...)
		}
	case time.Time:
		b = append(b, `"p":1,"t":`...)
		b = jsonenc.AppendString(b, timeKey(x))
	default:
		if n, ok := store.Number(v); ok { // a number is present
			b = append(b, `"n":`...)
			var err error
			if b, err = jsonenc.Append(b, n); err != nil {
				return nil, err
			}
			b = append(b, `,"p":1`...)
		} else if store.Present(v) {
			b = append(b, `"p":1`...)
		}
	}
	return append(b, '}'), nil
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
