package sqlstore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/scimkit/scim/internal/jsonenc"
	"github.com/scimkit/scim/store"
)

// filterDocMaps is the filter document as it was first written, with maps
// and json.Marshal's key order: the definition that filterDoc, which writes
// the JSON directly, must match byte for byte. Documents stored by earlier
// versions were written by it.
func filterDocMaps(attrs map[string]any) ([]byte, error) {
	doc := map[string]any{"v": valueIndexMaps(attrs, true)}
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
			continue
		}
		var list []any
		for _, el := range store.Lookup(attrs, p) {
			m, ok := el.(map[string]any)
			if !ok {
				m = map[string]any{"value": el}
			}
			list = append(list, map[string]any{"v": valueIndexMaps(m, false)})
		}
		if len(list) > 0 {
			elems[pathKey(p)] = list
		}
	}
	doc["o"] = order
	doc["e"] = elems
	return jsonenc.Marshal(doc)
}

func valueIndexMaps(attrs map[string]any, withURNs bool) map[string]any {
	v := map[string]any{}
	for _, p := range paths(attrs, withURNs) {
		vals := store.Lookup(attrs, p)
		if len(vals) == 0 {
			continue
		}
		entries := make([]any, len(vals))
		for i, val := range vals {
			entries[i] = entryOfMaps(val)
		}
		v[pathKey(p)] = entries
	}
	return v
}

