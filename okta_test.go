package scim_test

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// oktaUser is the body Okta POSTs to create a user.
func oktaUser(userName, given, family string) string {
	return fmt.Sprintf(`{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
  "userName": %[1]q,
  "name": {"givenName": %[2]q, "familyName": %[3]q},
  "emails": [{"primary": true, "value": %[1]q, "type": "work"}],
  "displayName": "%[2]s %[3]s",
  "locale": "en-US",
  "externalId": "00u%[2]s",
  "groups": [],
  "password": "1mz050nq",
  "active": true
}`, userName, given, family)
}

func filterQuery(f string) string { return url.QueryEscape(f) }

// TestOktaSequence replays what Okta sends, in order, over real HTTP.
func TestOktaSequence(t *testing.T) {
	s := newTestServer(t, scimConfig())

	// Connection test.
	r := s.must(http.StatusOK, "GET", "/Users?startIndex=1&count=2", "")
	if diff := cmp.Diff(map[string]any{
		"schemas":      []any{"urn:ietf:params:scim:api:messages:2.0:ListResponse"},
		"totalResults": float64(0), "startIndex": float64(1), "itemsPerPage": float64(0),
		"Resources": []any{},
	}, r.body); diff != "" {
		t.Fatalf("empty list (-want +got):\n%s", diff)
	}
	s.must(http.StatusOK, "GET", "/Groups?startIndex=1&count=100", "")

	// Create: look up, then POST; a second POST conflicts.
	lookup := "/Users?filter=" + filterQuery(`userName eq "ada@example.com"`) + "&startIndex=1&count=100"
	if got := s.must(http.StatusOK, "GET", lookup, "").body["totalResults"]; got != float64(0) {
		t.Fatalf("lookup before create: totalResults %v", got)
	}
	created := s.must(http.StatusCreated, "POST", "/Users", oktaUser("ada@example.com", "Ada", "Lovelace"))
	id := str(created.body, "id")
	if id == "" {
		t.Fatalf("created user has no id: %s", created.raw)
	}
	if loc := created.header.Get("Location"); loc != s.base+"/Users/"+id {
		t.Errorf("Location = %q, want %q", loc, s.base+"/Users/"+id)
	}
	if got := str(created.body, "meta.location"); got != s.base+"/Users/"+id {
		t.Errorf("meta.location = %q", got)
	}
	if strings.Contains(created.raw, "password") || strings.Contains(created.raw, "1mz050nq") {
		t.Errorf("response carries the password: %s", created.raw)
	}
	if got := created.header.Get("Content-Type"); got != "application/scim+json" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := str(created.body, "memberRole"); got != "viewer" {
		t.Errorf("memberRole = %q, want the default viewer", got)
	}
	dup := s.must(http.StatusConflict, "POST", "/Users", oktaUser("ADA@example.com", "Ada", "L"))
	if got := str(dup.body, "scimType"); got != "uniqueness" {
		t.Errorf("duplicate: scimType %q, want uniqueness", got)
	}
	found := resources(t, s.must(http.StatusOK, "GET", lookup, ""))
	if len(found) != 1 || found[0]["id"] != id {
		t.Fatalf("lookup after create found %v", found)
	}

	// Profile push: GET, then PUT back the document with one change.
	got := s.must(http.StatusOK, "GET", "/Users/"+id, "")
	etag := got.header.Get("ETag")
	doc := got.body
	doc["name"].(map[string]any)["givenName"] = "Augusta"
	put := s.must(http.StatusOK, "PUT", "/Users/"+id, mustJSON(t, doc))
	if g := str(put.body, "name.givenName"); g != "Augusta" {
		t.Errorf("after PUT givenName = %q", g)
	}
	if put.header.Get("ETag") == etag {
		t.Errorf("ETag unchanged after PUT: %s", etag)
	}
	if diff := cmp.Diff(doc["emails"], put.body["emails"]); diff != "" {
		t.Errorf("PUT changed emails (-want +got):\n%s", diff)
	}

	// Deactivate with a pathless replace.
	s.must(http.StatusOK, "PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations":[{"op":"replace","value":{"active":false}}]}`)
	if a := s.must(http.StatusOK, "GET", "/Users/"+id, "").body["active"]; a != false {
		t.Fatalf("after deactivation active = %v", a)
	}
	// Reactivate.
	s.must(http.StatusOK, "PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations":[{"op":"replace","value":{"active":true}}]}`)
	if a := s.must(http.StatusOK, "GET", "/Users/"+id, "").body["active"]; a != true {
		t.Fatalf("after reactivation active = %v", a)
	}

	// Import: pages of 100 over 250 users.
	for i := 0; i < 249; i++ {
		s.must(http.StatusCreated, "POST", "/Users", oktaUser(fmt.Sprintf("user%03d@example.com", i), "U", fmt.Sprint(i)))
	}
	seen := map[any]bool{}
	for start := 1; start <= 250; start += 100 {
		page := s.must(http.StatusOK, "GET", fmt.Sprintf("/Users?startIndex=%d&count=100", start), "")
		list := resources(t, page)
		wantItems := min(100, 250-start+1)
		if diff := cmp.Diff(map[string]any{"totalResults": float64(250), "startIndex": float64(start), "itemsPerPage": float64(wantItems)},
			map[string]any{"totalResults": page.body["totalResults"], "startIndex": page.body["startIndex"], "itemsPerPage": page.body["itemsPerPage"]}); diff != "" {
			t.Fatalf("page %d (-want +got):\n%s", start, diff)
		}
		for _, u := range list {
			if seen[u["id"]] {
				t.Fatalf("user %v listed twice", u["id"])
			}
			seen[u["id"]] = true
		}
	}
	if len(seen) != 250 {
		t.Fatalf("import saw %d users, want 250", len(seen))
	}

	// Group push.
	g := s.must(http.StatusCreated, "POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Data Science","members":[]}`)
	gid := str(g.body, "id")
	users := resources(t, s.must(http.StatusOK, "GET", "/Users?count=3&startIndex=2", ""))
	var add []string
	for _, u := range users {
		add = append(add, fmt.Sprintf(`{"value":%q,"display":%q}`, u["id"], u["userName"]))
	}
	s.must(http.StatusNoContent, "PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations":[{"op":"add","path":"members","value":[`+strings.Join(add, ",")+`]}]}`)
	members := memberIDs(s.must(http.StatusOK, "GET", "/Groups/"+gid, "").body)
	if diff := cmp.Diff([]string{users[0]["id"].(string), users[1]["id"].(string), users[2]["id"].(string)}, members); diff != "" {
		t.Fatalf("members after add (-want +got):\n%s", diff)
	}
	s.must(http.StatusNoContent, "PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations":[{"op":"remove","path":"members[value eq \"`+users[1]["id"].(string)+`\"]"}]}`)
	members = memberIDs(s.must(http.StatusOK, "GET", "/Groups/"+gid, "").body)
	if diff := cmp.Diff([]string{users[0]["id"].(string), users[2]["id"].(string)}, members); diff != "" {
		t.Fatalf("members after remove (-want +got):\n%s", diff)
	}
	// The user's groups attribute lists the group.
	ug := s.must(http.StatusOK, "GET", "/Users/"+users[0]["id"].(string), "").body["groups"]
	if diff := cmp.Diff([]any{map[string]any{"value": gid, "display": "Data Science", "type": "direct",
		"$ref": s.base + "/Groups/" + gid}}, ug); diff != "" {
		t.Errorf("user's groups (-want +got):\n%s", diff)
	}
	s.must(http.StatusNoContent, "PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations":[{"op":"replace","value":{"id":"`+gid+`","displayName":"Data Science Team"}}]}`)
	ex := s.must(http.StatusOK, "GET", "/Groups/"+gid+"?excludedAttributes=members", "")
	if str(ex.body, "displayName") != "Data Science Team" {
		t.Errorf("after rename: %s", ex.raw)
	}
	if _, ok := ex.body["members"]; ok {
		t.Errorf("excludedAttributes=members still returned members: %s", ex.raw)
	}
	// An empty push clears the group.
	s.must(http.StatusNoContent, "PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations":[{"op":"replace","path":"members","value":[]}]}`)
	if m := memberIDs(s.must(http.StatusOK, "GET", "/Groups/"+gid, "").body); len(m) != 0 {
		t.Errorf("after empty push members = %v", m)
	}
	s.must(http.StatusNoContent, "DELETE", "/Groups/"+gid, "")
	s.must(http.StatusNotFound, "GET", "/Groups/"+gid, "")
	// The users stay.
	s.must(http.StatusOK, "GET", "/Users/"+users[0]["id"].(string), "")
}

// memberIDs returns the sorted member ids of a group document.
func memberIDs(group map[string]any) []string {
	list, _ := group["members"].([]any)
	out := []string{}
	for _, m := range list {
		out = append(out, m.(map[string]any)["value"].(string))
	}
	sort.Strings(out)
	return out
}
