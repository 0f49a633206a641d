package scim_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
)

// statsigPolicy grants project roles through "Statsig-<Project>-<Role>"
// groups, as the demo's statsig profile does.
var statsigPolicy = scim.RolePolicy{
	Attribute: "statsigOrgRole", Values: []string{"Member", "Admin"}, CaseInsensitive: true, Default: "Member",
	GroupRoles: []scim.GroupRole{{Pattern: "Statsig-{project}-{role}", Values: []string{"Read-Only", "Member", "Admin"}}},
}

// of returns "group detail" for each event of type typ, in order.
func (l *eventLog) of(typ store.EventType) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []string{}
	for _, e := range l.events {
		if e.Type == typ {
			out = append(out, e.GroupID+" "+e.Client+" "+e.Detail)
		}
	}
	return out
}

// appServer is a handler over st behind a real HTTP server, with the
// handler at hand for the app's own calls.
func appServer(t *testing.T, st store.Store, policy scim.RolePolicy, cfg scim.Config) (*scim.Handler, *testServer, *eventLog) {
	t.Helper()
	events := &eventLog{}
	cfg.Authenticator, cfg.Logger, cfg.OnEvent = tokensFor(), discardLogger(), events.add
	h, err := scim.NewHandler(st, policy, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{t: t, store: st}
	s.srv = newHTTPServer(t, h)
	s.base = s.srv.URL
	return h, s, events
}

const renameOp = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"displayName":"Statsig-Other-Admin"}}]}`

// TestAppOwnedGroups: groups the app creates are listed for the IdP to
// link before any push, grant their roles to the members pushed onto
// them, and SCIM renames or deletes them only when GroupRules allow it.
func TestAppOwnedGroups(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			ctx := context.Background()
			h, s, events := appServer(t, sc.open(t), statsigPolicy, scim.Config{})
			var ids []string
			for _, name := range []string{"Statsig-Sample-Read-Only", "Statsig-Sample-Member", "Statsig-Sample-Admin"} {
				id, err := h.CreateGroup(ctx, "acme", name)
				if err != nil {
					t.Fatalf("CreateGroup(%q): %v", name, err)
				}
				ids = append(ids, id)
			}
			if _, err := h.CreateGroup(ctx, "acme", "statsig-sample-ADMIN"); !errors.Is(err, store.ErrConflict) {
				t.Errorf("CreateGroup of a taken name = %v, want store.ErrConflict", err)
			}
			for _, bad := range []string{"", "  ", "bad\x00name", "bad\xffname"} {
				var se *scim.Error
				if _, err := h.CreateGroup(ctx, "acme", bad); !errors.As(err, &se) || se.Status != http.StatusBadRequest {
					t.Errorf("CreateGroup(%q) = %v, want a 400 *scim.Error", bad, err)
				}
			}
			// Okta's import: the groups are there before any push, only in
			// their tenant.
			var listed []string
			for _, g := range resources(t, s.must(http.StatusOK, "GET", "/Groups?startIndex=1&count=100", "")) {
				listed = append(listed, g["displayName"].(string))
			}
			if diff := cmp.Diff([]string{"Statsig-Sample-Read-Only", "Statsig-Sample-Member", "Statsig-Sample-Admin"}, listed); diff != "" {
				t.Errorf("GET /Groups (-want +got):\n%s", diff)
			}
			if n := get(s.must(http.StatusOK, "GET", "/Groups", "", "Authorization: Bearer "+tokenOther).body, "totalResults"); n != float64(0) {
				t.Errorf("the other tenant lists %v groups", n)
			}
			if diff := cmp.Diff([]string{ids[0] + " app ", ids[1] + " app ", ids[2] + " app "}, events.of(store.GroupCreated)); diff != "" {
				t.Errorf("GroupCreated events (-want +got):\n%s", diff)
			}

			// "Link Group": Okta PUTs the name it found and pushes members.
			user := str(s.must(http.StatusCreated, "POST", "/Users", oktaUser("ada@example.com", "Ada", "L")).body, "id")
			admin := ids[2]
			s.must(http.StatusOK, "PUT", "/Groups/"+admin, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"`+admin+`","displayName":"Statsig-Sample-Admin"}`)
			s.must(http.StatusNoContent, "PATCH", "/Groups/"+admin, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"`+user+`","display":"Ada"}]}]}`)
			roles, err := h.Roles(ctx, "acme", user)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(scim.Roles{Org: "Member", Grants: []scim.Grant{{Project: "Sample", Role: "Admin"}}}, roles); diff != "" {
				t.Errorf("Roles (-want +got):\n%s", diff)
			}

			// Renames and deletes are refused, with an event each.
			before := s.must(http.StatusOK, "GET", "/Groups/"+admin, "").header.Get("ETag")
			r := s.must(http.StatusBadRequest, "PATCH", "/Groups/"+admin, renameOp)
			if str(r.body, "scimType") != "mutability" {
				t.Errorf("rename refusal: %s", r.raw)
			}
			r = s.must(http.StatusBadRequest, "DELETE", "/Groups/"+admin, "")
			if str(r.body, "scimType") != "mutability" {
				t.Errorf("delete refusal: %s", r.raw)
			}
			after := s.must(http.StatusOK, "GET", "/Groups/"+admin, "")
			if str(after.body, "displayName") != "Statsig-Sample-Admin" || after.header.Get("ETag") != before {
				t.Errorf("a refused change changed the group: %s (ETag %s, was %s)", after.raw, after.header.Get("ETag"), before)
			}
			refusals := events.of(store.AppGroupRefused)
			if len(refusals) != 2 {
				t.Errorf("AppGroupRefused events: %q, want 2", refusals)
			}
			if fromStore := storedEvents(t, s.store, "acme", store.AppGroupRefused); fromStore != len(refusals) && fromStore >= 0 {
				t.Errorf("the outbox holds %d AppGroupRefused events, want %d", fromStore, len(refusals))
			}
		})
	}
}

// storedEvents counts the events of type typ in the store's outbox, or
// returns -1 when the store keeps none.
func storedEvents(t *testing.T, st store.Store, tenant string, typ store.EventType) int {
	t.Helper()
	log, ok := st.(store.EventLog)
	if !ok {
		return -1
	}
	events, err := log.Events(context.Background(), tenant, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// TestAppOwnedGroupsWhenAllowed: with RenameAppGroups and DeleteAppGroups
// (GrowthBook links by renaming; an app may let the IdP delete), SCIM
// renames and deletes app-owned groups as any other.
func TestAppOwnedGroupsWhenAllowed(t *testing.T) {
	ctx := context.Background()
	h, s, events := appServer(t, stores[0].open(t), statsigPolicy,
		scim.Config{Groups: scim.GroupRules{RenameAppGroups: true, DeleteAppGroups: true}})
	id, err := h.CreateGroup(ctx, "acme", "Statsig-Sample-Admin")
	if err != nil {
		t.Fatal(err)
	}
	s.must(http.StatusNoContent, "PATCH", "/Groups/"+id, renameOp)
	if got := str(s.must(http.StatusOK, "GET", "/Groups/"+id, "").body, "displayName"); got != "Statsig-Other-Admin" {
		t.Errorf("displayName after the rename: %q", got)
	}
	s.must(http.StatusNoContent, "DELETE", "/Groups/"+id, "")
	s.must(http.StatusNotFound, "GET", "/Groups/"+id, "")
	if got := events.of(store.AppGroupRefused); len(got) != 0 {
		t.Errorf("refusals: %q", got)
	}
}

// TestTeamRole: a group that matches no GroupRole grants GroupRules.TeamRole
// on its team (GrowthBook's default team role); role groups keep theirs.
func TestTeamRole(t *testing.T) {
	ctx := context.Background()
	p := statsigPolicy
	p.Values = []string{"Member", "Admin"}
	h, s, _ := appServer(t, stores[0].open(t), p, scim.Config{Groups: scim.GroupRules{TeamRole: "Member"}})
	user := str(s.must(http.StatusCreated, "POST", "/Users", oktaUser("ada@example.com", "Ada", "L")).body, "id")
	for _, name := range []string{"Analysts", "Statsig-Sample-Admin", "Growth"} {
		s.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"`+name+`","members":[{"value":"`+user+`"}]}`)
	}
	id, err := h.CreateGroup(ctx, "acme", "Data Science")
	if err != nil {
		t.Fatal(err)
	}
	s.must(http.StatusNoContent, "PATCH", "/Groups/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"`+user+`"}]}]}`)
	roles, err := h.Roles(ctx, "acme", user)
	if err != nil {
		t.Fatal(err)
	}
	want := scim.Roles{Org: "Member", Grants: []scim.Grant{
		{Team: "Analysts", Role: "Member"},
		{Team: "Data Science", Role: "Member"},
		{Team: "Growth", Role: "Member"},
		{Project: "Sample", Role: "Admin"},
	}}
	if diff := cmp.Diff(want, roles); diff != "" {
		t.Errorf("Roles (-want +got):\n%s", diff)
	}
}

// TestGroupRulesValidation: NewHandler refuses a TeamRole outside the
// policy's values and an unknown DeactivationRule.
func TestGroupRulesValidation(t *testing.T) {
	for name, cfg := range map[string]scim.Config{
		"unknown team role": {Groups: scim.GroupRules{TeamRole: "boss"}},
		"unknown rule":      {Users: scim.UserRules{OnDeactivate: scim.SuspendGroups + 1}},
		"negative rule":     {Users: scim.UserRules{OnDeactivate: -1}},
	} {
		cfg.Authenticator = tokensFor()
		if _, err := scim.NewHandler(stores[0].open(t), demoPolicy, cfg); !errors.Is(err, scim.ErrInvalidConfig) {
			t.Errorf("%s: NewHandler = %v, want ErrInvalidConfig", name, err)
		}
	}
}
