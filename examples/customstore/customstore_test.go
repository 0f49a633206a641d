package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
	"github.com/scimkit/scim/store/storetest"
)

// newDB opens a fresh SQLite file with the app's tables.
func newDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := openDB(t.Context(), filepath.Join(t.TempDir(), "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestConformance runs the store contract, telling the suite how the app
// creates accounts itself (seedAccount), so that linking is checked on
// the rows the app really has.
func TestConformance(t *testing.T) {
	storetest.RunWith(t, func(t *testing.T) store.Store { return NewStore(newDB(t), "") },
		storetest.Options{SeedAppUser: seedAccount})
}

// seedAccount inserts an account as the app's own code does: its own
// columns only, none of the SCIM ones.
func seedAccount(ctx context.Context, s store.Store, org string, u storetest.AppUser) error {
	_, err := s.(*Store).db.ExecContext(ctx, `INSERT INTO accounts (id, org_id, email, full_name, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)`, u.ID, org, u.Email, u.Name, formatTime(u.Created), formatTime(u.Created))
	return err
}

// TestAppOnlyRows checks what SCIM sees of the accounts and teams the app
// created itself: users named after their email (found case-insensitively,
// also by email), groups named after the team, both taking part in
// uniqueness.
func TestAppOnlyRows(t *testing.T) {
	ctx := t.Context()
	db := newDB(t)
	created := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	if err := seed(ctx, db, "acme", created); err != nil {
		t.Fatal(err)
	}
	st := NewStore(db, "")
	err := st.View(ctx, "acme", func(r store.Reader) error {
		u, err := r.UserByUserName(ctx, "ADA@acme.example")
		if err != nil {
			return err
		}
		want := store.User{
			ID: "acc_ada",
			Attributes: store.Attributes{
				"userName":    "ada@acme.example",
				"active":      true,
				"displayName": "Ada L.",
				"name":        map[string]any{"formatted": "Ada L."},
				"emails":      []any{map[string]any{"value": "ada@acme.example", "type": "work", "primary": true}},
			},
			Role: "viewer",
			Meta: store.Meta{Created: created, LastModified: created, Version: 1},
		}
		if diff := cmp.Diff(want, u); diff != "" {
			t.Errorf("UserByUserName (-want +got):\n%s", diff)
		}
		byEmail, err := r.ListUsers(ctx, store.Query{Limit: 10, Filter: store.Compare{
			Path: store.Path{Name: "emails", Sub: "value"}, Op: store.Eq, Value: "Olivia@ACME.example"}})
		if err != nil {
			return err
		}
		if got := ids(byEmail.Users); !cmp.Equal(got, []string{"acc_owner"}) {
			t.Errorf("users by email: %q, want [acc_owner]", got)
		}
		g, err := r.Group(ctx, "team_research", true)
		if err != nil {
			return err
		}
		if diff := cmp.Diff([]store.Member{{Value: "acc_owner"}}, g.Members); diff != "" || g.DisplayName() != "Research" {
			t.Errorf("team %q, members (-want +got):\n%s", g.DisplayName(), diff)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(ctx, "acme", func(tx store.Tx) error {
		u := &store.User{ID: "new", Attributes: store.Attributes{"userName": "OLIVIA@acme.example"}}
		return tx.CreateUser(ctx, u)
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateUser with the owner's email as userName: %v, want ErrConflict", err)
	}
	err = st.Update(ctx, "acme", func(tx store.Tx) error {
		return tx.CreateGroup(ctx, &store.Group{ID: "new", Attributes: store.Attributes{"displayName": "RESEARCH"}})
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateGroup named like the app's team: %v, want ErrConflict", err)
	}
}

// TestLookupsAreIndexHits checks that the lookups identity providers make
// on every request select their candidates through an index, never by
// walking the org's rows.
func TestLookupsAreIndexHits(t *testing.T) {
	db := newDB(t)
	r := &reader{org: "acme"}
	eq := func(p store.Path, v string) store.Compare {
		return store.Compare{Path: p, Op: store.Eq, Value: v, CaseExact: true}
	}
	tests := []struct {
		name   string
		filter store.Filter
		users  bool
	}{
		{"userName", eq(pathUserName, "ada@acme.example"), true},
		{"emails.value", eq(pathEmailValue, "ada@acme.example"), true},
		{"emails[type eq work].value (Entra)", store.ValuePath{Path: pathEmails, Filter: store.And{
			Left: eq(store.Path{Name: "type"}, "work"), Right: eq(pathValue, "ada@acme.example")}}, true},
		{"id and active", store.And{Left: eq(store.Path{Name: "active"}, "x"), Right: eq(pathID, "acc_ada")}, true},
		{"displayName", eq(pathDisplayName, "Research"), false},
		{"id and members.value (Entra)", store.And{Left: eq(pathID, "team_research"), Right: eq(pathMemberValue, "acc_ada")}, false},
		{"members[value eq]", store.ValuePath{Path: pathMembers, Filter: eq(pathValue, "acc_ada")}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// As queryUsers and queryTeams ask, with the order that tempts
			// SQLite to walk the org's index instead.
			query := `SELECT ` + teamColumns + ` FROM teams t WHERE %s ORDER BY t.created_at, t.id`
			where, args, ok := r.teamCondition(tc.filter)
			if tc.users {
				query = `SELECT ` + userColumns + ` FROM accounts a WHERE %s ORDER BY a.created_at, a.id`
				where, args, ok = r.userCondition(tc.filter)
			}
			if !ok {
				t.Fatal("not pushed down")
			}
			rows, err := db.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+fmt.Sprintf(query, where), args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			for _, step := range plan {
				if strings.HasPrefix(step, "SCAN") || strings.Contains(step, "_org ") {
					t.Errorf("plan walks rows: %q in\n%s", step, strings.Join(plan, "\n"))
				}
			}
		})
	}
}

func ids(users []store.User) []string {
	out := []string{}
	for _, u := range users {
		out = append(out, u.ID)
	}
	return out
}

// TestEndToEnd drives the handler over real HTTP as an IdP would, and
// checks the app's own tables with plain SQL after each step.
func TestEndToEnd(t *testing.T) {
	ctx := t.Context()
	db := newDB(t)
	if err := seed(ctx, db, "acme", time.Now()); err != nil {
		t.Fatal(err)
	}
	tokens := scim.NewStaticTokens()
	tokens.Add("acme", "secret")
	h, err := newHandler(NewStore(db, roleAttribute), tokens, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", h))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	call := func(method, path, body string, wantStatus int) map[string]any {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, srv.URL+"/scim/v2"+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer secret")
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != wantStatus {
			t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, wantStatus, b)
		}
		var doc map[string]any
		if len(b) > 0 {
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
		}
		return doc
	}
	type account struct {
		ID, Email, FullName, Role string
		Active, Managed, Linked   bool
		Version                   int64
	}
	accountRow := func(id string) account {
		t.Helper()
		a := account{ID: id}
		err := db.QueryRowContext(ctx, `SELECT email, full_name, role, active, scim_managed, scim_linked, version
			FROM accounts WHERE id = ?`, id).Scan(&a.Email, &a.FullName, &a.Role, &a.Active, &a.Managed, &a.Linked, &a.Version)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}

	// Okta's create: look the user up, then POST. Ada exists in the app:
	// she is adopted, with the IdP's name and role.
	list := call("GET", `/Users?filter=userName+eq+%22ada%40acme.example%22&startIndex=1&count=100`, "", http.StatusOK)
	if list["totalResults"] != float64(1) {
		t.Errorf("lookup of the existing account: totalResults %v, want 1", list["totalResults"])
	}
	user := call("POST", "/Users", `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName": "Ada@acme.example", "externalId": "00u1",
		"name": {"givenName": "Ada", "familyName": "Lovelace"},
		"emails": [{"value": "ada@acme.example", "type": "work", "primary": true}],
		"memberRole": "editor", "active": true, "password": "x", "groups": []}`, http.StatusCreated)
	if user["id"] != "acc_ada" {
		t.Fatalf("POST adopted id %v, want acc_ada", user["id"])
	}
	want := account{ID: "acc_ada", Email: "ada@acme.example", FullName: "Ada Lovelace", Role: "editor", Active: true, Managed: true, Linked: true, Version: 2}
	if diff := cmp.Diff(want, accountRow("acc_ada")); diff != "" {
		t.Errorf("accounts row after the POST (-want +got):\n%s", diff)
	}

	// Entra's create: its userName is the UPN, and the work email is the
	// address of an account the app created before SCIM: adopted too.
	if err := seedAccount(ctx, NewStore(db, ""), "acme", storetest.AppUser{ID: "acc_kim", Email: "kim@acme.example",
		Name: "Kim", Created: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	kim := call("POST", "/Users", `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName": "kim@acme.onmicrosoft.example", "active": true,
		"name": {"givenName": "Kim", "familyName": "Lee"},
		"emails": [{"value": "KIM@acme.example", "type": "work", "primary": true}]}`, http.StatusCreated)
	if kim["id"] != "acc_kim" {
		t.Fatalf("POST by email adopted id %v, want acc_kim", kim["id"])
	}
	wantKim := account{ID: "acc_kim", Email: "KIM@acme.example", FullName: "Kim Lee", Role: "viewer", Active: true, Managed: true, Linked: true, Version: 2}
	if diff := cmp.Diff(wantKim, accountRow("acc_kim")); diff != "" {
		t.Errorf("accounts row after the POST by email (-want +got):\n%s", diff)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM accounts WHERE org_id = 'acme'`).Scan(&n); err != nil || n != 3 {
		t.Errorf("accounts of acme: %d (%v), want 3: no duplicate", n, err)
	}

	// Okta's deactivation.
	call("PATCH", "/Users/acc_ada", `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations": [{"op": "replace", "value": {"active": false}}]}`, http.StatusOK)
	want.Active, want.Version = false, 3
	if diff := cmp.Diff(want, accountRow("acc_ada")); diff != "" {
		t.Errorf("accounts row after the deactivation (-want +got):\n%s", diff)
	}

	// The app changes Ada's role itself (and the version, for ETags); SCIM
	// shows the app's role.
	if _, err := db.ExecContext(ctx, `UPDATE accounts SET role = 'admin', version = version + 1 WHERE id = 'acc_ada'`); err != nil {
		t.Fatal(err)
	}
	got := call("GET", "/Users/acc_ada", "", http.StatusOK)
	if got[roleAttribute] != "admin" || got["active"] != false || got["id"] != "acc_ada" {
		t.Errorf("GET after the app's role change: %s %v, active %v; want admin, false", roleAttribute, got[roleAttribute], got["active"])
	}
	want.Role, want.Version = "admin", 4

	// The owner cannot be deactivated through SCIM.
	call("PATCH", "/Users/acc_owner", `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations": [{"op": "replace", "path": "active", "value": false}]}`, http.StatusForbidden)
	if a := accountRow("acc_owner"); !a.Active || a.Role != "owner" {
		t.Errorf("owner after a refused deactivation: %+v", a)
	}

	// Group push: a new team, then Ada joins it.
	group := call("POST", "/Groups", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
		"displayName": "Data Science", "members": []}`, http.StatusCreated)
	gid, _ := group["id"].(string)
	call("PATCH", "/Groups/"+gid, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations": [{"op": "add", "path": "members", "value": [{"value": "acc_ada", "display": "Ada"}]}]}`, http.StatusNoContent)
	var teamName string
	var teamVersion int64
	if err := db.QueryRowContext(ctx, `SELECT name, version FROM teams WHERE id = ? AND org_id = 'acme'`, gid).Scan(&teamName, &teamVersion); err != nil {
		t.Fatal(err)
	}
	if teamName != "Data Science" || teamVersion != 2 {
		t.Errorf("teams row: name %q version %d, want Data Science and 2", teamName, teamVersion)
	}
	var members []string
	rows, err := db.QueryContext(ctx, `SELECT account_id FROM team_members WHERE team_id = ?`, gid)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		members = append(members, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"acc_ada"}, members); diff != "" {
		t.Errorf("team_members (-want +got):\n%s", diff)
	}

	// A rename through SCIM renames the app's team.
	call("PATCH", "/Groups/"+gid, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations": [{"op": "replace", "value": {"id": "`+gid+`", "displayName": "ML"}}]}`, http.StatusNoContent)
	if err := db.QueryRowContext(ctx, `SELECT name FROM teams WHERE id = ?`, gid).Scan(&teamName); err != nil {
		t.Fatal(err)
	}
	if teamName != "ML" {
		t.Errorf("team name after the rename: %q, want ML", teamName)
	}
	// Joining a team leaves the account as it was.
	if diff := cmp.Diff(want, accountRow("acc_ada")); diff != "" {
		t.Errorf("accounts row at the end (-want +got):\n%s", diff)
	}
}

// TestUpdateWaitsForTheWriteLock checks the choice of BEGIN IMMEDIATE:
// concurrent Updates of two orgs that read before they write all commit.
func TestUpdateWaitsForTheWriteLock(t *testing.T) {
	ctx := t.Context()
	st := NewStore(newDB(t), "")
	const n = 20
	errs := make(chan error, n)
	for i := range n {
		go func() {
			org := []string{"a", "b"}[i%2]
			errs <- st.Update(ctx, org, func(tx store.Tx) error {
				if _, err := tx.ListUsers(ctx, store.Query{Limit: 10}); err != nil {
					return err
				}
				u := &store.User{ID: org + string(rune('a'+i)), Attributes: store.Attributes{"userName": string(rune('a' + i))}}
				return tx.CreateUser(ctx, u)
			})
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestDeclaredAttributes: attributes the app declares in scim.Config.Schema
// reach an adapter in store.User.Attributes like any other, so an adapter
// that keeps the attributes document stores, returns and filters them
// without knowing them.
func TestDeclaredAttributes(t *testing.T) {
	const acme = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"
	db := newDB(t)
	st := NewStore(db, roleAttribute)
	tokens := scim.NewStaticTokens()
	tokens.Add("acme", "secret")
	h, err := scim.NewHandler(st, scim.RolePolicy{Attribute: roleAttribute, Values: []string{"viewer", "admin"}, Default: "viewer"},
		scim.Config{Authenticator: tokens, Logger: slog.New(slog.DiscardHandler), Schema: scim.Schema{
			User:           []scim.Attribute{{Name: "seatType"}},
			UserExtensions: []scim.Extension{{URN: acme, Attributes: []scim.Attribute{{Name: "licenseTier"}}}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	call := func(method, path, body string, want int) map[string]any {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var doc map[string]any
		b, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(b, &doc)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, b)
		}
		return doc
	}
	u := call("POST", "/Users", `{"userName":"ada@acme.example","seatType":"premium","`+acme+`":{"licenseTier":"gold"},
	  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D"}}`, http.StatusCreated)
	id := u["id"].(string)
	call("PATCH", "/Users/"+id, `{"Operations":[{"op":"Replace","path":"`+acme+`:licenseTier","value":"platinum"}]}`, http.StatusOK)
	got := call("GET", "/Users?filter="+strings.ReplaceAll(acme+`:licenseTier eq "platinum"`, " ", "+"), "", http.StatusOK)
	list, _ := got["Resources"].([]any)
	if len(list) != 1 {
		t.Fatalf("filter on a declared attribute: %v", got)
	}
	want := map[string]any{"seatType": "premium", acme: map[string]any{"licenseTier": "platinum"},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{"department": "R&D"}}
	doc := list[0].(map[string]any)
	for k := range doc {
		if _, ok := want[k]; !ok {
			delete(doc, k)
		}
	}
	if diff := cmp.Diff(want, doc); diff != "" {
		t.Errorf("user (-want +got):\n%s", diff)
	}
}
