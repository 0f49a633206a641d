package main

import (
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
)

// TestDemoAdmin checks /admin/: served only with -admin-password (or
// SCIM_ADMIN_PASSWORD), behind HTTP Basic auth whose user name is the
// tenant.
func TestDemoAdmin(t *testing.T) {
	get := func(t *testing.T, url, user, pass string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		if user != "" || pass != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
	t.Run("not served without the flag", func(t *testing.T) {
		d := startDemo(t, demoConfig{args: []string{"-db", "memory", "-token", "t"}})
		if status, _ := get(t, d.root+"/admin/", "default", ""); status != http.StatusNotFound {
			t.Errorf("GET /admin/: %d, want 404", status)
		}
	})
	for name, cfg := range map[string]demoConfig{
		"flag": {args: []string{"-db", "memory", "-token", "acme=t", "-token", "d", "-admin-password", "pw"}},
		"env":  {args: []string{"-db", "memory", "-token", "acme=t", "-token", "d"}, env: []string{"SCIM_ADMIN_PASSWORD=pw"}},
	} {
		t.Run(name, func(t *testing.T) {
			d := startDemo(t, cfg)
			for _, c := range []struct{ user, pass string }{{"", ""}, {"acme", "wrong"}, {"acme", ""}} {
				if status, _ := get(t, d.root+"/admin/", c.user, c.pass); status != http.StatusUnauthorized {
					t.Errorf("GET /admin/ as %q/%q: %d, want 401", c.user, c.pass, status)
				}
			}
			status, body := get(t, d.root+"/admin/", "acme", "pw")
			if status != http.StatusOK || !strings.Contains(body, "for <strong>acme</strong>") || !strings.Contains(body, d.base) {
				t.Errorf("GET /admin/ as acme: %d\n%s", status, body)
			}
			// A bare -token belongs to the tenant "default".
			if _, body := get(t, d.root+"/admin/", "", "pw"); !strings.Contains(body, "for <strong>default</strong>") {
				t.Errorf("an empty user name does not pick the default tenant:\n%s", body)
			}
		})
	}
}

// TestDemoAdminKnownTenants: the admin page opens only the tenants the demo
// knows (of -token and of stored tokens, matched exactly), unless
// -admin-any-tenant; a user name that cannot be a tenant (NUL, invalid
// UTF-8) gets 401 on every store, never 500.
func TestDemoAdminKnownTenants(t *testing.T) {
	dbs := map[string]func(t *testing.T) string{
		"sqlite": func(t *testing.T) string { return "scim.db" },
		"postgres": func(t *testing.T) string {
			if os.Getenv("SCIM_TEST_POSTGRES_DSN") == "" {
				t.Skip("SCIM_TEST_POSTGRES_DSN is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
			}
			return crashPostgresDB(t)
		},
	}
	for name, db := range dbs {
		t.Run(name, func(t *testing.T) {
			dir, dsn := t.TempDir(), db(t)
			if code, _, stderr := runDemo(t, dir, "-db", dsn, "token", "create", "-tenant", "beta"); code != 0 {
				t.Fatalf("token create: %d\n%s", code, stderr)
			}
			status := func(d *demo, user string) int {
				t.Helper()
				req, _ := http.NewRequest("GET", d.root+"/admin/", nil)
				req.SetBasicAuth(user, "pw")
				return send(t, req).status
			}
			d := startDemo(t, demoConfig{dir: dir, args: []string{"-db", dsn, "-token", "acme=t", "-admin-password", "pw"}})
			for user, want := range map[string]int{
				"acme": http.StatusOK, "beta": http.StatusOK,
				"ACME": http.StatusUnauthorized, "acme ": http.StatusUnauthorized, " acme": http.StatusUnauthorized,
				"Beta": http.StatusUnauthorized, "zzz": http.StatusUnauthorized, "": http.StatusUnauthorized,
				"acme\x00": http.StatusUnauthorized, "\xff\xfe": http.StatusUnauthorized, "a\x00b": http.StatusUnauthorized,
			} {
				if got := status(d, user); got != want {
					t.Errorf("GET /admin/ as %q: %d, want %d", user, got, want)
				}
			}
			d.stop(t, syscall.SIGTERM)

			d = startDemo(t, demoConfig{dir: dir, args: []string{"-db", dsn, "-token", "acme=t", "-admin-password", "pw", "-admin-any-tenant"}})
			for user, want := range map[string]int{
				"acme": http.StatusOK, "zzz": http.StatusOK,
				"acme\x00": http.StatusUnauthorized, "\xff\xfe": http.StatusUnauthorized, "a\tb": http.StatusUnauthorized,
			} {
				if got := status(d, user); got != want {
					t.Errorf("-admin-any-tenant: GET /admin/ as %q: %d, want %d", user, got, want)
				}
			}
		})
	}
}
