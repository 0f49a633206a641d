package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// One test per profile replays that product's documented SCIM behaviour
// (docs/products.md) over real HTTP against the demo server binary.

const patchOp = `"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]`

// session is a demo server with one profile and a tenant token.
type session struct {
	t     *testing.T
	d     *demo
	token string
}

// startProfile starts a demo with the profile on a memory store; extra
// flags come last (a -db there wins).
func startProfile(t *testing.T, name string, extra ...string) *session {
	t.Helper()
	const token = "scim_profile_test"
	d := startDemo(t, demoConfig{args: append([]string{"-db", "memory", "-profile", name, "-token", token,
		"-owner", "owner@acme.test", "-existing", "existing@acme.test", "-existing", "other@acme.test"}, extra...)})
	return &session{t: t, d: d, token: token}
}

// req sends a SCIM request and asserts its status.
func (s *session) req(status int, method, path, body string) map[string]any {
	s.t.Helper()
	r := s.d.call(s.t, method, path, s.token, body).want(s.t, status)
	var m map[string]any
	if len(r.body) > 0 {
		if err := json.Unmarshal(r.body, &m); err != nil {
			s.t.Fatalf("%s %s: %v: %s", method, path, err, r.body)
		}
	}
	return m
}

// fail sends a request that must fail with status and scimType ("" for
// none) and returns the error detail.
func (s *session) fail(status int, scimType, method, path, body string) string {
	s.t.Helper()
	m := s.req(status, method, path, body)
	if got, _ := m["scimType"].(string); got != scimType {
		s.t.Errorf("%s %s: scimType %q, want %q (%v)", method, path, got, scimType, m["detail"])
	}
	return fmt.Sprint(m["detail"])
}

// find returns the user with the given userName (filter), or nil.
func (s *session) find(userName string) map[string]any {
	s.t.Helper()
	m := s.req(http.StatusOK, "GET", "/Users?filter="+url.QueryEscape(fmt.Sprintf("userName eq %q", userName)), "")
	list, _ := m["Resources"].([]any)
	if len(list) == 0 {
		return nil
	}
	return list[0].(map[string]any)
}

// listed returns the sorted userNames GET /Users lists.
func (s *session) listed() []string {
	s.t.Helper()
	m := s.req(http.StatusOK, "GET", "/Users?count=100", "")
	var out []string
	for _, u := range m["Resources"].([]any) {
		out = append(out, u.(map[string]any)["userName"].(string))
	}
	sort.Strings(out)
	return out
}

// appRoles reads what the app derives for a user: org role and grants.
func (s *session) appRoles(id string) map[string]any {
	s.t.Helper()
	req, _ := http.NewRequest("GET", s.d.root+"/app/users/"+id+"/roles", nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	r := send(s.t, req).want(s.t, http.StatusOK)
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		s.t.Fatal(err)
	}
	return m
}

