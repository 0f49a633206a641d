package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// groupNames returns the sorted displayNames GET /Groups lists, and their
// ids by name.
func (s *session) groupNames() ([]string, map[string]string) {
	s.t.Helper()
	m := s.req(http.StatusOK, "GET", "/Groups?startIndex=1&count=100", "")
	names, ids := []string{}, map[string]string{}
	for _, g := range m["Resources"].([]any) {
		g := g.(map[string]any)
		names = append(names, g["displayName"].(string))
		ids[g["displayName"].(string)] = idOf(g)
	}
	sort.Strings(names)
	return names, ids
}

// memberships returns the names of the groups listing user as a member.
func (s *session) memberships(user string) []string {
	s.t.Helper()
	m := s.req(http.StatusOK, "GET", "/Groups?startIndex=1&count=100", "")
	out := []string{}
	for _, g := range m["Resources"].([]any) {
		g := g.(map[string]any)
		list, _ := g["members"].([]any)
		for _, mem := range list {
			if mem.(map[string]any)["value"] == user {
				out = append(out, g["displayName"].(string))
			}
		}
	}
	sort.Strings(out)
	return out
}

func addMember(user string) string {
	return patch(`{"op":"add","path":"members","value":[{"value":"` + user + `"}]}`)
}

// TestStatsigSeedsProjectGroups: a fresh statsig demo lists the sample
// project's Project×Role groups before any push, so that Okta imports them
// and links its groups; a member pushed onto one gets its project role;
// SCIM neither renames nor deletes them.
func TestStatsigSeedsProjectGroups(t *testing.T) {
	t.Parallel()
	s := startProfile(t, "statsig")
	names, ids := s.groupNames()
	if diff := cmp.Diff([]string{"Statsig-Sample-Admin", "Statsig-Sample-Member", "Statsig-Sample-Read-Only"}, names); diff != "" {
		t.Fatalf("GET /Groups before any push (-want +got):\n%s", diff)
	}
	user := idOf(s.create("ada@acme.test", ""))
	admin := ids["Statsig-Sample-Admin"]
	s.req(http.StatusNoContent, "PATCH", "/Groups/"+admin, addMember(user))
	want := map[string]any{"org": "Member", "grants": []any{map[string]any{"project": "Sample", "team": "", "role": "Admin"}}}
	if diff := cmp.Diff(want, s.appRoles(user)); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
	s.fail(http.StatusBadRequest, "mutability", "DELETE", "/Groups/"+admin, "")
	s.fail(http.StatusBadRequest, "mutability", "PATCH", "/Groups/"+admin, patch(`{"op":"replace","value":{"displayName":"Statsig-Other-Admin"}}`))
	// Pushing the same name again is a conflict: Okta offers to link.
	s.fail(http.StatusConflict, "uniqueness", "POST", "/Groups", `{"displayName":"Statsig-Sample-Admin","members":[]}`)
}

// TestStatsigProjectFlag: -project names the seeded projects.
func TestStatsigProjectFlag(t *testing.T) {
	t.Parallel()
	s := startProfile(t, "statsig", "-project", "Alpha", "-project", "Checkout Flow")
	names, _ := s.groupNames()
	want := []string{
		"Statsig-Alpha-Admin", "Statsig-Alpha-Member", "Statsig-Alpha-Read-Only",
		"Statsig-Checkout Flow-Admin", "Statsig-Checkout Flow-Member", "Statsig-Checkout Flow-Read-Only",
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("GET /Groups (-want +got):\n%s", diff)
	}
}

