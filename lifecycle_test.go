package scim_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
	"github.com/scimkit/scim/store/memory"
)

// eventLog collects events delivered to Config.OnEvent.
type eventLog struct {
	mu     sync.Mutex
	events []scim.Event
}

func (l *eventLog) add(_ context.Context, e scim.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

// types returns the event types delivered since the last call.
func (l *eventLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []string{}
	for _, e := range l.events {
		out = append(out, string(e.Type))
	}
	l.events = nil
	return out
}

// seedUser stores an app user that SCIM does not manage.
func seedUser(t *testing.T, st store.Store, tenant, email, role string) string {
	t.Helper()
	id := "app-" + strings.Split(email, "@")[0]
	err := st.Update(context.Background(), tenant, func(tx store.Tx) error {
		return tx.CreateUser(context.Background(), &store.User{ID: id, Role: role, Attributes: store.Attributes{
			"userName": email, "active": true, "memberRole": role,
			"emails": []any{map[string]any{"value": email, "type": "work", "primary": true}},
		}})
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func ownerPolicy() scim.RolePolicy {
	p := demoPolicy
	p.Protected = []string{"owner"}
	return p
}

// TestEvents checks the events a lifecycle produces, in order, with who
// made them and the user before and after.
func TestEvents(t *testing.T) {
	var log eventLog
	s := newTestServer(t, scim.Config{OnEvent: log.add})
	id := str(s.must(http.StatusCreated, "POST", "/Users", `{"userName":"e@x.com","memberRole":"admin"}`, "User-Agent: Okta SCIM Client").body, "id")
	s.must(http.StatusOK, "PATCH", "/Users/"+id, `{"Operations":[{"op":"replace","value":{"active":false,"memberRole":"viewer"}}]}`)
	s.must(http.StatusOK, "PATCH", "/Users/"+id, `{"Operations":[{"op":"replace","path":"active","value":true}]}`)
	s.must(http.StatusOK, "PATCH", "/Users/"+id, `{"Operations":[{"op":"replace","path":"displayName","value":"E"}]}`)
	gid := str(s.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"T","members":[{"value":"`+id+`"},{"value":"ghost"}]}`).body, "id")
	s.must(http.StatusNoContent, "PATCH", "/Groups/"+gid, `{"Operations":[{"op":"replace","value":{"displayName":"T2"}},{"op":"remove","path":"members[value eq \"`+id+`\"]"}]}`)
	s.must(http.StatusNoContent, "DELETE", "/Groups/"+gid, "")
	s.must(http.StatusNoContent, "DELETE", "/Users/"+id, "")
	// A failed write delivers nothing.
	s.must(http.StatusCreated, "POST", "/Users", `{"userName":"dup@x.com"}`)
	s.must(http.StatusConflict, "POST", "/Users", `{"userName":"DUP@x.com"}`)
	want := []string{
		"user.provisioned",
		"user.deactivated", "user.role_changed", "user.updated",
		"user.reactivated", "user.updated",
		"user.updated",
		"group.created", "group.members_added", "group.members_skipped",
		"group.renamed", "group.members_removed",
		"group.deleted",
		"user.deprovisioned",
		"user.provisioned", // the first dup@x.com
	}
	if diff := cmp.Diff(want, log.take()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestEventDetails checks one event's fields in full.
func TestEventDetails(t *testing.T) {
	var log eventLog
	s := newTestServer(t, scim.Config{OnEvent: log.add})
	id := str(s.must(http.StatusCreated, "POST", "/Users", `{"userName":"d@x.com"}`, "User-Agent: Okta SCIM Client 1.0").body, "id")
	s.must(http.StatusOK, "PATCH", "/Users/"+id, `{"Operations":[{"op":"replace","path":"memberRole","value":"admin"}]}`,
		"User-Agent: Azure Active Directory SCIM client")
	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.events) != 3 {
		t.Fatalf("got %d events", len(log.events))
	}
	first, role := log.events[0], log.events[1]
	got := map[string]any{
		"tenant": first.Tenant, "client": first.Client, "user": first.UserID, "before": first.Before == nil,
		"afterRole": first.After.Role, "managed": first.After.Managed, "token": first.TokenID != "",
		"roleClient": role.Client, "roleBefore": role.Before.Role, "roleAfter": role.After.Role, "detail": role.Detail,
	}
	want := map[string]any{
		"tenant": "acme", "client": "okta", "user": id, "before": true, "afterRole": "viewer", "managed": true, "token": true,
		"roleClient": "entra", "roleBefore": "viewer", "roleAfter": "admin", "detail": `role "viewer" → "admin"`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event fields (-want +got):\n%s", diff)
	}
	if strings.Contains(fmt.Sprint(log.events), tokenAcme) {
		t.Errorf("an event carries the token")
	}
}

// TestLinking covers adopting existing app users.
func TestLinking(t *testing.T) {
	tests := []struct {
		name       string
		link       bool
		body       string
		wantStatus int
		wantLinked bool
	}{
		{"by userName", true, `{"userName":"ann@acme.test","memberRole":"admin"}`, 201, true},
		{"by email, other userName", true, `{"userName":"ann.b","emails":[{"value":"ANN@acme.test"}]}`, 201, true},
		{"linking off: same userName conflicts", false, `{"userName":"ann@acme.test"}`, 409, false},
		{"linking off: same email creates", false, `{"userName":"ann.b","emails":[{"value":"ann@acme.test"}]}`, 201, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var log eventLog
			st := memory.New()
			seeded := seedUser(t, st, "acme", "ann@acme.test", "viewer")
			seedUser(t, st, "other", "bob@acme.test", "viewer")
			s := newTestServerWith(t, st, scim.Config{Users: scim.UserRules{LinkExisting: tc.link}, OnEvent: log.add})
			r := s.must(tc.wantStatus, "POST", "/Users", tc.body)
			if tc.wantStatus != 201 {
				return
			}
			if linked := str(r.body, "id") == seeded; linked != tc.wantLinked {
				t.Fatalf("linked = %v, want %v: %s", linked, tc.wantLinked, r.raw)
			}
			if tc.wantLinked {
				if diff := cmp.Diff([]string{"user.linked", "user.updated"}, dropRoleEvents(log.take())); diff != "" {
					t.Errorf("events (-want +got):\n%s", diff)
				}
				var u store.User
				_ = st.View(context.Background(), "acme", func(tx store.Reader) error {
					u, _ = tx.User(context.Background(), seeded)
					return nil
				})
				if !u.Managed || !u.Linked || u.ManagedBy != "acme" {
					t.Errorf("after linking: managed %v linked %v by %q", u.Managed, u.Linked, u.ManagedBy)
				}
			}
		})
	}
	t.Run("never across tenants", func(t *testing.T) {
		st := memory.New()
		seedUser(t, st, "other", "bob@acme.test", "viewer")
		s := newTestServerWith(t, st, scim.Config{Users: scim.UserRules{LinkExisting: true}})
		r := s.must(http.StatusCreated, "POST", "/Users", `{"userName":"bob@acme.test"}`)
		if str(r.body, "id") == "app-bob" {
			t.Errorf("linked a user of another tenant")
		}
	})
	t.Run("never a user of another connection", func(t *testing.T) {
		st := memory.New()
		tokens := scim.NewStaticTokens()
		tokens.AddConnection("acme", "okta", "t-okta")
		tokens.AddConnection("acme", "entra", "t-entra")
		h, err := scim.NewHandler(st, demoPolicy, scim.Config{Authenticator: tokens, Users: scim.UserRules{LinkExisting: true}, Logger: discardLogger()})
		if err != nil {
			t.Fatal(err)
		}
		s := &testServer{t: t, store: st}
		s.srv = newHTTPServer(t, h)
		s.base = s.srv.URL
		id := str(s.must(http.StatusCreated, "POST", "/Users", `{"userName":"c@acme.test"}`, "Authorization: Bearer t-okta").body, "id")
		s.must(http.StatusConflict, "POST", "/Users", `{"userName":"c@acme.test"}`, "Authorization: Bearer t-entra")
		s.must(http.StatusForbidden, "PATCH", "/Users/"+id, `{"Operations":[{"op":"replace","path":"active","value":false}]}`, "Authorization: Bearer t-entra")
		s.must(http.StatusForbidden, "DELETE", "/Users/"+id, "", "Authorization: Bearer t-entra")
		s.must(http.StatusNoContent, "DELETE", "/Users/"+id, "", "Authorization: Bearer t-okta")
	})
}

func dropRoleEvents(types []string) []string {
	out := []string{}
	for _, t := range types {
		if t != "user.role_changed" {
			out = append(out, t)
		}
	}
	return out
}

// TestProtectedOwner checks every refusal records an event and changes
// nothing (the demo profile tests cover the request dialects).
func TestProtectedOwner(t *testing.T) {
	var log eventLog
	st := memory.New()
	owner := seedUser(t, st, "acme", "boss@acme.test", "owner")
	s := newTestServerWith(t, st, scim.Config{Users: scim.UserRules{LinkExisting: true}, OnEvent: log.add})
	h, err := scim.NewHandler(st, ownerPolicy(), scim.Config{Authenticator: tokensFor(), Users: scim.UserRules{LinkExisting: true}, OnEvent: log.add, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	s.srv = newHTTPServer(t, h)
	s.base = s.srv.URL
	before := snapshot(t, st, "acme")
	s.must(http.StatusForbidden, "DELETE", "/Users/"+owner, "")
	s.must(http.StatusForbidden, "PATCH", "/Users/"+owner, `{"Operations":[{"op":"replace","path":"memberRole","value":"viewer"}]}`)
	if diff := cmp.Diff(before, snapshot(t, st, "acme")); diff != "" {
		t.Errorf("refusals changed state:\n%s", diff)
	}
	if diff := cmp.Diff([]string{"user.protected_refused", "user.protected_refused"}, log.take()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	// Linking the owner may not demote them either; keeping the role links.
	s.must(http.StatusForbidden, "POST", "/Users", `{"userName":"boss@acme.test","memberRole":"viewer"}`)
	r := s.must(http.StatusCreated, "POST", "/Users", `{"userName":"boss@acme.test","memberRole":"default"}`)
	if str(r.body, "memberRole") != "owner" {
		t.Errorf("linked owner role %q", str(r.body, "memberRole"))
	}
}

// TestRolePolicies covers the role rules a policy can express.
func TestRolePolicies(t *testing.T) {
	base := demoPolicy
	refuse := base
	refuse.Unknown = scim.UnknownRefuse
	ceiling := base
	ceiling.Ceiling = "experiment_editor"
	insensitive := base
	insensitive.CaseInsensitive = true
	roles := scim.RolePolicy{Attribute: "roles", Values: []string{"member", "admin"}, Default: "member"}
	tests := []struct {
		name       string
		policy     scim.RolePolicy
		body       string
		wantStatus int
		wantRole   any
		roleKey    string
	}{
		{"valid", base, `{"userName":"a","memberRole":"admin"}`, 201, "admin", "memberRole"},
		{"unknown falls back", base, `{"userName":"a","memberRole":"boss"}`, 201, "viewer", "memberRole"},
		{"unknown refused", refuse, `{"userName":"a","memberRole":"boss"}`, 400, nil, ""},
		{"above ceiling falls back", ceiling, `{"userName":"a","memberRole":"admin"}`, 201, "viewer", "memberRole"},
		{"at ceiling", ceiling, `{"userName":"a","memberRole":"experiment_editor"}`, 201, "experiment_editor", "memberRole"},
		{"case-sensitive", base, `{"userName":"a","memberRole":"Admin"}`, 201, "viewer", "memberRole"},
		{"case-insensitive", insensitive, `{"userName":"a","memberRole":"ADMIN"}`, 201, "admin", "memberRole"},
		{"extension", base, `{"userName":"a","urn:ietf:params:scim:schemas:extension:scimkit:2.0:User":{"memberRole":"data_owner"}}`, 201, "data_owner", "memberRole"},
		{"roles attribute primary", roles, `{"userName":"a","roles":[{"value":"member"},{"value":"admin","primary":true}]}`, 201,
			[]any{map[string]any{"value": "admin", "primary": true}}, "roles"},
		{"roles attribute missing", roles, `{"userName":"a"}`, 201, []any{map[string]any{"value": "member", "primary": true}}, "roles"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := scim.NewHandler(memory.New(), tc.policy, scim.Config{Authenticator: tokensFor(), Logger: discardLogger()})
			if err != nil {
				t.Fatal(err)
			}
			s := &testServer{t: t}
			s.srv = newHTTPServer(t, h)
			s.base = s.srv.URL
			r := s.must(tc.wantStatus, "POST", "/Users", tc.body)
			if tc.wantStatus != 201 {
				if str(r.body, "scimType") != "invalidValue" || !strings.Contains(str(r.body, "detail"), "admin") {
					t.Errorf("refusal: %s", r.raw)
				}
				return
			}
			if diff := cmp.Diff(tc.wantRole, r.body[tc.roleKey]); diff != "" {
				t.Errorf("role (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReprovision covers the re-provisioning rules.
func TestReprovision(t *testing.T) {
	for _, tc := range []struct {
		rule scim.ReprovisionRule
		want string
	}{{scim.ReprovisionDefault, "viewer"}, {scim.ReprovisionPrevious, "data_owner"}} {
		p := demoPolicy
		p.Reprovision = tc.rule
		h, err := scim.NewHandler(memory.New(), p, scim.Config{Authenticator: tokensFor(), Logger: discardLogger()})
		if err != nil {
			t.Fatal(err)
		}
		s := &testServer{t: t}
		s.srv = newHTTPServer(t, h)
		s.base = s.srv.URL
		id := str(s.must(http.StatusCreated, "POST", "/Users", `{"userName":"r@x.com","memberRole":"data_owner"}`).body, "id")
		s.must(http.StatusNoContent, "DELETE", "/Users/"+id, "")
		if got := str(s.must(http.StatusCreated, "POST", "/Users", `{"userName":"R@x.com","memberRole":"default"}`).body, "memberRole"); got != tc.want {
			t.Errorf("rule %v: role %q, want %q", tc.rule, got, tc.want)
		}
	}
}

// TestHideUnmanaged keeps app users out of listings and lookups.
func TestHideUnmanaged(t *testing.T) {
	st := memory.New()
	app := seedUser(t, st, "acme", "app@acme.test", "viewer")
	s := newTestServerWith(t, st, scim.Config{Users: scim.UserRules{HideUnmanaged: true}})
	s.must(http.StatusCreated, "POST", "/Users", `{"userName":"idp@acme.test"}`)
	r := s.must(http.StatusOK, "GET", "/Users", "")
	if r.body["totalResults"] != float64(1) {
		t.Errorf("listed %v users", r.body["totalResults"])
	}
	s.must(http.StatusNotFound, "GET", "/Users/"+app, "")
	s.must(http.StatusNotFound, "DELETE", "/Users/"+app, "")
}

// TestStrictMembers refuses a batch naming unknown ids, applying nothing.
func TestStrictMembers(t *testing.T) {
	s := newTestServer(t, scim.Config{Groups: scim.GroupRules{StrictMembers: true}})
	id := str(s.must(http.StatusCreated, "POST", "/Users", `{"userName":"m@x.com"}`).body, "id")
	gid := str(s.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"G"}`).body, "id")
	r := s.must(http.StatusBadRequest, "PATCH", "/Groups/"+gid, `{"Operations":[{"op":"add","path":"members","value":[{"value":"`+id+`"},{"value":"ghost"}]}]}`)
	if !strings.Contains(str(r.body, "detail"), "ghost") {
		t.Errorf("detail does not name the id: %s", r.raw)
	}
	if m := memberIDs(s.must(http.StatusOK, "GET", "/Groups/"+gid, "").body); len(m) != 0 {
		t.Errorf("strict refusal applied members %v", m)
	}
}

// TestGroupRoles checks Handler.Roles: org grants raise the org role,
// project grants keep the highest per project.
func TestGroupRoles(t *testing.T) {
	p := demoPolicy
	p.GroupRoles = []scim.GroupRole{
		{Pattern: "Admins", Role: "admin"},
		{Pattern: "App-{project}-{team}-{role}", Values: []string{"member", "lead"}},
		{Pattern: "App-{project}-{role}", Values: []string{"reader", "writer"}, NoDelete: true},
	}
	st := memory.New()
	h, err := scim.NewHandler(st, p, scim.Config{Authenticator: tokensFor(), Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{t: t, store: st}
	s.srv = newHTTPServer(t, h)
	s.base = s.srv.URL
	id := str(s.must(http.StatusCreated, "POST", "/Users", `{"userName":"g@x.com"}`).body, "id")
	for _, name := range []string{"App-Alpha-reader", "app-alpha-WRITER", "App-Beta-Core-lead", "App-Gamma-owner", "Admins"} {
		s.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"`+name+`","members":[{"value":"`+id+`"}]}`)
	}
	got, err := h.Roles(context.Background(), "acme", id)
	if err != nil {
		t.Fatal(err)
	}
	want := scim.Roles{Org: "admin", Grants: []scim.Grant{
		{Project: "alpha", Role: "writer"},
		{Project: "Beta", Team: "Core", Role: "lead"},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Roles (-want +got):\n%s", diff)
	}
	if _, err := h.Roles(context.Background(), "other", id); err == nil {
		t.Errorf("Roles across tenants found the user")
	}
	g := resources(t, s.must(http.StatusOK, "GET", "/Groups?filter="+filterQuery(`displayName eq "App-Alpha-reader"`), ""))[0]
	s.must(http.StatusBadRequest, "DELETE", "/Groups/"+g["id"].(string), "")
}

// TestPolicyValidation checks NewHandler refuses inconsistent policies.
func TestPolicyValidation(t *testing.T) {
	for name, p := range map[string]scim.RolePolicy{
		"values without attribute": {Values: []string{"a"}},
		"no values":                {Attribute: "role"},
		"default not a value":      {Attribute: "role", Values: []string{"a"}, Default: "b"},
		"ceiling below default":    {Attribute: "role", Values: []string{"a", "b"}, Default: "b", Ceiling: "a"},
		"dotted attribute":         {Attribute: "name.role", Values: []string{"a"}, Default: "a"},
		"group role without role":  {Attribute: "role", Values: []string{"a"}, Default: "a", GroupRoles: []scim.GroupRole{{Pattern: "G-{project}"}}},
	} {
		if _, err := scim.NewHandler(memory.New(), p, scim.Config{Authenticator: tokensFor()}); !errors.Is(err, scim.ErrInvalidConfig) {
			t.Errorf("%s: NewHandler(%+v) = %v, want ErrInvalidConfig", name, p, err)
		}
	}
	if _, err := scim.NewHandler(memory.New(), demoPolicy, scim.Config{}); !errors.Is(err, scim.ErrInvalidConfig) {
		t.Errorf("NewHandler without Authenticator: %v, want ErrInvalidConfig", err)
	}
}

// TestConfigRefusesMistakes: every setting that cannot work is refused by
// NewHandler with an error that matches ErrInvalidConfig and names the
// field; the settings next to them are accepted.
func TestConfigRefusesMistakes(t *testing.T) {
	role := func(attr, urn string) scim.RolePolicy {
		p := demoPolicy
		p.Attribute, p.ExtensionURN = attr, urn
		return p
	}
	tests := []struct {
		name   string
		policy scim.RolePolicy
		cfg    scim.Config
		field  string // "" when the configuration is valid
	}{
		{"role attribute emails", role("emails", ""), scim.Config{}, "RolePolicy.Attribute"},
		{"role attribute active", role("active", ""), scim.Config{}, "RolePolicy.Attribute"},
		{"role attribute userName, other case", role("USERNAME", ""), scim.Config{}, "RolePolicy.Attribute"},
		{"role attribute id", role("id", ""), scim.Config{}, "RolePolicy.Attribute"},
		{"role attribute externalId", role("externalId", ""), scim.Config{}, "RolePolicy.Attribute"},
		{"role attribute groups", role("groups", ""), scim.Config{}, "RolePolicy.Attribute"},
		{"role attribute of the enterprise extension", role("department", ""), scim.Config{}, "RolePolicy.Attribute"},
		{"role attribute manager", role("manager", ""), scim.Config{}, "RolePolicy.Attribute"},
		{"extension URN of the enterprise extension", role("memberRole", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"), scim.Config{}, "RolePolicy.ExtensionURN"},
		{"extension URN of the core schema", role("memberRole", "urn:ietf:params:scim:schemas:core:2.0:User"), scim.Config{}, "RolePolicy.ExtensionURN"},
		{"role attribute roles", role("roles", ""), scim.Config{}, ""},
		{"the app's own attribute", role("seatRole", "urn:example:app:2.0:User"), scim.Config{}, ""},
		{"relative BaseURL", demoPolicy, scim.Config{BaseURL: "/scim/v2"}, "Config.BaseURL"},
		{"BaseURL without host", demoPolicy, scim.Config{BaseURL: "https:///scim/v2"}, "Config.BaseURL"},
		{"BaseURL of another scheme", demoPolicy, scim.Config{BaseURL: "ftp://app.example.com/scim/v2"}, "Config.BaseURL"},
		{"BaseURL with a query", demoPolicy, scim.Config{BaseURL: "https://app.example.com/scim/v2?x=1"}, "Config.BaseURL"},
		{"absolute BaseURL", demoPolicy, scim.Config{BaseURL: "https://app.example.com/scim/v2/"}, ""},
		{"negative page size", demoPolicy, scim.Config{Limits: scim.Limits{MaxPageSize: -5}}, "Limits.MaxPageSize"},
		{"unlimited page size", demoPolicy, scim.Config{Limits: scim.Limits{MaxPageSize: -1}}, "Limits.MaxPageSize"},
		{"negative MaxBodyBytes", demoPolicy, scim.Config{Limits: scim.Limits{MaxBodyBytes: -2}}, "Limits.MaxBodyBytes"},
		{"negative MaxOperations", demoPolicy, scim.Config{Limits: scim.Limits{MaxOperations: -2}}, "Limits.MaxOperations"},
		{"negative MaxMembers", demoPolicy, scim.Config{Limits: scim.Limits{MaxMembers: -100}}, "Limits.MaxMembers"},
		{"negative MaxValues", demoPolicy, scim.Config{Limits: scim.Limits{MaxValues: -5}}, "Limits.MaxValues"},
		{"negative MaxFilterLength", demoPolicy, scim.Config{Limits: scim.Limits{MaxFilterLength: -2}}, "Limits.MaxFilterLength"},
		{"negative MaxFilterDepth", demoPolicy, scim.Config{Limits: scim.Limits{MaxFilterDepth: -3}}, "Limits.MaxFilterDepth"},
		{"negative MaxConcurrent", demoPolicy, scim.Config{Limits: scim.Limits{MaxConcurrent: -2}}, "Limits.MaxConcurrent"},
		{"negative Burst", demoPolicy, scim.Config{Limits: scim.Limits{Burst: -2}}, "Limits.Burst"},
		{"negative RequestsPerSecond", demoPolicy, scim.Config{Limits: scim.Limits{RequestsPerSecond: -0.5}}, "Limits.RequestsPerSecond"},
		{"negative Timeout", demoPolicy, scim.Config{Limits: scim.Limits{Timeout: -time.Second}}, "Limits.Timeout"},
		{"every limit off", demoPolicy, scim.Config{Limits: scim.Limits{MaxBodyBytes: -1, MaxOperations: -1, MaxMembers: -1, MaxValues: -1, MaxFilterLength: -1,
			MaxFilterDepth: -1, MaxConcurrent: -1, Burst: -1, RequestsPerSecond: -1, Timeout: -1}}, ""},
		{"guard share above 1", demoPolicy, scim.Config{DeprovisionGuard: scim.DeprovisionGuard{MaxShare: 1.5}}, "DeprovisionGuard.MaxShare"},
		{"negative JournalSize", demoPolicy, scim.Config{JournalSize: -2}, "Config.JournalSize"},
		{"negative JournalMaxAge", demoPolicy, scim.Config{JournalMaxAge: -time.Hour}, "Config.JournalMaxAge"},
		{"no journal, no age limit", demoPolicy, scim.Config{JournalSize: -1, JournalMaxAge: -1}, ""},
		{"negative guard window", demoPolicy, scim.Config{DeprovisionGuard: scim.DeprovisionGuard{MaxShare: 0.5, Window: -time.Hour}}, "DeprovisionGuard"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Authenticator = tokensFor()
			_, err := scim.NewHandler(memory.New(), tc.policy, tc.cfg)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("NewHandler refused a valid configuration: %v", err)
				}
				return
			}
			if !errors.Is(err, scim.ErrInvalidConfig) {
				t.Fatalf("NewHandler: %v, want an error matching ErrInvalidConfig", err)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error %q does not name %s", err, tc.field)
			}
		})
	}
}

// TestRoleEdgeCases covers what a help-page review found: the extension
// path changes the role after creation, an empty value keeps it, and an
// org role outside Values (the owner's) is never replaced by a group.
func TestRoleEdgeCases(t *testing.T) {
	const ext = "urn:ietf:params:scim:schemas:extension:scimkit:2.0:User"
	s := newTestServer(t, scimConfig())
	id := str(s.must(http.StatusCreated, "POST", "/Users", `{"userName":"x@x.com","memberRole":"admin"}`).body, "id")
	tests := []struct {
		name, body, want string
	}{
		{"extension path", `{"Operations":[{"op":"Replace","path":"` + ext + `:memberRole","value":"data_owner"}]}`, "data_owner"},
		{"pathless URN key", `{"Operations":[{"op":"replace","value":{"` + ext + `:memberRole":"experiment_editor"}}]}`, "experiment_editor"},
		{"empty value keeps", `{"Operations":[{"op":"replace","path":"memberRole","value":""}]}`, "experiment_editor"},
		{"top-level wins when changed", `{"Operations":[{"op":"replace","value":{"memberRole":"admin","` + ext + `:memberRole":"viewer"}}]}`, "admin"},
	}
	for _, tc := range tests {
		r := s.must(http.StatusOK, "PATCH", "/Users/"+id, tc.body)
		extAttrs, _ := r.body[ext].(map[string]any)
		got := map[string]any{"top": r.body["memberRole"], "ext": extAttrs["memberRole"]}
		if diff := cmp.Diff(map[string]any{"top": tc.want, "ext": tc.want}, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}

	p := ownerPolicy()
	p.GroupRoles = []scim.GroupRole{{Pattern: "Viewers", Role: "viewer"}}
	st := memory.New()
	owner := seedUser(t, st, "acme", "boss@acme.test", "owner")
	h, err := scim.NewHandler(st, p, scim.Config{Authenticator: tokensFor(), Logger: discardLogger(), Users: scim.UserRules{LinkExisting: true, RefuseEmailChanges: true}})
	if err != nil {
		t.Fatal(err)
	}
	s2 := &testServer{t: t, store: st}
	s2.srv = newHTTPServer(t, h)
	s2.base = s2.srv.URL
	// Linking by email keeps the app's userName and emails when the app owns them.
	linked := s2.must(http.StatusCreated, "POST", "/Users", `{"userName":"boss.idp","emails":[{"value":"boss@acme.test"},{"value":"alias@acme.test"}]}`)
	if str(linked.body, "id") != owner || str(linked.body, "userName") != "boss@acme.test" || len(linked.body["emails"].([]any)) != 1 {
		t.Errorf("linked owner: %s", linked.raw)
	}
	s2.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"Viewers","members":[{"value":"`+owner+`"}]}`)
	roles, err := h.Roles(context.Background(), "acme", owner)
	if err != nil || roles.Org != "owner" {
		t.Errorf("owner's org role with a viewer group: %q %v", roles.Org, err)
	}
}
