package jsonenc

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// encodeCases are values a response can hold; Marshal must write each
// exactly as json.Marshal does.
func encodeCases() []any {
	var all strings.Builder
	for c := range 0x80 {
		all.WriteByte(byte(c))
	}
	return []any{
		nil, true, false, "", "plain", all.String(), "<script>&amp;</script>", "line\u2028sep\u2029",
		"bad\xffutf8\xc3", "émoji 😀 ü", "\u007f\u0080",
		0.0, 1.0, -1.5, 1e20, 1e21, 1e-6, 1e-7, 123456789.125, math.MaxFloat64, math.SmallestNonzeroFloat64, -0.0000001,
		json.Number("12"), json.Number("-0.5e+10"), json.Number(""), 7, int64(-9),
		map[string]any{}, map[string]any(nil), []any{}, []any(nil), []string{"a", "<b>"}, []string(nil),
		map[string]any{"z": 1.0, "a": []any{map[string]any{"value": "x", "primary": true}}, "M": nil, "é": "ü",
			"meta": map[string]any{"version": `W/"3"`, "location": "http://h/Users/1?x=<y>"}},
		struct {
			A string `json:"a"`
		}{"fallback"},
		map[string]string{"k": "v"},
	}
}

func TestEncodeJSONMatchesMarshal(t *testing.T) {
	for _, v := range encodeCases() {
		want, wantErr := json.Marshal(v)
		got, err := Marshal(v)
		if (err != nil) != (wantErr != nil) {
			t.Errorf("Marshal(%#v) error %v, json.Marshal error %v", v, err, wantErr)
			continue
		}
		if string(got) != string(want) {
			t.Errorf("Marshal(%#v)\n got %s\nwant %s", v, got, want)
		}
	}
	for _, bad := range []any{math.NaN(), math.Inf(1), json.Number("1x"), map[string]any{"a": []any{math.Inf(-1)}}} {
		if _, err := Marshal(bad); err == nil {
			t.Errorf("Marshal(%v) succeeded, json.Marshal fails", bad)
		}
	}
}

func FuzzEncodeJSON(f *testing.F) {
	f.Add([]byte(`{"a":[1,"x",true,null,{"b":1e300}]}`))
	f.Add([]byte(`"\u2028<\u0001>"`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if json.Unmarshal(data, &v) != nil {
			return
		}
		want, _ := json.Marshal(v)
		got, err := Marshal(v)
		if err != nil || string(got) != string(want) {
			t.Fatalf("Marshal(%s) = %s, %v; json.Marshal = %s", data, got, err, want)
		}
	})
}

func BenchmarkEncodeJSON(b *testing.B) {
	doc := map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "id": "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
		"userName": "user0000001@load.example.com", "active": true, "displayName": "Given1 Family1", "locale": "en-US",
		"externalId": "00u1000000001", "name": map[string]any{"givenName": "Given1", "familyName": "Family1"},
		"emails": []any{map[string]any{"primary": true, "value": "user0000001@load.example.com", "type": "work"},
			map[string]any{"primary": false, "value": "home1@example.org", "type": "home"}},
		"meta": map[string]any{"resourceType": "User", "created": "2026-11-25T12:00:00Z", "lastModified": "2026-11-25T12:00:00Z",
			"location": "http://127.0.0.1:8080/scim/v2/Users/0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "version": `W/"1"`},
	}
	b.Run("Marshal", func(b *testing.B) {
		for b.Loop() {
			if _, err := Marshal(doc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.Marshal(doc); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestAppendConcatMatchesMarshalOfTheWhole(t *testing.T) {
	parts := []string{"", "http://h:8080/scim/v2", "/Users/", "a%20b", "<&>", "é😀", "\u2028", "\"quoted\"\\", "\x01\x1f"}
	for _, a := range parts {
		for _, b := range parts {
			want, _ := json.Marshal(a + "-" + b)
			if got := AppendConcat(nil, a, "-", b); string(got) != string(want) {
				t.Errorf("AppendConcat(%q, \"-\", %q) = %s, want %s", a, b, got, want)
			}
		}
	}
}

// rawList appends its own encoding and tells when it was asked to.
type rawList struct {
	enc    string
	called *int
}

func (r rawList) AppendJSON(b []byte) ([]byte, error) { *r.called++; return append(b, r.enc...), nil }

func TestAppendCallsAppender(t *testing.T) {
	var called int
	v := map[string]any{"b": rawList{`[{"x":1}]`, &called}, "a": []any{rawList{`"s"`, &called}}}
	got, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a":["s"],"b":[{"x":1}]}`; string(got) != want || called != 2 {
		t.Errorf("Marshal = %s with %d AppendJSON calls, want %s with 2", got, called, want)
	}
}
