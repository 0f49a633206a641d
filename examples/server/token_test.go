package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store/memory"
)

// secretLine is the line of "token create" that holds the secret alone.
var secretLine = regexp.MustCompile(`(?m)^(scim_([0-9a-z]{8})_[0-9a-z]{52})$`)

// tokenCmd runs "server token …" in dir and fails unless it exits 0.
func tokenCmd(t *testing.T, dir string, args ...string) (stdout, stderr string) {
	t.Helper()
	code, stdout, stderr := runDemo(t, dir, append([]string{"token"}, args...)...)
	if code != 0 {
		t.Fatalf("server token %s: exit code %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout, stderr)
	}
	return stdout, stderr
}

// createToken runs "server token create" and returns the secret and id.
func createToken(t *testing.T, dir string, args ...string) (secret, id, stdout string) {
	t.Helper()
	stdout, _ = tokenCmd(t, dir, append([]string{"create"}, args...)...)
	m := secretLine.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no secret line in the output of token create:\n%s", stdout)
	}
	return m[1], m[2], stdout
}

// listRow returns the row of "server token list" for the token id.
func listRow(t *testing.T, dir, tenant, id string) string {
	t.Helper()
	stdout, _ := tokenCmd(t, dir, "list", "-tenant", tenant)
	for _, line := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(line, id+" ") {
			return line
		}
	}
	t.Fatalf("token %s not listed:\n%s", id, stdout)
	return ""
}

func TestDemoStoredTokens(t *testing.T) {
	t.Parallel()
	dir := t.TempDir() // the default -db, scim.db, lands here

	secret, id, out := createToken(t, dir, "-tenant", "acme", "-name", "Okta production", "-expires", "720h")
	for _, want := range []string{`token ` + id + ` "Okta production" for tenant "acme", expires `, "shown only this once"} {
		if !strings.Contains(out, want) {
			t.Errorf("token create output lacks %q:\n%s", want, out)
		}
	}
	// Rotation: a second token of the same tenant, created through the
	// -db given before the subcommand.
	code, out2, stderr := runDemo(t, dir, "-db", "scim.db", "token", "create", "-tenant", "acme")
	if code != 0 {
		t.Fatalf("server -db scim.db token create: exit %d\n%s", code, stderr)
	}
	second := secretLine.FindStringSubmatch(out2)
	if second == nil {
		t.Fatalf("no secret in:\n%s", out2)
	}
	if row := listRow(t, dir, "acme", id); !strings.Contains(row, "scim_"+id+"…") || !strings.Contains(row, "Okta production") ||
		!strings.HasSuffix(row, "never      active") {
		t.Errorf("list row before use = %q, want the prefix, the name, never used and active", row)
	}
	if out, _ := tokenCmd(t, dir, "list", "-tenant", "beta"); !strings.Contains(out, `No tokens for tenant "beta"`) {
		t.Errorf("list of a tenant without tokens:\n%s", out)
	}

	d := startDemo(t, demoConfig{dir: dir, args: []string{"-token", "configured", "-owner", "boss@example.com"}})
	t.Run("the server accepts stored tokens beside -token", func(t *testing.T) {
		for _, token := range []string{secret, second[1], "configured"} {
			d.call(t, "GET", "/Users?count=1", token, "").want(t, http.StatusOK)
		}
		d.call(t, "GET", "/Users/probe-stored", secret, "").want(t, http.StatusNotFound)
		if got := d.waitLog(t, "/Users/probe-stored").Tenant; got != "acme" {
			t.Errorf("a stored token of acme acts for tenant %q", got)
		}
		// -owner seeds every tenant, including one known only from a
		// stored token.
		l := decode[listResponse[scimUser]](t, d.call(t, "GET", filterPath("userName", "boss@example.com"), secret, "").want(t, http.StatusOK))
		if l.TotalResults != 1 {
			t.Errorf("the owner is not seeded in tenant acme: %+v", l)
		}
	})

	t.Run("list shows the last use", func(t *testing.T) {
		row := listRow(t, dir, "acme", id)
		if strings.Contains(row, "never      active") || !strings.Contains(row, "Z  active") {
			t.Errorf("list row after use = %q, want a last-used time", row)
		}
	})

	t.Run("revoke: the next call gets 401, the other token still works", func(t *testing.T) {
		out, _ := tokenCmd(t, dir, "revoke", "-tenant", "acme", id)
		if !strings.Contains(out, "Revoked token "+id) {
			t.Errorf("revoke output:\n%s", out)
		}
		d.call(t, "GET", "/Users?count=1", secret, "").want(t, http.StatusUnauthorized)
		d.call(t, "GET", "/Users?count=1", second[1], "").want(t, http.StatusOK)
		if row := listRow(t, dir, "acme", id); !strings.HasSuffix(row, "revoked") {
			t.Errorf("list row after revoke = %q, want revoked", row)
		}
	})

	t.Run("regenerate with an overlap keeps both working", func(t *testing.T) {
		out, _ := tokenCmd(t, dir, "regenerate", "-tenant", "acme", "-overlap", "1h", second[2])
		m := secretLine.FindStringSubmatch(out)
		if m == nil || !strings.Contains(out, "keeps working until") {
			t.Fatalf("regenerate output:\n%s", out)
		}
		d.call(t, "GET", "/Users?count=1", m[1], "").want(t, http.StatusOK)
		d.call(t, "GET", "/Users?count=1", second[1], "").want(t, http.StatusOK)
		if row := listRow(t, dir, "acme", second[2]); !strings.Contains(row, "active until ") {
			t.Errorf("list row of the old token = %q, want active until …", row)
		}
	})

	t.Run("another tenant's id is not found", func(t *testing.T) {
		code, _, stderr := runDemo(t, dir, "token", "revoke", "-tenant", "beta", second[2])
		if code == 0 || !strings.Contains(stderr, `tenant "beta" has no token`) {
			t.Errorf("revoke of another tenant's token: exit %d\n%s", code, stderr)
		}
		d.call(t, "GET", "/Users?count=1", second[1], "").want(t, http.StatusOK)
	})
}

