package main

import (
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDemoKeepsDataAcrossRestarts provisions a user and a group with the
// default store (scim.db, SQLite, in the working directory), stops the
// server with SIGTERM, starts it again on the same directory and reads
// everything back, unchanged, by id and through the lookups an identity
// provider uses.
func TestDemoKeepsDataAcrossRestarts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := demoConfig{dir: dir, args: []string{"-token", "tok"}}

	d := startDemo(t, cfg)
	user := d.call(t, "POST", "/Users", "tok", userJSON("ada@example.com")).want(t, http.StatusCreated)
	u := decode[scimUser](t, user)
	group := d.call(t, "POST", "/Groups", "tok", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],
		"displayName":"Data Science","members":[{"value":"`+u.ID+`"}]}`).want(t, http.StatusCreated)
	g := decode[scimGroup](t, group)
	wantUser := decode[scimUser](t, d.call(t, "GET", "/Users/"+u.ID, "tok", "").want(t, http.StatusOK))
	wantGroup := decode[scimGroup](t, d.call(t, "GET", "/Groups/"+g.ID, "tok", "").want(t, http.StatusOK))
	if code := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code %d after SIGTERM\nstderr:\n%s", code, d.stderr)
	}
	if _, err := os.Stat(dir + "/scim.db"); err != nil {
		t.Fatalf("no scim.db in the working directory: %v", err)
	}

	d = startDemo(t, cfg)
	gotUser := decode[scimUser](t, d.call(t, "GET", "/Users/"+u.ID, "tok", "").want(t, http.StatusOK))
	// meta.location names the new port.
	if want := d.base + "/Users/" + u.ID; gotUser.Meta.Location != want {
		t.Errorf("meta.location %q, want %q", gotUser.Meta.Location, want)
	}
	wantUser.Meta.Location, gotUser.Meta.Location = "", ""
	if diff := cmp.Diff(wantUser, gotUser); diff != "" {
		t.Errorf("user after the restart (-want +got):\n%s", diff)
	}
	gotGroup := decode[scimGroup](t, d.call(t, "GET", "/Groups/"+g.ID, "tok", "").want(t, http.StatusOK))
	if diff := cmp.Diff(wantGroup, gotGroup); diff != "" {
		t.Errorf("group after the restart (-want +got):\n%s", diff)
	}
	if n := len(gotGroup.Members); n != 1 || gotGroup.Members[0].Value != u.ID {
		t.Errorf("group members after the restart: %+v, want %s", gotGroup.Members, u.ID)
	}
	found := decode[listResponse[scimUser]](t, d.call(t, "GET", filterPath("userName", "ADA@example.com"), "tok", "").want(t, http.StatusOK))
	if found.TotalResults != 1 || len(found.Resources) != 1 || found.Resources[0].ID != u.ID {
		t.Errorf("userName lookup after the restart: %+v", found)
	}
	groups := decode[listResponse[scimGroup]](t, d.call(t, "GET", "/Groups?excludedAttributes=members&filter="+
		url.QueryEscape(`displayName eq "Data Science"`), "tok", "").want(t, http.StatusOK))
	if groups.TotalResults != 1 || len(groups.Resources) != 1 || groups.Resources[0].ID != g.ID {
		t.Errorf("displayName lookup after the restart: %+v", groups)
	}
	// The restored data is live: a duplicate is still refused, the user
	// can be changed.
	d.call(t, "POST", "/Users", "tok", userJSON("ada@example.com")).want(t, http.StatusConflict)
	d.call(t, "PATCH", "/Users/"+u.ID, "tok", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"replace","value":{"active":false}}]}`).want(t, http.StatusOK)
	if code := d.stop(t, syscall.SIGINT); code != 0 {
		t.Fatalf("exit code %d after SIGINT\nstderr:\n%s", code, d.stderr)
	}

	d = startDemo(t, cfg)
	if got := decode[scimUser](t, d.call(t, "GET", "/Users/"+u.ID, "tok", "").want(t, http.StatusOK)); got.Active {
		t.Errorf("deactivation lost across the second restart: %+v", got)
	}
}

// TestDemoStopsOnADatabaseItCannotUse complements TestDemoBadFlags, whose
// servers are unreachable: here PostgreSQL answers but refuses the
// connection (no such database). The server must stop at start with one
// line naming the database, its password hidden.
func TestDemoStopsOnADatabaseItCannotUse(t *testing.T) {
	t.Parallel()
	dsn := os.Getenv("SCIM_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("SCIM_TEST_POSTGRES_DSN is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/scimkit_no_such_database"
	u.User = url.UserPassword(u.User.Username(), "hunter2")
	code, stdout, stderr := runDemo(t, t.TempDir(), "-token", "tok", "-db", u.String())
	if code == 0 {
		t.Errorf("exit code 0, want non-zero")
	}
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	last := lines[len(lines)-1]
	redacted := *u
	redacted.User = url.UserPassword(u.User.Username(), "xxxxx")
	if want := "server: cannot connect to " + redacted.String() + ": "; !strings.HasPrefix(last, want) || len(last) == len(want) {
		t.Errorf("last line of stderr %q, want %q and a reason; stderr:\n%s", last, want, stderr)
	}
	if strings.Contains(stdout+stderr, "hunter2") {
		t.Errorf("printed the password:\n%s%s", stdout, stderr)
	}
	if strings.Contains(stdout, "serving") {
		t.Errorf("announced serving:\n%s", stdout)
	}
}
