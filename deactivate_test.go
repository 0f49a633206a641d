package scim_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
	sqlstore "github.com/scimkit/scim/store/sql"
)

// deactivations are the ways IdPs deactivate and reactivate a user.
var deactivations = []struct {
	name string
	set  func(s *testServer, id string, active bool)
}{
	{"okta PATCH", func(s *testServer, id string, active bool) {
		v, _ := json.Marshal(active)
		s.must(http.StatusOK, "PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":`+string(v)+`}}]}`)
	}},
	{"entra PATCH", func(s *testServer, id string, active bool) {
		v := map[bool]string{true: "True", false: "False"}[active]
		s.must(http.StatusOK, "PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"`+v+`"}]}`)
	}},
	{"okta PUT", func(s *testServer, id string, active bool) {
		doc := s.must(http.StatusOK, "GET", "/Users/"+id, "").body
		doc["active"] = active
		s.must(http.StatusOK, "PUT", "/Users/"+id, mustJSON(s.t, doc))
	}},
}

// teamsOf returns, for each group id, whether user is among its members,
// and the group's ETag.
func teamsOf(s *testServer, user string, groups []string) (member map[string]bool, etags map[string]string) {
	s.t.Helper()
	member, etags = map[string]bool{}, map[string]string{}
	for _, g := range groups {
		r := s.must(http.StatusOK, "GET", "/Groups/"+g, "")
		etags[g] = r.header.Get("ETag")
		member[g] = false
		list, _ := r.body["members"].([]any)
		for _, m := range list {
			if m.(map[string]any)["value"] == user {
				member[g] = true
			}
		}
	}
	return member, etags
}

func all(groups []string, v bool) map[string]bool {
	out := map[string]bool{}
	for _, g := range groups {
		out[g] = v
	}
	return out
}

// TestDeactivationLeavesGroups: under LeaveGroups and SuspendGroups a
// deactivated user leaves every group (each group gets a new version and
// a MembersRemoved event) and loses the roles they granted; SuspendGroups
// puts the user back on reactivation, LeaveGroups does not, KeepGroups
// never removes anyone.
func TestDeactivationLeavesGroups(t *testing.T) {
	for _, sc := range stores {
		for _, rule := range []struct {
			name                  string
			rule                  scim.DeactivationRule
			whileOff, reactivated bool
		}{
			{"KeepGroups", scim.KeepGroups, true, true},
			{"LeaveGroups", scim.LeaveGroups, false, false},
			{"SuspendGroups", scim.SuspendGroups, false, true},
		} {
			for _, d := range deactivations {
				t.Run(sc.name+"/"+rule.name+"/"+d.name, func(t *testing.T) {
					ctx := context.Background()
					h, s, events := appServer(t, sc.open(t), statsigPolicy, scim.Config{Users: scim.UserRules{OnDeactivate: rule.rule}})
					user := str(s.must(http.StatusCreated, "POST", "/Users", oktaUser("ada@example.com", "Ada", "L")).body, "id")
					other := str(s.must(http.StatusCreated, "POST", "/Users", oktaUser("bob@example.com", "Bob", "M")).body, "id")
					var groups []string
					for _, name := range []string{"Statsig-Sample-Admin", "Growth"} {
						r := s.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"`+name+`","members":[{"value":"`+user+`"},{"value":"`+other+`"}]}`)
						groups = append(groups, str(r.body, "id"))
					}
					app, err := h.CreateGroup(ctx, "acme", "Statsig-Sample-Member")
					if err != nil {
						t.Fatal(err)
					}
					s.must(http.StatusNoContent, "PATCH", "/Groups/"+app, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"`+user+`"}]}]}`)
					groups = append(groups, app)
					_, etags := teamsOf(s, user, groups)

					d.set(s, user, false)
					member, after := teamsOf(s, user, groups)
					if diff := cmp.Diff(all(groups, rule.whileOff), member); diff != "" {
						t.Errorf("memberships while inactive (-want +got):\n%s", diff)
					}
					removed := events.of(store.MembersRemoved)
					roles, err := h.Roles(ctx, "acme", user)
					if err != nil {
						t.Fatal(err)
					}
					if rule.whileOff {
						if len(removed) != 0 || len(roles.Grants) == 0 {
							t.Errorf("KeepGroups removed %q; grants %v", removed, roles.Grants)
						}
					} else {
						var want []string
						for _, g := range groups {
							want = append(want, g+" other the user was deactivated")
							if after[g] == etags[g] {
								t.Errorf("group %s kept its version %s", g, after[g])
							}
						}
						if diff := cmp.Diff(sortedCopy(want), sortedCopy(removed)); diff != "" {
							t.Errorf("MembersRemoved events (-want +got):\n%s", diff)
						}
						if diff := cmp.Diff(scim.Roles{Org: "Member"}, roles); diff != "" {
							t.Errorf("roles while inactive (-want +got):\n%s", diff)
						}
					}
					if got, _ := teamsOf(s, other, groups[:2]); !got[groups[0]] || !got[groups[1]] {
						t.Errorf("the other member left too: %v", got)
					}

					d.set(s, user, true)
					member, _ = teamsOf(s, user, groups)
					if diff := cmp.Diff(all(groups, rule.reactivated), member); diff != "" {
						t.Errorf("memberships after reactivation (-want +got):\n%s", diff)
					}
				})
			}
		}
	}
}

