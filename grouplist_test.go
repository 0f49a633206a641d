package scim_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim"
)

// A group list response carries at most Limits.MaxMembers members: groups
// past the budget come without the members attribute (the first group of
// a page always has them), and GET of the group still returns them all.
func TestGroupListMembersBudget(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			s := newTestServerWith(t, sc.open(t), scim.Config{Limits: scim.Limits{MaxMembers: 5}})
			var users []string
			for i := range 7 {
				users = append(users, str(s.must(http.StatusCreated, "POST", "/Users", fmt.Sprintf(`{"userName":"m%d@example.com"}`, i)).body, "id"))
			}
			members := func(ids ...string) string {
				var list []string
				for _, id := range ids {
					list = append(list, `{"value":"`+id+`"}`)
				}
				return "[" + strings.Join(list, ",") + "]"
			}
			groups := map[string]string{}
			for _, g := range []struct{ name, members string }{
				{"A", members(users[0], users[1], users[2])},
				{"B", members(users[3], users[4], users[5])},
				{"C", members(users[6])},
				{"D", "[]"},
			} {
				groups[g.name] = str(s.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"`+g.name+`","members":`+g.members+`}`).body, "id")
			}
			// counts maps each listed group to its number of members, -1
			// when the attribute is absent.
			counts := func(path string) map[string]int {
				r := s.must(http.StatusOK, "GET", path, "")
				out := map[string]int{}
				for _, g := range resources(t, r) {
					n := -1
					if list, ok := g["members"].([]any); ok {
						n = len(list)
					}
					out[str(g, "displayName")] = n
				}
				if r.body["totalResults"] != float64(4) || r.body["itemsPerPage"] != float64(len(out)) {
					t.Errorf("GET %s: totalResults %v, itemsPerPage %v", path, r.body["totalResults"], r.body["itemsPerPage"])
				}
				return out
			}
			for _, tt := range []struct {
				path string
				want map[string]int
			}{
				{"/Groups", map[string]int{"A": 3, "B": -1, "C": -1, "D": -1}},
				{"/Groups?startIndex=2", map[string]int{"B": 3, "C": 1, "D": 0}},
				{"/Groups?attributes=displayName,members", map[string]int{"A": 3, "B": -1, "C": -1, "D": -1}},
				{"/Groups?excludedAttributes=members", map[string]int{"A": -1, "B": -1, "C": -1, "D": -1}},
			} {
				if diff := cmp.Diff(tt.want, counts(tt.path)); diff != "" {
					t.Errorf("GET %s: members per group (-want +got):\n%s", tt.path, diff)
				}
			}
			if n := len(s.must(http.StatusOK, "GET", "/Groups/"+groups["B"], "").body["members"].([]any)); n != 3 {
				t.Errorf("GET /Groups/B: %d members, want 3", n)
			}
		})
	}
}

// A list response larger than the encoder's buffer is streamed (no
// Content-Length) and is the same ListResponse.
func TestListResponseStreamed(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			s := newTestServerWith(t, sc.open(t), scimConfig())
			// Indexed strings are at most scim.MaxIndexedBytes: 60 groups
			// of two such values are over listFlushBytes (64 KiB).
			long := strings.Repeat("x", 500)
			for i := range 60 {
				s.must(http.StatusCreated, "POST", "/Groups", fmt.Sprintf(`{"displayName":"%03d %s","externalId":"%s","members":[]}`, i, long, long))
			}
			r := s.must(http.StatusOK, "GET", "/Groups?count=100", "")
			if cl := r.header.Get("Content-Length"); cl != "" {
				t.Errorf("Content-Length %s on a %d-byte list: not streamed", cl, len(r.raw))
			}
			if ct := r.header.Get("Content-Type"); ct != "application/scim+json" {
				t.Errorf("Content-Type %q", ct)
			}
			want := map[string]any{"totalResults": 60.0, "itemsPerPage": 60.0, "startIndex": 1.0,
				"schemas": []any{"urn:ietf:params:scim:api:messages:2.0:ListResponse"}}
			got := map[string]any{}
			for k := range want {
				got[k] = r.body[k]
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ListResponse (-want +got):\n%s", diff)
			}
			for i, g := range resources(t, r) {
				if name := str(g, "displayName"); name != fmt.Sprintf("%03d %s", i, long) {
					t.Fatalf("resource %d: displayName %.10q…", i, name)
				}
			}
		})
	}
}
