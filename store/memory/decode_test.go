package memory

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
)

func TestDecodeObjectMatchesUnmarshal(t *testing.T) {
	for _, in := range []string{
		`{}`, ` { } `, `{"a":1}`, `{"a":[1,-2.5e-7,true,false,null,"x",{"b":{}},[]]}`,
		`{"s":"\u003cb\u003e \"q\" \\ \/ \b\f\n\r\t \u00e9 \ud83d\ude00 \ud800 \ud800\u0041 \udc00"}`,
		`{"é":"ü","dup":1,"dup":2}`, `{"n":1e308,"z":0,"neg":-0}`,
	} {
		want := map[string]any{}
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatalf("json.Unmarshal(%s): %v", in, err)
		}
		got := map[string]any{}
		if !decodeObject([]byte(in), got) {
			t.Errorf("decodeObject(%s) refused valid input", in)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("decodeObject(%s) (-json.Unmarshal +got):\n%s", in, diff)
		}
	}
	for _, in := range []string{``, `[]`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":tru}`, `{"a":"\x01"}`, `{"a":"\q"}`, `{} x`, "{\"a\":\"\xff\"}", `{"a":1e400}`,
		`{"a":00}`, `{"a":01}`, `{"a":-01}`, `{"a":1.}`, `{"a":1.e5}`, `{"a":-}`, `{"a":1e}`, `{"a":1e+}`, `{"a":-.5}`} {
		if decodeObject([]byte(in), map[string]any{}) {
			t.Errorf("decodeObject(%q) accepted it", in)
		}
	}
}

// FuzzDecodeObject checks that whatever decodeObject accepts, it decodes
// as json.Unmarshal does.
func FuzzDecodeObject(f *testing.F) {
	f.Add([]byte(`{"a":[1,"x\u00e9",true,null,{"b":1e300}]}`))
	f.Add([]byte(`{"s":"\ud83d\ude00\ud800"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got := map[string]any{}
		if !decodeObject(data, got) {
			return
		}
		want := map[string]any{}
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatalf("decodeObject accepted %q, json.Unmarshal: %v", data, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("decodeObject(%q) (-json.Unmarshal +got):\n%s", data, diff)
		}
	})
}

func BenchmarkDecodeAttrs(b *testing.B) {
	u := &store.User{Attributes: store.Attributes{
		"userName": "user0000001@load.example.com", "active": true, "displayName": "Given1 Family1", "locale": "en-US",
		"externalId": "00u1000000001", "name": map[string]any{"givenName": "Given1", "familyName": "Family1"},
		"emails": []any{map[string]any{"primary": true, "value": "user0000001@load.example.com", "type": "work"},
			map[string]any{"primary": false, "value": "home1@example.org", "type": "home"}},
	}}
	enc, err := encodeAttrs(u.Attributes)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("decodeAttrs", func(b *testing.B) {
		for b.Loop() {
			decodeAttrs(enc)
		}
	})
	b.Run("json.Unmarshal", func(b *testing.B) {
		for b.Loop() {
			a := store.Attributes{}
			if err := json.Unmarshal(enc, &a); err != nil {
				b.Fatal(err)
			}
		}
	})
}
