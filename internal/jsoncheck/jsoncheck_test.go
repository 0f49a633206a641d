package jsoncheck

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheck(t *testing.T) {
	many := `{` + strings.Repeat(`"a0":1,`, 0)
	for i := range 40 {
		many += `"k` + strings.Repeat("x", i) + `":1,`
	}
	tests := []struct {
		name string
		in   string
		want Problem
	}{
		{"plain object", `{"userName":"a","emails":[{"value":"a@b","type":"work"}],"active":true,"n":-1.5e3}`, Problem{}},
		{"empty", `{}`, Problem{}},
		{"same name in sibling objects", `{"a":{"x":1},"b":{"x":1},"c":[{"x":1},{"x":2}]}`, Problem{}},
		{"valid pair and non-ASCII", `{"a":"\ud83d\ude00 ✓ é 😀"}`, Problem{}},
		{"duplicate", `{"active":true,"active":false}`, Problem{Kind: DuplicateKey, Offset: 15, Key: "active"}},
		{"duplicate other case", `{"active":true,"Active":false}`, Problem{Kind: DuplicateKey, Offset: 15, Key: "Active"}},
		{"duplicate escaped", `{"ab":1,"\u0061b":2}`, Problem{Kind: DuplicateKey, Offset: 8, Key: "ab"}},
		{"duplicate nested in a PATCH value", `{"Operations":[{"op":"replace","value":{"name":{"givenName":"a","givenname":"b"}}}]}`,
			Problem{Kind: DuplicateKey, Offset: 64, Key: "givenname"}},
		{"duplicate in a large object", many + `"kxxx":2}`, Problem{Kind: DuplicateKey, Offset: len(many), Key: "kxxx"}},
		{"large object without duplicates", many + `"z":2}`, Problem{}},
		{"invalid UTF-8", "{\"a\":\"x\xffy\"}", Problem{Kind: InvalidUTF8, Offset: 7}},
		{"UTF-8 encoded surrogate", "{\"a\":\"\xed\xa0\x80\"}", Problem{Kind: InvalidUTF8, Offset: 6}},
		{"invalid UTF-8 in a key", "{\"\xc3\":1}", Problem{Kind: InvalidUTF8, Offset: 2}},
		{"lone high surrogate", `{"a":"\ud800"}`, Problem{Kind: LoneSurrogate, Offset: 6}},
		{"high surrogate then letter", `{"a":"\ud800x"}`, Problem{Kind: LoneSurrogate, Offset: 6}},
		{"two high surrogates", `{"a":"\ud800\ud800"}`, Problem{Kind: LoneSurrogate, Offset: 6}},
		{"lone low surrogate", `{"a":"\uDC00"}`, Problem{Kind: LoneSurrogate, Offset: 6}},
		{"NUL", `{"userName":"a\u0000b"}`, Problem{Kind: NUL, Offset: 14}},
		{"NUL then duplicate", `{"a":"\u0000","a":1}`, Problem{Kind: DuplicateKey, Offset: 14, Key: "a"}},
		{"NUL in a broken text", `{"a":"\u0000",`, Problem{}},
		{"broken text", `{"a" 1}`, Problem{}},
		{"control character", "{\"a\":\"\x01\"}", Problem{}},
		{"deep", strings.Repeat("[", 20000) + strings.Repeat("]", 20000), Problem{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Check([]byte(tt.in))); diff != "" {
				t.Errorf("Check(%.60q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// FuzzCheck checks that Check never panics and that a text it finds
// nothing in still has no problem once encoding/json has read and
// rewritten it.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"\u00e9"}]}`, `{"a":"\ud800"}`, `{"a":1,"A":2}`, "\"\xff\"", `[`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		p := Check([]byte(in))
		var v any
		if json.Unmarshal([]byte(in), &v) != nil || p.Kind != OK {
			return
		}
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if q := Check(out); q.Kind != OK {
			t.Fatalf("Check(%q) = %+v for encoding/json's rewrite of %q", out, q, in)
		}
	})
}
