package jsonenc

import (
	"encoding/json"
	"maps"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// over is what the handler merges into a stored user: keys before, between
// and after the stored ones, and one the stored attributes also have.
func over() map[string]any {
	return map[string]any{
		"id":      "u1",
		"meta":    map[string]any{"version": `W/"1"`, "location": "http://h/Users/u1"},
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"active":  false,
		"A":       "upper case sorts first",
		"~":       "sorts last",
		"<esc>":   "a key json.Marshal escapes",
	}
}

func TestAppendMergedMatchesMarshal(t *testing.T) {
	for _, v := range encodeCases() {
		m, ok := v.(map[string]any)
		if !ok || m == nil {
			continue
		}
		raw, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range []map[string]any{nil, {}, over()} {
			want := map[string]any{}
			maps.Copy(want, m)
			maps.Copy(want, o)
			wantJSON, err := json.Marshal(want)
			if err != nil {
				t.Fatal(err)
			}
			ms, ok := Members(raw, nil)
			if !ok {
				if hasEscapedKey(m) {
					continue
				}
				t.Fatalf("Members(%s) refused json.Marshal's encoding", raw)
			}
			got := AppendMerged(nil, ms, fields(t, o))
			if diff := cmp.Diff(string(wantJSON), string(got)); diff != "" {
				t.Errorf("AppendMerged(%s, %v) (-want +got):\n%s", raw, o, diff)
			}
		}
	}
}

// fields encodes m's values as AppendMerged takes them, sorted by key.
func fields(t testing.TB, m map[string]any) []Field {
	var out []Field
	for _, k := range sortedKeys(m, nil) {
		v, err := json.Marshal(m[k])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, Field{Key: k, Value: v})
	}
	return out
}

func hasEscapedKey(m map[string]any) bool {
	for k := range m {
		if b, _ := json.Marshal(k); string(b) != `"`+k+`"` {
			return true
		}
	}
	return false
}

func TestMembers(t *testing.T) {
	tests := []struct {
		raw  string
		want []string // key=value, nil when refused
	}{
		{``, []string{}},
		{`{}`, []string{}},
		{`{"a":1}`, []string{"a=1"}},
		{`{"a":"x,}\"y","b":[1,{"c":"]"}],"c":{"d":null},"e":true}`,
			[]string{`a="x,}\"y"`, `b=[1,{"c":"]"}]`, `c={"d":null}`, `e=true`}},
		{`{"b":1,"a":2}`, nil},       // keys out of order
		{`{"a":1,"a":2}`, nil},       // a repeated key
		{`{"a":1,}`, nil},            // a trailing comma
		{`{"a" :1}`, nil},            // white space
		{`{"a":1 }`, nil},            // white space after a value
		{`{"a\u003c":1}`, nil},       // an escaped key: its order is not its bytes'
		{`{"a":}`, nil},              // no value
		{`{"a":1`, nil},              // not closed
		{`[1]`, nil},                 // not an object
		{`{"a":"unterminated}`, nil}, // a string that does not end
		{`{"a":{"b":1}`, nil},        // a nested object that does not end
		{`{"a":1}{"b":2}`, nil},      // two objects
		{`{a:1}`, nil},               // a bare key
		{`{"a":1,"b":2,"c"}`, nil},   // a key without value
		{`{"a":[1,2],"b":"\\"}`, []string{`a=[1,2]`, `b="\\"`}},
	}
	for _, tt := range tests {
		ms, ok := Members([]byte(tt.raw), nil)
		var got []string
		if ok {
			got = []string{}
			for _, m := range ms {
				got = append(got, string(m.Key)+"="+string(m.Value))
			}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Members(%s) (-want +got):\n%s", tt.raw, diff)
		}
	}
}

// FuzzMerge checks that every object json.Marshal writes is accepted (but
// for escaped keys) and merged as json.Marshal would write the union, and
// that whatever Members accepts is rebuilt byte for byte.
func FuzzMerge(f *testing.F) {
	f.Add([]byte(`{"userName":"a@b.c","emails":[{"value":"x","primary":true}],"name":{"givenName":"A"}}`))
	f.Add([]byte(`{"zz":"\u2028","id":"stored id wins not","meta":{}}`))
	f.Add([]byte(`{"a":1 ,"b":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if ms, ok := Members(data, nil); ok {
			got := AppendMerged(nil, ms, nil)
			if len(data) == 0 {
				data = []byte("{}")
			}
			if string(got) != string(data) {
				t.Fatalf("Members accepted %s; rebuilt as %s", data, got)
			}
		}
		var m map[string]any
		if json.Unmarshal(data, &m) != nil || m == nil {
			return
		}
		raw, _ := json.Marshal(m)
		ms, ok := Members(raw, nil)
		if !ok {
			if !hasEscapedKey(m) {
				t.Fatalf("Members refused json.Marshal's %s", raw)
			}
			return
		}
		o := over()
		got := AppendMerged(nil, ms, fields(t, o))
		maps.Copy(m, o)
		want, _ := json.Marshal(m)
		if string(got) != string(want) {
			t.Fatalf("AppendMerged(%s) = %s; want %s", raw, got, want)
		}
	})
}
