package scim_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A filtered add or replace that matches no element creates one only for
// a canonical type (Entra's emails[type eq "work"].value); anything else
// is 400 noTarget and changes nothing (RFC 7644 §3.5.2.3).
func TestPatchFilterMatchingNothing(t *testing.T) {
	tests := []struct {
		name       string
		op         string
		status     int
		scimType   string
		wantEmails []any
	}{
		{"non-canonical type is noTarget",
			`{"op":"replace","path":"emails[type eq \"nonexistent\"].value","value":"x@example.com"}`,
			http.StatusBadRequest, "noTarget",
			[]any{map[string]any{"type": "home", "value": "h@example.org"}}},
		{"filter on value is noTarget",
			`{"op":"add","path":"emails[value eq \"y@example.com\"].primary","value":true}`,
			http.StatusBadRequest, "noTarget",
			[]any{map[string]any{"type": "home", "value": "h@example.org"}}},
		{"Entra Add creates the work email",
			`{"op":"Add","path":"emails[type eq \"work\"].value","value":"w@example.com"}`,
			http.StatusOK, "",
			[]any{map[string]any{"type": "home", "value": "h@example.org"}, map[string]any{"type": "work", "value": "w@example.com"}}},
		{"Entra Replace creates the work email, canonical spelling",
			`{"op":"Replace","path":"emails[type eq \"Work\"].value","value":"w@example.com"}`,
			http.StatusOK, "",
			[]any{map[string]any{"type": "home", "value": "h@example.org"}, map[string]any{"type": "work", "value": "w@example.com"}}},
	}
	for _, sc := range stores {
		for _, tt := range tests {
			t.Run(sc.name+"/"+tt.name, func(t *testing.T) {
				s := newTestServerWith(t, sc.open(t), scimConfig())
				id := str(s.must(http.StatusCreated, "POST", "/Users",
					`{"userName":"pat@example.com","emails":[{"type":"home","value":"h@example.org"}]}`).body, "id")
				r := s.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+tt.op+`]}`)
				if r.status != tt.status || str(r.body, "scimType") != tt.scimType {
					t.Fatalf("PATCH: %d %q, want %d %q\n%s", r.status, str(r.body, "scimType"), tt.status, tt.scimType, r.raw)
				}
				got := s.must(http.StatusOK, "GET", "/Users/"+id, "").body["emails"]
				if diff := cmp.Diff(tt.wantEmails, got); diff != "" {
					t.Errorf("emails after PATCH (-want +got):\n%s", diff)
				}
			})
		}
	}
}
