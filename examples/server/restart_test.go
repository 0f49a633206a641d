package main

import (
	"net/http"
	"net/url"
	"os"
	"regexp"
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

// TestDemoTokenSurvivesRestarts: without -token, the first start on a
// SQLite file stores a token and prints it; after a restart (and another)
// the same token still works, the start says so and how to get a new one,
// and no new token is printed. With -db memory each start prints a new
// token.
func TestDemoTokenSurvivesRestarts(t *testing.T) {
	t.Parallel()
	generated := regexp.MustCompile(`(?m)^SCIM token for tenant "default": (scim_\S+)$`)
	cfg := demoConfig{dir: t.TempDir(), args: []string{"-owner", "boss@example.com"}}
	d := startDemo(t, cfg)
	m := generated.FindStringSubmatch(d.stdout.String())
	if m == nil {
		t.Fatalf("the first start printed no scim_ token:\n%s", d.stdout)
	}
	token := m[1]
	d.call(t, "GET", "/Users", token, "").want(t, http.StatusOK)
	if code := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code %d\nstderr:\n%s", code, d.stderr)
	}
	for restart := 1; restart <= 2; restart++ {
		d = startDemo(t, cfg)
		l := decode[listResponse[scimUser]](t, d.call(t, "GET", "/Users", token, "").want(t, http.StatusOK))
		if l.TotalResults != 1 || l.Resources[0].UserName != "boss@example.com" {
			t.Errorf("restart %d: the first token's tenant has %+v", restart, l.Resources)
		}
		out := d.stdout.String()
		if generated.MatchString(out) {
			t.Errorf("restart %d printed a new token:\n%s", restart, out)
		}
		if !strings.Contains(out, "still work") || !strings.Contains(out, "token create -tenant default") {
			t.Errorf("restart %d does not say the token still works and how to get a new one:\n%s", restart, out)
		}
		d.stop(t, syscall.SIGTERM)
	}
	mem := startDemo(t, demoConfig{args: []string{"-db", "memory"}})
	first := generated.FindStringSubmatch(mem.stdout.String())
	mem.stop(t, syscall.SIGTERM)
	mem = startDemo(t, demoConfig{args: []string{"-db", "memory"}})
	second := generated.FindStringSubmatch(mem.stdout.String())
	if first == nil || second == nil || first[1] == second[1] {
		t.Errorf("-db memory: tokens %v and %v, want a new one per start", first, second)
	}
}
