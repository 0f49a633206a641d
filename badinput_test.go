package scim_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
)

// snapshot returns everything a tenant holds, to prove a request changed
// nothing.
func snapshot(t *testing.T, st store.Store, tenant string) string {
	t.Helper()
	var out strings.Builder
	err := st.View(context.Background(), tenant, func(tx store.Reader) error {
		users, err := tx.ListUsers(context.Background(), store.Query{Limit: 1 << 20})
		if err != nil {
			return err
		}
		groups, err := tx.ListGroups(context.Background(), store.Query{Limit: 1 << 20, WithMembers: true})
		if err != nil {
			return err
		}
		fmt.Fprintf(&out, "%+v\n%+v", users, groups)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// TestBadInput sends malformed and hostile requests; each gets the right
// SCIM error and changes nothing in either tenant.
func TestBadInput(t *testing.T) {
	s := newTestServer(t, scimConfig())
	const patchOp = `"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]`
	alice := str(s.must(http.StatusCreated, "POST", "/Users", oktaUser("alice@acme.test", "Alice", "A")).body, "id")
	bob := str(s.must(http.StatusCreated, "POST", "/Users", oktaUser("bob@acme.test", "Bob", "B")).body, "id")
	team := str(s.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"Team","members":[{"value":"`+alice+`"}]}`).body, "id")
	s.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"Other Team"}`)
	otherToken := "Authorization: Bearer " + tokenOther
	foreign := str(s.must(http.StatusCreated, "POST", "/Users", oktaUser("mallory@other.test", "M", "M"), otherToken).body, "id")
	foreignGroup := str(s.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"Theirs"}`, otherToken).body, "id")
	etag := s.must(http.StatusOK, "GET", "/Users/"+alice, "").header.Get("ETag")
	deep := strings.Repeat("(", 2000) + `userName eq "x"` + strings.Repeat(")", 2000)

	tests := []struct {
		name         string
		method, path string
		body         string
		headers      []string
		wantStatus   int
		wantScimType string
	}{
		{"no token", "GET", "/Users", "", []string{"Authorization:"}, 401, ""},
		{"wrong token", "GET", "/Users", "", []string{"Authorization: Bearer nope"}, 401, ""},
		{"basic auth", "GET", "/Users", "", []string{"Authorization: Basic dXNlcjpwYXNz"}, 401, ""},
		{"empty bearer", "GET", "/Users", "", []string{"Authorization: Bearer "}, 401, ""},
		{"broken JSON", "POST", "/Users", `{"userName": "x",`, nil, 400, "invalidSyntax"},
		{"JSON array", "POST", "/Users", `[{"userName":"x"}]`, nil, 400, "invalidSyntax"},
		{"trailing garbage", "POST", "/Users", `{"userName":"x"} {}`, nil, 400, "invalidSyntax"},
		{"empty body", "POST", "/Users", "", nil, 400, "invalidSyntax"},
		{"userName an object", "POST", "/Users", `{"userName": {"first": "x"}}`, nil, 400, "invalidValue"},
		{"userName missing", "POST", "/Users", `{"name":{"givenName":"x"}}`, nil, 400, "invalidValue"},
		{"userName blank", "POST", "/Users", `{"userName":"   "}`, nil, 400, "invalidValue"},
		{"active not boolean", "POST", "/Users", `{"userName":"x@y","active":"maybe"}`, nil, 400, "invalidValue"},
		{"name a string", "POST", "/Users", `{"userName":"x@y","name":"X Y"}`, nil, 400, "invalidValue"},
		{"emails a number", "POST", "/Users", `{"userName":"x@y","emails":42}`, nil, 400, "invalidValue"},
		{"two primary emails", "POST", "/Users", `{"userName":"x@y","emails":[{"value":"a@y","primary":true},{"value":"b@y","primary":true}]}`, nil, 400, "invalidValue"},
		{"duplicate userName other case", "POST", "/Users", oktaUser("ALICE@acme.test", "A", "A"), nil, 409, "uniqueness"},
		{"body over 1 MiB", "POST", "/Users", `{"userName":"big","displayName":"` + strings.Repeat("x", 1<<20) + `"}`, nil, 413, ""},
		{"unknown endpoint", "GET", "/Widgets", "", nil, 404, ""},
		{"nested path", "GET", "/Users/" + alice + "/extra", "", nil, 404, ""},
		{"DELETE on collection", "DELETE", "/Users", "", nil, 405, ""},
		{"PATCH discovery", "PATCH", "/ServiceProviderConfig", `{}`, nil, 405, ""},
		{"filter incomplete", "GET", "/Users?filter=" + filterQuery(`userName eq`), "", nil, 400, "invalidFilter"},
		{"filter unknown attribute", "GET", "/Users?filter=" + filterQuery(`shoeSize eq "9"`), "", nil, 400, "invalidFilter"},
		{"filter unbalanced", "GET", "/Users?filter=" + filterQuery(`(userName eq "x"`), "", nil, 400, "invalidFilter"},
		{"filter unknown operator", "GET", "/Users?filter=" + filterQuery(`userName like "x"`), "", nil, 400, "invalidFilter"},
		{"filter too long", "GET", "/Users?filter=" + filterQuery(`userName eq "`+strings.Repeat("a", 5000)+`"`), "", nil, 400, "invalidFilter"},
		{"filter nested too deep", "GET", "/Users?filter=" + filterQuery(deep), "", nil, 400, "invalidFilter"},
		{"filter on password", "GET", "/Users?filter=" + filterQuery(`password eq "x"`), "", nil, 400, "invalidFilter"},
		{"count not a number", "GET", "/Users?count=lots", "", nil, 400, "invalidValue"},
		{"startIndex fractional", "GET", "/Users?startIndex=1.5", "", nil, 400, "invalidValue"},
		{"sortOrder unknown", "GET", "/Users?sortBy=userName&sortOrder=sideways", "", nil, 400, "invalidValue"},
		{"search body broken", "POST", "/Users/.search", `{"filter":`, nil, 400, "invalidSyntax"},
		{"search bad filter", "POST", "/Users/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"userName zz 1"}`, nil, 400, "invalidFilter"},
		{"unknown user", "GET", "/Users/does-not-exist", "", nil, 404, ""},
		{"other tenant's user: GET", "GET", "/Users/" + foreign, "", nil, 404, ""},
		{"other tenant's user: PUT", "PUT", "/Users/" + foreign, oktaUser("mallory@other.test", "X", "X"), nil, 404, ""},
		{"other tenant's user: PATCH", "PATCH", "/Users/" + foreign, `{` + patchOp + `,"Operations":[{"op":"replace","path":"active","value":false}]}`, nil, 404, ""},
		{"other tenant's user: DELETE", "DELETE", "/Users/" + foreign, "", nil, 404, ""},
		{"other tenant's group: GET", "GET", "/Groups/" + foreignGroup, "", nil, 404, ""},
		{"other tenant's group: DELETE", "DELETE", "/Groups/" + foreignGroup, "", nil, 404, ""},
		{"other tenant's user filtered", "GET", "/Users?filter=" + filterQuery(`id eq "`+foreign+`"`), "", nil, 200, ""},
		{"PATCH unknown op", "PATCH", "/Users/" + alice, `{` + patchOp + `,"Operations":[{"op":"explode","path":"active","value":false}]}`, nil, 400, "invalidSyntax"},
		{"PATCH Operations not a list", "PATCH", "/Users/" + alice, `{` + patchOp + `,"Operations":{"op":"add"}}`, nil, 400, "invalidSyntax"},
		{"PATCH unknown attribute", "PATCH", "/Users/" + alice, `{` + patchOp + `,"Operations":[{"op":"replace","path":"shoeSize","value":9}]}`, nil, 400, "invalidPath"},
		{"PATCH bad path syntax", "PATCH", "/Users/" + alice, `{` + patchOp + `,"Operations":[{"op":"replace","path":"emails[type eq","value":"x"}]}`, nil, 400, "invalidPath"},
		{"PATCH id", "PATCH", "/Users/" + alice, `{` + patchOp + `,"Operations":[{"op":"replace","path":"id","value":"new"}]}`, nil, 400, "mutability"},
		{"PATCH groups", "PATCH", "/Users/" + alice, `{` + patchOp + `,"Operations":[{"op":"add","path":"groups","value":[{"value":"` + team + `"}]}]}`, nil, 400, "mutability"},
		{"PATCH meta", "PATCH", "/Users/" + alice, `{` + patchOp + `,"Operations":[{"op":"replace","path":"meta.created","value":"2020-01-01T00:00:00Z"}]}`, nil, 400, "mutability"},
		{"PATCH remove without path", "PATCH", "/Users/" + alice, `{` + patchOp + `,"Operations":[{"op":"remove"}]}`, nil, 400, "noTarget"},
		{"PATCH active not boolean", "PATCH", "/Users/" + alice, `{` + patchOp + `,"Operations":[{"op":"replace","path":"active","value":"nope"}]}`, nil, 400, "invalidValue"},
		{"PATCH userName taken", "PATCH", "/Users/" + alice, `{` + patchOp + `,"Operations":[{"op":"replace","path":"userName","value":"BOB@acme.test"}]}`, nil, 409, "uniqueness"},
		{"PATCH removes userName", "PATCH", "/Users/" + alice, `{` + patchOp + `,"Operations":[{"op":"remove","path":"userName"}]}`, nil, 400, "invalidValue"},
		{"PATCH second op fails", "PATCH", "/Users/" + alice, `{` + patchOp + `,"Operations":[{"op":"replace","path":"displayName","value":"Changed"},{"op":"replace","path":"active","value":[]}]}`, nil, 400, "invalidValue"},
		{"PUT userName taken", "PUT", "/Users/" + alice, oktaUser("bob@acme.test", "A", "A"), nil, 409, "uniqueness"},
		{"PUT stale If-Match", "PUT", "/Users/" + alice, oktaUser("alice@acme.test", "A", "Changed"), []string{`If-Match: W/"999"`}, 412, ""},
		{"DELETE stale If-Match", "DELETE", "/Users/" + alice, "", []string{`If-Match: W/"999"`}, 412, ""},
		{"PUT without userName", "PUT", "/Users/" + alice, `{"displayName":"nameless"}`, nil, 400, "invalidValue"},
		{"group without displayName", "POST", "/Groups", `{"members":[]}`, nil, 400, "invalidValue"},
		{"group name taken", "POST", "/Groups", `{"displayName":"TEAM"}`, nil, 409, "uniqueness"},
		{"group members a number", "POST", "/Groups", `{"displayName":"New","members":42}`, nil, 400, "invalidValue"},
		{"group rename to taken name", "PATCH", "/Groups/" + team, `{` + patchOp + `,"Operations":[{"op":"replace","path":"displayName","value":"other team"}]}`, nil, 409, "uniqueness"},
		{"PATCH unknown group", "PATCH", "/Groups/nope", `{` + patchOp + `,"Operations":[{"op":"add","path":"members","value":[{"value":"` + bob + `"}]}]}`, nil, 404, ""},
		{"add other tenant's user as member", "PATCH", "/Groups/" + team, `{` + patchOp + `,"Operations":[{"op":"add","path":"members","value":[{"value":"` + foreign + `"}]}]}`, nil, 204, ""},
		{"member value not a string", "PATCH", "/Groups/" + team, `{` + patchOp + `,"Operations":[{"op":"add","path":"members","value":[{"value":{"id":1}}]}]}`, nil, 400, "invalidValue"},
		{"user If-None-Match current", "GET", "/Users/" + alice, "", []string{"If-None-Match: " + etag}, 304, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, s.store, "acme") + snapshot(t, s.store, "other")
			r := s.do(tc.method, tc.path, tc.body, tc.headers...)
			if r.status != tc.wantStatus {
				t.Fatalf("status %d, want %d\n%s", r.status, tc.wantStatus, r.raw)
			}
			if tc.wantStatus >= 400 {
				want := map[string]any{
					"schemas":  []any{"urn:ietf:params:scim:api:messages:2.0:Error"},
					"status":   fmt.Sprint(tc.wantStatus),
					"scimType": tc.wantScimType,
				}
				got := map[string]any{"schemas": r.body["schemas"], "status": r.body["status"], "scimType": r.body["scimType"]}
				if tc.wantScimType == "" {
					delete(want, "scimType")
					if v, ok := r.body["scimType"]; !ok {
						delete(got, "scimType")
					} else {
						got["scimType"] = v
					}
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("error body (-want +got):\n%s\n%s", diff, r.raw)
				}
				if str(r.body, "detail") == "" {
					t.Errorf("error without detail: %s", r.raw)
				}
				if ct := r.header.Get("Content-Type"); ct != "application/scim+json" {
					t.Errorf("Content-Type %q", ct)
				}
				for _, leak := range []string{"store:", "sql", "panic", "goroutine", ".go:"} {
					if strings.Contains(strings.ToLower(str(r.body, "detail")), leak) {
						t.Errorf("detail leaks %q: %s", leak, r.raw)
					}
				}
			}
			if r.status == 401 && r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
			if tc.name == "other tenant's user filtered" && r.body["totalResults"] != float64(0) {
				t.Errorf("filter by a foreign id found %v", r.body["totalResults"])
			}
			after := snapshot(t, s.store, "acme") + snapshot(t, s.store, "other")
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("request changed state (-before +after):\n%s", diff)
			}
		})
	}
}