func TestDemoTokenCommandErrors(t *testing.T) {
	t.Parallel()
	t.Run("-db memory warns that the token will not survive", func(t *testing.T) {
		t.Parallel()
		_, stderr := tokenCmd(t, t.TempDir(), "create", "-db", "memory", "-tenant", "acme")
		if !strings.Contains(stderr, "will not survive") {
			t.Errorf("no warning on stderr:\n%s", stderr)
		}
	})
	for _, tc := range []struct {
		name   string
		args   []string
		reason string
	}{
		{"no command", []string{"token"}, "want create, list, revoke or regenerate"},
		{"unknown command", []string{"token", "mint"}, `unknown command "mint"`},
		{"no tenant", []string{"token", "list", "-db", "memory"}, "-tenant is required"},
		{"revoke without an id", []string{"token", "revoke", "-db", "memory", "-tenant", "acme"}, "want one token ID"},
		{"unknown id", []string{"token", "revoke", "-db", "memory", "-tenant", "acme", "nope"}, `tenant "acme" has no token "nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runDemo(t, t.TempDir(), tc.args...)
			lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
			if last := lines[len(lines)-1]; code == 0 || !strings.HasPrefix(last, "server: ") || !strings.Contains(last, tc.reason) {
				t.Errorf("exit %d, last line %q; want non-zero and server: …%s…", code, last, tc.reason)
			}
		})
	}
}

// TestSetLimits: -limits off lifts exactly the per-tenant rate and
// concurrency limits; the handler accepts the result.
func TestSetLimits(t *testing.T) {
	tests := []struct {
		mode string
		want scim.Limits
	}{
		{"on", scim.Limits{}},
		{"off", scim.Limits{MaxConcurrent: -1, RequestsPerSecond: -1}},
	}
	for _, tc := range tests {
		var got scim.Limits
		if err := setLimits(&got, tc.mode); err != nil {
			t.Fatalf("setLimits(%q): %v", tc.mode, err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("-limits %s (-want +got):\n%s", tc.mode, diff)
		}
		if _, err := scim.NewHandler(memory.New(), scim.RolePolicy{}, scim.Config{Authenticator: scim.NewStaticTokens(), Limits: got}); err != nil {
			t.Errorf("-limits %s: NewHandler: %v", tc.mode, err)
		}
	}
	if err := setLimits(new(scim.Limits), "maybe"); err == nil {
		t.Errorf("setLimits accepted maybe")
	}
}