// TestSuspendedGroupsSkipDeletedGroups: a group deleted while its member
// was inactive is not restored, and the others are.
func TestSuspendedGroupsSkipDeletedGroups(t *testing.T) {
	_, s, _ := appServer(t, stores[1].open(t), statsigPolicy, scim.Config{Users: scim.UserRules{OnDeactivate: scim.SuspendGroups}})
	user := str(s.must(http.StatusCreated, "POST", "/Users", oktaUser("ada@example.com", "Ada", "L")).body, "id")
	var groups []string
	for _, name := range []string{"A", "B"} {
		groups = append(groups, str(s.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"`+name+`","members":[{"value":"`+user+`"}]}`).body, "id"))
	}
	deactivations[0].set(s, user, false)
	s.must(http.StatusNoContent, "DELETE", "/Groups/"+groups[0], "")
	deactivations[0].set(s, user, true)
	s.must(http.StatusNotFound, "GET", "/Groups/"+groups[0], "")
	if member, _ := teamsOf(s, user, groups[1:]); !member[groups[1]] {
		t.Errorf("not restored to the remaining group")
	}
}

// TestSuspendGroupsTwoHandlers: the groups a user left are remembered in
// the database, so that another instance of the app restores them: one
// handler deactivates, the other reactivates, on one SQLite file and on
// one PostgreSQL database.
func TestSuspendGroupsTwoHandlers(t *testing.T) {
	for _, db := range []struct {
		name string
		open func(t *testing.T) func() *sql.DB
		d    sqlstore.Dialect
	}{
		{"sqlite", func(t *testing.T) func() *sql.DB {
			file := "file:" + filepath.Join(t.TempDir(), "scim.db") + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
			return func() *sql.DB { return openDB(t, "sqlite", file) }
		}, sqlstore.SQLite},
		{"postgres", func(t *testing.T) func() *sql.DB {
			dsn := postgresTestDSN(t)
			return func() *sql.DB { return openDB(t, "pgx", dsn) }
		}, sqlstore.Postgres},
	} {
		t.Run(db.name, func(t *testing.T) {
			open := db.open(t)
			cfg := scim.Config{Users: scim.UserRules{OnDeactivate: scim.SuspendGroups}}
			_, a, _ := appServer(t, migratedStore(t, open(), db.d), statsigPolicy, cfg)
			hb, b, _ := appServer(t, migratedStore(t, open(), db.d), statsigPolicy, cfg)
			user := str(a.must(http.StatusCreated, "POST", "/Users", oktaUser("ada@example.com", "Ada", "L")).body, "id")
			group := str(b.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"Statsig-Sample-Admin","members":[{"value":"`+user+`"}]}`).body, "id")
			deactivations[0].set(a, user, false)
			if member, _ := teamsOf(b, user, []string{group}); member[group] {
				t.Errorf("still a member after the deactivation")
			}
			deactivations[2].set(b, user, true)
			if member, _ := teamsOf(a, user, []string{group}); !member[group] {
				t.Errorf("not restored by the other handler")
			}
			roles, err := hb.Roles(context.Background(), "acme", user)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(scim.Roles{Org: "Member", Grants: []scim.Grant{{Project: "Sample", Role: "Admin"}}}, roles); diff != "" {
				t.Errorf("roles after the reactivation (-want +got):\n%s", diff)
			}
		})
	}
}

func openDB(t *testing.T, driver, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