func (s *session) user(userName, extra string) string {
	s.t.Helper()
	if extra != "" {
		extra = "," + extra
	}
	return fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":%q,
	  "name":{"givenName":"Given","familyName":"Family"},
	  "emails":[{"value":%q,"type":"work","primary":true}],"active":true%s}`, userName, userName, extra)
}

func (s *session) create(userName, extra string) map[string]any {
	s.t.Helper()
	return s.req(http.StatusCreated, "POST", "/Users", s.user(userName, extra))
}

func patch(ops ...string) string {
	return `{` + patchOp + `,"Operations":[` + strings.Join(ops, ",") + `]}`
}

func idOf(m map[string]any) string { return m["id"].(string) }

func memberList(g map[string]any) []string {
	out := []string{}
	for _, m := range g["members"].([]any) {
		out = append(out, m.(map[string]any)["value"].(string))
	}
	sort.Strings(out)
	return out
}

// ownerRefusals checks that every way of deactivating, deleting or
// demoting the owner gets 403 and changes nothing.
func (s *session) ownerRefusals(attr, demoteTo string) {
	s.t.Helper()
	owner := s.find("owner@acme.test")
	if owner == nil {
		s.t.Fatal("owner not listed")
	}
	id := idOf(owner)
	before := s.req(http.StatusOK, "GET", "/Users/"+id, "")
	putInactive := map[string]any{}
	for k, v := range before {
		putInactive[k] = v
	}
	putInactive["active"] = false
	b, _ := json.Marshal(putInactive)
	for _, tc := range []struct{ name, method, body string }{
		{"Okta pathless deactivate", "PATCH", patch(`{"op":"replace","value":{"active":false}}`)},
		{"Entra string boolean", "PATCH", patch(`{"op":"Replace","path":"active","value":"False"}`)},
		{"aadOptscim boolean", "PATCH", patch(`{"op":"replace","path":"active","value":false}`)},
		{"PUT active false", "PUT", string(b)},
		{"demote", "PATCH", patch(fmt.Sprintf(`{"op":"replace","path":%q,"value":%q}`, attr, demoteTo))},
		{"DELETE", "DELETE", ""},
	} {
		detail := s.fail(http.StatusForbidden, "", tc.method, "/Users/"+id, tc.body)
		if !strings.Contains(detail, "protected") {
			s.t.Errorf("%s: detail %q does not say why", tc.name, detail)
		}
	}
	after := s.req(http.StatusOK, "GET", "/Users/"+id, "")
	if diff := cmp.Diff(before, after); diff != "" {
		s.t.Errorf("owner changed by refused requests (-before +after):\n%s", diff)
	}
	// Okta's profile push sends back what it read: that is no change.
	s.req(http.StatusOK, "PUT", "/Users/"+id, mustMarshal(before))
}

func mustMarshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestProfileDemo(t *testing.T) {
	t.Parallel()
	s := startProfile(t, "demo")
	// Existing app users are listed for import, marked not managed.
	if diff := cmp.Diff([]string{"existing@acme.test", "other@acme.test", "owner@acme.test"}, s.listed()); diff != "" {
		t.Errorf("import (-want +got):\n%s", diff)
	}
	const ext = "urn:ietf:params:scim:schemas:extension:scimkit:2.0:User"
	if got := get(s.find("existing@acme.test"), ext+".managed"); got != false {
		t.Errorf("seeded user managed = %v", got)
	}
	// Roles: a value, the keep keyword, an unknown value, the owner role.
	for _, tc := range []struct{ user, extra, want string }{
		{"editor@acme.test", `"memberRole":"experiment_editor"`, "experiment_editor"},
		{"keep@acme.test", `"memberRole":"default"`, "viewer"},
		{"none@acme.test", ``, "viewer"},
		{"unknown@acme.test", `"memberRole":"superuser"`, "viewer"},
		{"ceiling@acme.test", `"memberRole":"owner"`, "viewer"},
		{"ext@acme.test", `"` + ext + `":{"memberRole":"data_owner"}`, "data_owner"},
	} {
		if got := s.create(tc.user, tc.extra)["memberRole"]; got != tc.want {
			t.Errorf("%s: memberRole %v, want %s", tc.user, got, tc.want)
		}
	}
	editor := idOf(s.find("editor@acme.test"))
	s.req(http.StatusOK, "PATCH", "/Users/"+editor, patch(`{"op":"replace","path":"memberRole","value":"default"}`))
	if got := s.req(http.StatusOK, "GET", "/Users/"+editor, "")["memberRole"]; got != "experiment_editor" {
		t.Errorf("keep keyword on update: %v", got)
	}
	// Linking by email: the existing user is adopted, keeping its id.
	existing := idOf(s.find("existing@acme.test"))
	linked := s.create("EXISTING@acme.test", `"memberRole":"admin"`)
	if idOf(linked) != existing || get(linked, ext+".managed") != true || linked["memberRole"] != "admin" {
		t.Errorf("link: %v", linked)
	}
	s.ownerRefusals("memberRole", "admin")
	// Names and emails apply.
	s.req(http.StatusOK, "PATCH", "/Users/"+editor, patch(`{"op":"replace","path":"name.givenName","value":"Renamed"}`))
	u := s.req(http.StatusOK, "PATCH", "/Users/"+editor,
		patch(`{"op":"replace","path":"emails[type eq \"work\"].value","value":"new@acme.test"}`))
	if got := get(u, "emails"); fmt.Sprint(got) != "[map[primary:true type:work value:new@acme.test]]" {
		t.Errorf("emails after change: %v", got)
	}
	// Deactivation keeps the user and role; reactivation restores them.
	s.req(http.StatusOK, "PATCH", "/Users/"+editor, patch(`{"op":"replace","value":{"active":false}}`))
	u = s.req(http.StatusOK, "PATCH", "/Users/"+editor, patch(`{"op":"replace","value":{"active":true}}`))
	if u["active"] != true || u["memberRole"] != "experiment_editor" || get(u, "name.givenName") != "Renamed" {
		t.Errorf("after reactivation: %v", u)
	}
	// Group push: only provisioned users join.
	other := idOf(s.find("other@acme.test"))
	g := s.req(http.StatusCreated, "POST", "/Groups", fmt.Sprintf(`{"displayName":"Growth","members":[{"value":%q},{"value":%q},{"value":"no-such-user"}]}`, editor, other))
	if diff := cmp.Diff([]string{editor}, memberList(g)); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	// Deprovisioning leaves the team; coming back gives the default role.
	s.req(http.StatusNoContent, "DELETE", "/Users/"+editor, "")
	if got := memberList(s.req(http.StatusOK, "GET", "/Groups/"+idOf(g), "")); len(got) != 0 {
		t.Errorf("deprovisioned user still a member: %v", got)
	}
	if got := s.create("editor@acme.test", "")["memberRole"]; got != "viewer" {
		t.Errorf("re-provisioned role %v, want viewer", got)
	}
}

func TestProfileEppo(t *testing.T) {
	t.Parallel()
	s := startProfile(t, "eppo")
	// Existing users are not importable, but provisioning links them.
	if got := s.listed(); len(got) != 0 {
		t.Errorf("eppo lists unmanaged users: %v", got)
	}
	linked := s.create("existing@acme.test", `"eppoMemberRole":"default"`)
	if linked["eppoMemberRole"] != "viewer" {
		t.Errorf("linked with default: %v", linked["eppoMemberRole"])
	}
	a := s.create("analyst@acme.test", `"eppoMemberRole":"data_owner"`)
	s.fail(http.StatusBadRequest, "invalidValue", "POST", "/Users", s.user("bad@acme.test", `"eppoMemberRole":"superuser"`))
	s.fail(http.StatusBadRequest, "invalidValue", "PATCH", "/Users/"+idOf(a), patch(`{"op":"replace","path":"eppoMemberRole","value":"Admin"}`))
	s.req(http.StatusOK, "PATCH", "/Users/"+idOf(a), patch(`{"op":"replace","path":"eppoMemberRole","value":"default"}`))
	// Role groups: the highest of the attribute and the groups wins.
	adm := s.req(http.StatusCreated, "POST", "/Groups", `{"displayName":"Eppo Admin","members":[{"value":"`+idOf(a)+`"}]}`)
	if got := s.appRoles(idOf(a))["org"]; got != "admin" {
		t.Errorf("org role with Eppo Admin group: %v", got)
	}
	s.req(http.StatusCreated, "POST", "/Groups", `{"displayName":"Eppo Viewer","members":[{"value":"`+idOf(linked)+`"}]}`)
	if got := s.appRoles(idOf(linked))["org"]; got != "viewer" {
		t.Errorf("org role with Eppo Viewer group: %v", got)
	}
	s.req(http.StatusNoContent, "PATCH", "/Groups/"+idOf(adm), patch(`{"op":"remove","path":"members[value eq \"`+idOf(a)+`\"]"}`))
	if got := s.appRoles(idOf(a))["org"]; got != "data_owner" {
		t.Errorf("org role after leaving Eppo Admin: %v", got)
	}
	// The owner cannot be removed; the owner is not importable either, but
	// provisioning it links it, and refuses to demote it.
	s.req(http.StatusForbidden, "POST", "/Users", s.user("owner@acme.test", `"eppoMemberRole":"viewer"`))
	owner := s.create("owner@acme.test", `"eppoMemberRole":"default"`)
	if owner["eppoMemberRole"] != "owner" {
		t.Errorf("linked owner role %v", owner["eppoMemberRole"])
	}
	s.ownerRefusals("eppoMemberRole", "viewer")
	s.fail(http.StatusBadRequest, "mutability", "PUT", "/Users/"+idOf(a), s.user("renamed@acme.test", ""))
}

func TestProfileGrowthBook(t *testing.T) {
	t.Parallel()
	s := startProfile(t, "growthbook")
	if got := s.listed(); len(got) != 0 {
		t.Errorf("growthbook lists unmanaged users: %v", got)
	}
	for _, tc := range []struct{ user, extra, want string }{
		{"eng@acme.test", `"growthbookRole":"engineer"`, "engineer"},
		{"case@acme.test", `"growthbookRole":"Engineer"`, "collaborator"}, // case-sensitive: unknown
		{"none@acme.test", ``, "collaborator"},
		{"owner-try@acme.test", `"growthbookRole":"owner"`, "collaborator"},
	} {
		if got := s.create(tc.user, tc.extra)["growthbookRole"]; got != tc.want {
			t.Errorf("%s: growthbookRole %v, want %s", tc.user, got, tc.want)
		}
	}
	// "As long as the email matches, the existing user will be converted."
	existing := s.create("existing@acme.test", `"growthbookRole":"analyst"`)
	if existing["growthbookRole"] != "analyst" {
		t.Errorf("converted user: %v", existing)
	}
	eng := idOf(s.find("eng@acme.test"))
	// Names belong to the app: a PUT with another name keeps the app's.
	doc := s.req(http.StatusOK, "GET", "/Users/"+eng, "")
	doc["name"] = map[string]any{"givenName": "Other", "familyName": "Name"}
	if got := get(s.req(http.StatusOK, "PUT", "/Users/"+eng, mustMarshal(doc)), "name.givenName"); got != "Given" {
		t.Errorf("name after PUT: %v", got)
	}
	s.fail(http.StatusBadRequest, "mutability", "PATCH", "/Users/"+eng,
		patch(`{"op":"replace","path":"emails[type eq \"work\"].value","value":"new@acme.test"}`))
	// Deactivation removes the user from the org: coming back resets the role.
	s.req(http.StatusOK, "PATCH", "/Users/"+eng, patch(`{"op":"replace","path":"active","value":false}`))
	if got := s.req(http.StatusOK, "PATCH", "/Users/"+eng, patch(`{"op":"replace","path":"active","value":true}`))["growthbookRole"]; got != "collaborator" {
		t.Errorf("role after reactivation: %v", got)
	}
	s.req(http.StatusOK, "PATCH", "/Users/"+eng, patch(`{"op":"replace","path":"growthbookRole","value":"admin"}`))
	s.req(http.StatusNoContent, "DELETE", "/Users/"+eng, "")
	if got := s.create("eng@acme.test", "")["growthbookRole"]; got != "collaborator" {
		t.Errorf("re-provisioned role %v", got)
	}
	// Only members assigned to the app join the team.
	g := s.req(http.StatusCreated, "POST", "/Groups", `{"displayName":"Analysts","members":[]}`)
	s.req(http.StatusNoContent, "PATCH", "/Groups/"+idOf(g), patch(`{"op":"add","path":"members","value":[{"value":"`+idOf(existing)+`"},{"value":"app-unassigned"}]}`))
	if diff := cmp.Diff([]string{idOf(existing)}, memberList(s.req(http.StatusOK, "GET", "/Groups/"+idOf(g), ""))); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	s.create("owner@acme.test", "")
	s.ownerRefusals("growthbookRole", "readonly")
}

func TestProfileStatsig(t *testing.T) {
	t.Parallel()
	s := startProfile(t, "statsig")
	// Okta can import existing users.
	if diff := cmp.Diff([]string{"existing@acme.test", "other@acme.test", "owner@acme.test"}, s.listed()); diff != "" {
		t.Errorf("import (-want +got):\n%s", diff)
	}
	if got := s.create("admin@acme.test", `"statsigOrgRole":"admin"`)["statsigOrgRole"]; got != "Admin" {
		t.Errorf("case-insensitive role: %v", got)
	}
	s.fail(http.StatusBadRequest, "invalidValue", "POST", "/Users", s.user("second-owner@acme.test", `"statsigOrgRole":"Owner"`))
	s.fail(http.StatusBadRequest, "invalidValue", "POST", "/Users", s.user("bogus@acme.test", `"statsigOrgRole":"Boss"`))
	m := s.create("member@acme.test", "")
	if m["statsigOrgRole"] != "Member" {
		t.Errorf("default role %v", m["statsigOrgRole"])
	}
	s.ownerRefusals("statsigOrgRole", "Member")
	s.fail(http.StatusBadRequest, "mutability", "PATCH", "/Users/"+idOf(m),
		patch(`{"op":"replace","path":"emails[type eq \"work\"].value","value":"new@acme.test"}`))

	// Project×Role and Project×Team×Role groups grant roles; other groups
	// are refused; renames are refused; projects are not deleted.
	member, existing := idOf(m), idOf(s.find("existing@acme.test"))
	proj := s.req(http.StatusCreated, "POST", "/Groups", `{"displayName":"Statsig-ProjectA-Member","members":[{"value":"`+member+`"},{"value":"`+existing+`"}]}`)
	if diff := cmp.Diff([]string{member}, memberList(proj)); diff != "" {
		t.Errorf("only assigned users join (-want +got):\n%s", diff)
	}
	s.req(http.StatusCreated, "POST", "/Groups", `{"displayName":"Statsig-ProjectA-Admin","members":[{"value":"`+member+`"}]}`)
	team := s.req(http.StatusCreated, "POST", "/Groups", `{"displayName":"Statsig-ProjectB-Growth-Member","members":[{"value":"`+member+`"}]}`)
	want := map[string]any{"org": "Member", "grants": []any{
		map[string]any{"project": "ProjectA", "team": "", "role": "Admin"},
		map[string]any{"project": "ProjectB", "team": "Growth", "role": "Member"},
	}}
	if diff := cmp.Diff(want, s.appRoles(member)); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
	s.fail(http.StatusBadRequest, "invalidValue", "POST", "/Groups", `{"displayName":"My Own Team"}`)
	s.fail(http.StatusBadRequest, "mutability", "PATCH", "/Groups/"+idOf(proj), patch(`{"op":"replace","value":{"displayName":"Statsig-ProjectC-Member"}}`))
	s.fail(http.StatusBadRequest, "mutability", "DELETE", "/Groups/"+idOf(proj), "")
	s.req(http.StatusNoContent, "DELETE", "/Groups/"+idOf(team), "")
	s.req(http.StatusOK, "GET", "/Users/"+member, "")
}

// get walks a dotted path of a decoded body; the key before the last dot
// may itself contain dots when it is a URN.
func get(m map[string]any, path string) any {
	if m == nil {
		return nil
	}
	if v, ok := m[path]; ok {
		return v
	}
	if i := strings.LastIndex(path, "."); i > 0 {
		parent, _ := get(m, path[:i]).(map[string]any)
		if parent != nil {
			return parent[path[i+1:]]
		}
	}
	return nil
}

// TestDemoProfileAttributes: the demo profile's own attributes, seatType at
// the top level and defaultProject in the demo's extension beside
// memberRole, round-trip through POST, PATCH (Entra's URN path) and
// filter, and a seat type the app does not know is refused.
func TestDemoProfileAttributes(t *testing.T) {
	s := startProfile(t, "demo")
	const ext = "urn:ietf:params:scim:schemas:extension:scimkit:2.0:User"
	u := s.req(http.StatusCreated, "POST", "/Users", `{"userName":"ada@acme.test","seatType":"Analyst",
	  "`+ext+`":{"memberRole":"data_owner","defaultProject":"checkout"}}`)
	id := u["id"].(string)
	want := map[string]any{"seatType": "analyst", ext: map[string]any{"memberRole": "data_owner", "defaultProject": "checkout", "managed": true}}
	got := map[string]any{"seatType": u["seatType"], ext: u[ext]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("POST (-want +got):\n%s", diff)
	}
	s.req(http.StatusOK, "PATCH", "/Users/"+id, `{`+patchOp+`,"Operations":[
	  {"op":"Replace","path":"`+ext+`:defaultProject","value":"search"},{"op":"Replace","path":"seatType","value":"standard"}]}`)
	m := s.req(http.StatusOK, "GET", "/Users?filter="+url.QueryEscape(ext+`:defaultProject eq "search" and seatType eq "standard"`), "")
	if list, _ := m["Resources"].([]any); len(list) != 1 || list[0].(map[string]any)["id"] != id {
		t.Errorf("filter on the demo's attributes: %v", m)
	}
	s.fail(http.StatusBadRequest, "invalidValue", "PATCH", "/Users/"+id, `{`+patchOp+`,"Operations":[{"op":"Replace","path":"seatType","value":"gold"}]}`)
}
