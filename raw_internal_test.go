package scim

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/internal/jsonenc"
	"github.com/scimkit/scim/store"
	"github.com/scimkit/scim/store/memory"
)

// TestRawUserDocCopiesCanonicalBytes checks that the stores' own encoding
// is copied (the fast path is taken) and that any other form is refused
// with nothing written, for the caller to decode: raw_test.go checks that
// both paths answer the same bytes, which a path never taken would pass.
func TestRawUserDocCopiesCanonicalBytes(t *testing.T) {
	h, err := NewHandler(memory.New(), RolePolicy{}, Config{Authenticator: NewStaticTokens()})
	if err != nil {
		t.Fatal(err)
	}
	attrs := store.Attributes{
		"userName": "a@example.com",
		"name":     map[string]any{"givenName": "A"},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{"department": "R&D"},
	}
	canonical, err := json.Marshal(attrs)
	if err != nil {
		t.Fatal(err)
	}
	indented, _ := json.MarshalIndent(attrs, "", " ")
	escapedKey := []byte(`{"a\u003cb":1}`)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		raw   []byte
		taken bool
	}{
		{"json.Marshal's bytes", canonical, true},
		{"no attributes", nil, true},
		{"indented", indented, false},
		{"an escaped key", escapedKey, false},
		{"not an object", []byte(`["a"]`), false},
	}
	for _, tt := range tests {
		r := &request{Request: httptest.NewRequest("GET", "/Users/u1", nil), base: "https://h/scim/v2"}
		u := store.User{ID: "u1", Meta: store.Meta{Created: now, LastModified: now, Version: 3}}
		d := &rawUserDoc{h: h, r: r, u: &u, raw: tt.raw}
		got, taken, err := d.appendStored(nil)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if taken != tt.taken {
			t.Errorf("%s: appendStored took the stored bytes: %v, want %v", tt.name, taken, tt.taken)
		}
		if !tt.taken && len(got) > 0 {
			t.Errorf("%s: refused, but wrote %q", tt.name, got)
		}
		if tt.taken && !json.Valid(got) {
			t.Errorf("%s: wrote invalid JSON %q", tt.name, got)
		}
	}
}

// TestGroupMembersEncodedAsMaps checks that a group's members list encoded
// straight to JSON (memberRefs) is, byte for byte, what json.Marshal and
// jsonenc write for the maps renderGroup builds when a projection names a
// sub-attribute of members.
func TestGroupMembersEncodedAsMaps(t *testing.T) {
	h, err := NewHandler(memory.New(), RolePolicy{}, Config{Authenticator: NewStaticTokens()})
	if err != nil {
		t.Fatal(err)
	}
	sub := projection{exclude: []store.Path{{Name: "members", Sub: "nothing"}}}
	bases := []string{"https://h.example/scim/v2", "http://h.example/t/a&b<c>/scim/v2", "https://" + strings.Repeat("long.", 40) + "example"}
	tests := []struct {
		name    string
		members []store.Member
	}{
		{"none", []store.Member{}},
		{"one", []store.Member{{Value: "u1"}}},
		{"display", []store.Member{{Value: "u1", Display: "Ada Lovelace"}, {Value: "u2"}}},
		{"escaping", []store.Member{
			{Value: "a/b c?d", Display: `R&D <ops> "x" \ é ` + "\u2028\t"},
			{Value: "ü&<>", Display: "\x01"},
		}},
	}
	for _, base := range bases {
		r := &request{Request: httptest.NewRequest("GET", "/Groups/g1", nil), base: base}
		for _, tt := range tests {
			t.Run(tt.name+" at "+base, func(t *testing.T) {
				g := &store.Group{ID: "g1", Attributes: store.Attributes{"displayName": "G"}, Members: tt.members}
				maps := h.renderGroup(r, g, sub)["members"]
				if _, ok := maps.([]any); !ok {
					t.Fatalf("with a members sub-attribute projection: members is %T, want []any", maps)
				}
				refs := h.renderGroup(r, g, projection{})["members"]
				if _, ok := refs.(memberRefs); !ok {
					t.Fatalf("without a projection: members is %T, want memberRefs", refs)
				}
				want, err := json.Marshal(maps)
				if err != nil {
					t.Fatal(err)
				}
				for name, encode := range map[string]func(any) ([]byte, error){"json": json.Marshal, "jsonenc": jsonenc.Marshal} {
					got, err := encode(refs)
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(string(want), string(got)); diff != "" {
						t.Errorf("%s encoding of memberRefs (-maps +refs):\n%s", name, diff)
					}
				}
			})
		}
	}
}