func entryOfMaps(v any) map[string]any {
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

// filterDocCases are resources of every shape the filter document meets.
func filterDocCases() map[string]map[string]any {
	ent := "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	// Elements with more distinct keys than paths finds by a scan.
	var many []any
	for i := range 30 {
		many = append(many, map[string]any{fmt.Sprint("k", i%12): i, "value": fmt.Sprint(i), fmt.Sprint("only", i): true})
	}
	return map[string]map[string]any{
		"empty":               {},
		"many sub-attributes": {"x": many, "m": many[0]},
		"okta user": {
			"userName": "Alice@Example.com", "externalId": "00u1", "active": true,
			"name":   map[string]any{"givenName": "Alice", "familyName": "Ünal", "formatted": "Alice Ünal"},
			"emails": []any{map[string]any{"value": "alice@example.com", "type": "work", "primary": true}, map[string]any{"value": "a@home.example", "type": "home", "primary": false}},
			ent:      map[string]any{"department": "R&D <core>", "employeeNumber": "42", "manager": map[string]any{"value": "m1", "displayName": "Boss"}},
		},
		"scalars of every kind": {
			"s": "x", "empty": "", "float": 1.5, "int": 7, "int64": int64(-3), "number": json.Number("12e3"),
			"bad number": json.Number("x"), "t": "2024-05-06T07:08:09.123Z", "offset": "2024-05-06T07:08:09+02:00",
			"time": time.Date(2020, 1, 2, 3, 4, 5, 6, time.UTC), "yes": true, "no": false, "nil": nil,
			"zero": 0.0, "negative zero": -0.0, "big": 1e300, "tiny": 5e-324,
		},
		"lists and maps": {
			"bare":       []any{"a", "B", 2.0, true, nil, []any{"nested"}, map[string]any{}},
			"empty list": []any{}, "empty map": map[string]any{},
			"mixed": []any{map[string]any{"value": "v", "x": nil}, "bare", map[string]any{"type": "t"}},
			"deep":  map[string]any{"a": map[string]any{"b": "c"}, "l": []any{1.0, 2.0}},
		},
		"keys to escape": {
			"x y": "1", "a/b": map[string]any{"c%d": "e", "f\"g": []any{"h"}}, `quote"d`: `v"\`,
			"URN:Upper:Case": map[string]any{"n": "u"}, "urn:not:a:map": "s", "ünï": "ç",
			"empty sub-attribute name": map[string]any{"": []any{}, "x": ""}, "": "empty name",
			"html": "<script>&</script>", "control": "a\x01\tb\u2028",
		},
		"extension lists": {
			ent: map[string]any{"list": []any{map[string]any{"value": "1", "primary": true}, map[string]any{"value": "2"}}, "empty": map[string]any{}},
		},
	}
}

func TestFilterDocMatchesTheMapEncoding(t *testing.T) {
	for name, attrs := range filterDocCases() {
		t.Run(name, func(t *testing.T) {
			checkFilterDoc(t, attrs)
		})
	}
}

// TestFilterDocRandom compares the two encodings on random resources.
func TestFilterDocRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 25))
	for i := range 2000 {
		attrs := randomAttrs(rng, 2)
		if !checkFilterDoc(t, attrs) {
			t.Fatalf("resource %d: %#v", i, attrs)
		}
	}
}

func checkFilterDoc(t *testing.T, attrs map[string]any) bool {
	t.Helper()
	want, wantErr := filterDocMaps(attrs)
	got, err := filterDoc(attrs)
	if (err != nil) != (wantErr != nil) {
		t.Errorf("filterDoc error %v, want %v", err, wantErr)
		return false
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("filterDoc (-want +got):\n%s", diff)
		return false
	}
	if !json.Valid(got) {
		t.Errorf("filterDoc wrote invalid JSON: %s", got)
		return false
	}
	return true
}

func randomAttrs(rng *rand.Rand, depth int) map[string]any {
	m := map[string]any{}
	for range rng.IntN(6) {
		m[randomKey(rng)] = randomValue(rng, depth)
	}
	return m
}

func randomKey(rng *rand.Rand) string {
	keys := []string{"userName", "emails", "value", "type", "primary", "name", "a b", "x/y", "%", "É",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "URN:x", "display"}
	return keys[rng.IntN(len(keys))]
}

func randomValue(rng *rand.Rand, depth int) any {
	n := 8
	if depth > 0 {
		n = 10
	}
	switch rng.IntN(n) {
	case 0:
		return nil
	case 1:
		return []string{"", "a", "Ab", "ſam", "2024-01-02T03:04:05Z", "\"<&>\"", "ß", "\x00"}[rng.IntN(8)]
	case 2:
		return rng.Float64()*2000 - 1000
	case 3:
		return rng.IntN(2) == 0
	case 4:
		return float64(rng.IntN(3))
	case 5:
		return time.Unix(rng.Int64N(1<<32), rng.Int64N(1e9))
	case 6:
		return json.Number(fmt.Sprint(rng.IntN(100)))
	case 7:
		return []any{}
	case 8:
		return randomAttrs(rng, depth-1)
	default:
		list := make([]any, rng.IntN(4))
		for i := range list {
			list[i] = randomValue(rng, depth-1)
		}
		return list
	}
}

// TestPathsOncePerPath checks paths against a plain set of what it must
// list: each non-nil attribute, each key of its map or of its elements'
// maps, and the same inside extension schemas.
func TestPathsOncePerPath(t *testing.T) {
	want := func(attrs map[string]any) []string {
		set := map[string]bool{}
		var walk func(urn string, m map[string]any)
		walk = func(urn string, m map[string]any) {
			for name, v := range m {
				if v == nil {
					continue
				}
				set[pathKey(store.Path{URN: urn, Name: name})] = true
				els := []any{v}
				if list, ok := v.([]any); ok {
					els = list
				}
				for _, el := range els {
					if em, ok := el.(map[string]any); ok {
						for k := range em {
							set[pathKey(store.Path{URN: urn, Name: name, Sub: k})] = true
						}
					}
				}
				if ext, ok := v.(map[string]any); ok && urn == "" && strings.HasPrefix(strings.ToLower(name), "urn:") {
					walk(name, ext)
				}
			}
		}
		walk("", attrs)
		return slices.Sorted(maps.Keys(set))
	}
	got := func(attrs map[string]any) []string {
		var keys []string
		for _, p := range paths(attrs, true) {
			keys = append(keys, pathKey(p))
		}
		slices.Sort(keys)
		return keys
	}
	cases := filterDocCases()
	rng := rand.New(rand.NewPCG(11, 25))
	for i := range 500 {
		cases[fmt.Sprint("random ", i)] = randomAttrs(rng, 2)
	}
	for name, attrs := range cases {
		if diff := cmp.Diff(want(attrs), got(attrs), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: paths (-want +got):\n%s", name, diff)
		}
	}
}

// BenchmarkFilterDoc encodes the filter document of Okta's user both ways.
func BenchmarkFilterDoc(b *testing.B) {
	attrs := filterDocCases()["okta user"]
	for _, enc := range []struct {
		name string
		fn   func(map[string]any) ([]byte, error)
	}{{"direct", filterDoc}, {"maps", filterDocMaps}} {
		b.Run(enc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := enc.fn(attrs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzFilterDoc compares the two encodings on resources decoded from JSON,
// numbers as float64 and as json.Number.
func FuzzFilterDoc(f *testing.F) {
	for _, attrs := range filterDocCases() {
		if raw, err := json.Marshal(attrs); err == nil {
			f.Add(raw)
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var plain map[string]any
		if json.Unmarshal(raw, &plain) != nil {
			return
		}
		checkFilterDoc(t, plain)
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var numbers map[string]any
		if dec.Decode(&numbers) == nil {
			checkFilterDoc(t, numbers)
		}
	})
}
