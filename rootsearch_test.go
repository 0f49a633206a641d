package scim_test

import (
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// POST /.search queries Users and Groups at once (RFC 7644 §3.4.3): every
// matching User, then every matching Group, each in its endpoint's order,
// paged as one sequence.
func TestRootSearch(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			s := newTestServerWith(t, st.open(t), scimConfig())
			ids := directory(t, s) // users ada, bob, cy
			ids["Alpha"] = str(s.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"Alpha","members":[]}`).body, "id")
			ids["Beta"] = str(s.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"Beta","members":[{"value":"`+ids["ada"]+`"}]}`).body, "id")
			byID := map[string]string{}
			for n, id := range ids {
				byID[id] = n
			}
			type page struct {
				Names                           []string
				Total, StartIndex, ItemsPerPage float64
			}
			tests := []struct {
				name string
				body string
				want page
			}{
				{"everything", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}`,
					page{[]string{"ada", "bob", "cy", "Alpha", "Beta"}, 5, 1, 5}},
				{"a page across both types", `{"startIndex":3,"count":2}`,
					page{[]string{"cy", "Alpha"}, 5, 3, 2}},
				{"a page of groups only", `{"startIndex":4,"count":10}`,
					page{[]string{"Alpha", "Beta"}, 5, 4, 2}},
				{"past the end", `{"startIndex":6}`, page{[]string{}, 5, 6, 0}},
				{"count 0 counts", `{"count":0}`, page{[]string{}, 5, 1, 0}},
				{"integer-valued strings", `{"startIndex":"2","count":"1"}`, page{[]string{"bob"}, 5, 2, 1}},
				{"filter on an attribute both types have", `{"filter":"displayName eq \"Cy\" or displayName eq \"Beta\""}`,
					page{[]string{"cy", "Beta"}, 2, 1, 2}},
				{"filter on a User attribute", `{"filter":"userName sw \"ada\""}`, page{[]string{"ada"}, 1, 1, 1}},
				{"filter on a Group attribute", `{"filter":"members.value eq \"` + ids["ada"] + `\""}`, page{[]string{"Beta"}, 1, 1, 1}},
				{"filter on id", `{"filter":"id eq \"` + ids["bob"] + `\" or id eq \"` + ids["Alpha"] + `\""}`,
					page{[]string{"bob", "Alpha"}, 2, 1, 2}},
				{"sortBy a User attribute: groups keep their order", `{"sortBy":"userName","sortOrder":"descending"}`,
					page{[]string{"cy", "bob", "ada", "Alpha", "Beta"}, 5, 1, 5}},
				{"sortBy an attribute both have", `{"sortBy":"displayName","sortOrder":"descending","filter":"displayName pr"}`,
					page{[]string{"cy", "Beta", "Alpha"}, 3, 1, 3}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					r := s.must(http.StatusOK, "POST", "/.search", tt.body)
					got := page{Names: []string{}, Total: r.body["totalResults"].(float64),
						StartIndex: r.body["startIndex"].(float64), ItemsPerPage: r.body["itemsPerPage"].(float64)}
					for _, res := range resources(t, r) {
						got.Names = append(got.Names, byID[str(res, "id")])
						want := "User"
						if _, isGroup := map[string]bool{"Alpha": true, "Beta": true}[byID[str(res, "id")]]; isGroup {
							want = "Group"
						}
						if rt := str(res, "meta.resourceType"); rt != want {
							t.Errorf("%s: meta.resourceType %q, want %q", byID[str(res, "id")], rt, want)
						}
					}
					if diff := cmp.Diff(tt.want, got); diff != "" {
						t.Errorf("POST /.search %s (-want +got):\n%s", tt.body, diff)
					}
				})
			}

			t.Run("attributes apply to each type", func(t *testing.T) {
				r := s.must(http.StatusOK, "POST", "/.search", `{"attributes":["userName","displayName"],"count":5}`)
				var got []string
				for _, res := range resources(t, r) {
					var keys []string
					for k := range res {
						keys = append(keys, k)
					}
					sort.Strings(keys)
					got = append(got, byID[str(res, "id")]+":"+strings.Join(keys, ","))
				}
				want := []string{"ada:id,schemas,userName", "bob:id,schemas,userName", "cy:displayName,id,schemas,userName",
					"Alpha:displayName,id,schemas", "Beta:displayName,id,schemas"}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("returned attributes (-want +got):\n%s", diff)
				}
				r = s.must(http.StatusOK, "POST", "/.search", `{"excludedAttributes":["members","emails"],"filter":"id eq \"`+ids["ada"]+`\" or id eq \"`+ids["Beta"]+`\""}`)
				for _, res := range resources(t, r) {
					if res["members"] != nil || res["emails"] != nil {
						t.Errorf("%s: excluded attributes returned: %v", byID[str(res, "id")], res)
					}
				}
			})

			for _, tt := range []struct {
				name, method, path, body string
				status                   int
				scimType                 string
			}{
				{"filter on no attribute of either", "POST", "/.search", `{"filter":"nosuch eq \"x\""}`, 400, "invalidFilter"},
				{"malformed filter", "POST", "/.search", `{"filter":"userName zz 1"}`, 400, "invalidFilter"},
				{"sortBy no attribute of either", "POST", "/.search", `{"sortBy":"nosuch"}`, 400, "invalidValue"},
				{"bad startIndex", "POST", "/.search", `{"startIndex":"first"}`, 400, "invalidValue"},
				{"broken body", "POST", "/.search", `{"filter":`, 400, "invalidSyntax"},
				{"GET /.search", "GET", "/.search", "", 405, ""},
				{"GET of the root stays unsupported", "GET", "/", "", 501, ""},
			} {
				t.Run(tt.name, func(t *testing.T) {
					r := s.do(tt.method, tt.path, tt.body)
					if r.status != tt.status || str(r.body, "scimType") != tt.scimType {
						t.Errorf("%s %s: %d %q, want %d %q\n%s", tt.method, tt.path, r.status, str(r.body, "scimType"), tt.status, tt.scimType, r.raw)
					}
				})
			}
		})
	}
}
