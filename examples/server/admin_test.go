package main

import (
	"io"
	"net/http"
	"strings"
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
		"flag": {args: []string{"-db", "memory", "-token", "acme=t", "-admin-password", "pw"}},
		"env":  {args: []string{"-db", "memory", "-token", "acme=t"}, env: []string{"SCIM_ADMIN_PASSWORD=pw"}},
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
			if _, body := get(t, d.root+"/admin/", "", "pw"); !strings.Contains(body, "for <strong>default</strong>") {
				t.Errorf("an empty user name does not pick the default tenant:\n%s", body)
			}
		})
	}
}
