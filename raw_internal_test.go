package scim

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/scimkit/scim/store"
	"github.com/scimkit/scim/store/memory"
)

// TestWriteUserRawCopiesCanonicalBytes checks that the stores' own encoding
// is copied (the fast path is taken) and that any other form is refused
// with nothing written, for the caller to decode: raw_test.go checks that
// both paths answer the same bytes, which a path never taken would pass.
func TestWriteUserRawCopiesCanonicalBytes(t *testing.T) {
	h, err := NewHandler(memory.New(), RolePolicy{}, Config{Authenticator: NewTokenSet()})
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
		w := httptest.NewRecorder()
		r := &request{Request: httptest.NewRequest("GET", "/Users/u1", nil), base: "https://h/scim/v2"}
		u := store.User{ID: "u1", Meta: store.Meta{Created: now, LastModified: now, Version: 3}}
		if got := h.writeUserRaw(w, r, &u, tt.raw, nil); got != tt.taken {
			t.Errorf("%s: writeUserRaw = %v, want %v", tt.name, got, tt.taken)
		}
		if !tt.taken && (w.Body.Len() > 0 || len(w.Header()) > 0) {
			t.Errorf("%s: refused, but wrote %v %q", tt.name, w.Header(), w.Body)
		}
		if tt.taken && !json.Valid(w.Body.Bytes()) {
			t.Errorf("%s: wrote invalid JSON %q", tt.name, w.Body)
		}
	}
}