// TestStatsigSeededGroupsSurviveRestarts: on a persistent -db the seeded
// groups are created once; a restart finds them, same ids, same members.
func TestStatsigSeededGroupsSurviveRestarts(t *testing.T) {
	t.Parallel()
	cfg := demoConfig{dir: t.TempDir(), args: []string{"-profile", "statsig", "-token", "tok"}}
	d := startDemo(t, cfg)
	s := &session{t: t, d: d, token: "tok"}
	names, ids := s.groupNames()
	user := idOf(s.create("ada@acme.test", ""))
	s.req(http.StatusNoContent, "PATCH", "/Groups/"+ids["Statsig-Sample-Member"], addMember(user))
	if code := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code %d\nstderr:\n%s", code, d.stderr)
	}
	s.d = startDemo(t, cfg)
	names2, ids2 := s.groupNames()
	if diff := cmp.Diff(names, names2); diff != "" {
		t.Errorf("groups after the restart (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(ids, ids2); diff != "" {
		t.Errorf("group ids after the restart (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Statsig-Sample-Member"}, s.memberships(user)); diff != "" {
		t.Errorf("memberships after the restart (-want +got):\n%s", diff)
	}
}

// TestDeactivatedUsersLeaveTeams: under the statsig and growthbook
// profiles a user deactivated by PATCH or by PUT is in no team's members
// and keeps no group-granted role, on memory and SQLite.
func TestDeactivatedUsersLeaveTeams(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		profile string
		teams   []string // POSTed with the user as member
		seeded  string   // a seeded group the user is pushed onto, or ""
		grants  []any    // the user's grants before deactivation
	}{
		{"statsig", []string{"Statsig-ProjectB-Growth-Member"}, "Statsig-Sample-Admin", []any{
			map[string]any{"project": "ProjectB", "team": "Growth", "role": "Member"},
			map[string]any{"project": "Sample", "team": "", "role": "Admin"},
		}},
		{"growthbook", []string{"Analysts", "Data Science"}, "", []any{
			map[string]any{"project": "", "team": "Analysts", "role": "collaborator"},
			map[string]any{"project": "", "team": "Data Science", "role": "collaborator"},
		}},
	} {
		for _, db := range []string{"memory", "sqlite"} {
			t.Run(tc.profile+"/"+db, func(t *testing.T) {
				t.Parallel()
				var extra []string
				if db == "sqlite" {
					extra = []string{"-db", filepath.Join(t.TempDir(), "scim.db")}
				}
				s := startProfile(t, tc.profile, extra...)
				_, ids := s.groupNames()
				byPatch, byPut := idOf(s.create("patch@acme.test", "")), idOf(s.create("put@acme.test", ""))
				var want []string
				for _, name := range tc.teams {
					s.req(http.StatusCreated, "POST", "/Groups", fmt.Sprintf(`{"displayName":%q,"members":[{"value":%q},{"value":%q}]}`, name, byPatch, byPut))
					want = append(want, name)
				}
				if tc.seeded != "" {
					s.req(http.StatusNoContent, "PATCH", "/Groups/"+ids[tc.seeded], addMember(byPatch))
					s.req(http.StatusNoContent, "PATCH", "/Groups/"+ids[tc.seeded], addMember(byPut))
					want = append(want, tc.seeded)
				}
				sort.Strings(want)
				for _, u := range []string{byPatch, byPut} {
					if diff := cmp.Diff(want, s.memberships(u)); diff != "" {
						t.Errorf("teams before (-want +got):\n%s", diff)
					}
					if diff := cmp.Diff(tc.grants, s.appRoles(u)["grants"]); diff != "" {
						t.Errorf("grants before (-want +got):\n%s", diff)
					}
				}
				// Okta's pathless PATCH, and the wizard apps' GET + PUT.
				s.req(http.StatusOK, "PATCH", "/Users/"+byPatch, patch(`{"op":"replace","value":{"active":false}}`))
				doc := s.req(http.StatusOK, "GET", "/Users/"+byPut, "")
				doc["active"] = false
				s.req(http.StatusOK, "PUT", "/Users/"+byPut, mustMarshal(doc))
				for _, u := range []string{byPatch, byPut} {
					if got := s.memberships(u); len(got) != 0 {
						t.Errorf("%s is still a member of %v", u, got)
					}
					if diff := cmp.Diff([]any{}, s.appRoles(u)["grants"]); diff != "" {
						t.Errorf("grants after deactivation (-want +got):\n%s", diff)
					}
				}
			})
		}
	}
}
