package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestDemoGuardSharedByTwoServers runs two demo servers over one
// PostgreSQL database, as two instances behind a load balancer: with 120
// users, deactivations alternating between them are held after 60 (half
// the tenant, the demo's guard), both refuse the next, and confirming on
// the admin page of one releases the other.
func TestDemoGuardSharedByTwoServers(t *testing.T) {
	dsn := crashPostgresDB(t) // skips without SCIM_TEST_POSTGRES_DSN
	args := []string{"-db", dsn, "-token", "acme=t", "-admin-password", "pw", "-limits", "off"}
	a := startDemo(t, demoConfig{args: args})
	b := startDemo(t, demoConfig{args: args})
	var ids []string
	for i := range 120 {
		r := a.call(t, "POST", "/Users", "t", fmt.Sprintf(`{"userName":"u%03d@acme.test"}`, i)).want(t, http.StatusCreated)
		ids = append(ids, decode[scimUser](t, r).ID)
	}
	const deactivate = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`
	servers := []*demo{a, b}
	for i, id := range ids[:60] {
		servers[i%2].call(t, "PATCH", "/Users/"+id, "t", deactivate).want(t, http.StatusOK)
	}
	a.call(t, "PATCH", "/Users/"+ids[60], "t", deactivate).want(t, http.StatusServiceUnavailable)
	b.call(t, "PATCH", "/Users/"+ids[61], "t", deactivate).want(t, http.StatusServiceUnavailable)

	adminA, adminB := newAdminBrowser(t, a), newAdminBrowser(t, b)
	if body := adminB.get(t); !strings.Contains(body, "Deprovisioning is on hold") {
		t.Fatalf("b's admin page does not show the hold:\n%s", body)
	}
	if loc := adminA.confirm(t); loc != "/admin/?done=confirmed" {
		t.Fatalf("confirm on a: redirected to %q", loc)
	}
	if body := adminB.get(t); strings.Contains(body, "Deprovisioning is on hold") {
		t.Errorf("b's admin page still shows the hold after the confirmation on a")
	}
	b.call(t, "PATCH", "/Users/"+ids[61], "t", deactivate).want(t, http.StatusOK)
}

// adminBrowser is an admin of tenant acme on a demo's admin page, with the
// cookies a browser would keep.
type adminBrowser struct {
	d      *demo
	client *http.Client
}

func newAdminBrowser(t *testing.T, d *demo) *adminBrowser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &adminBrowser{d: d, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (b *adminBrowser) send(t *testing.T, req *http.Request) *http.Response {
	t.Helper()
	req.SetBasicAuth("acme", "pw")
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// get returns the overview page.
func (b *adminBrowser) get(t *testing.T) string {
	t.Helper()
	req, _ := http.NewRequest("GET", b.d.root+"/admin/", nil)
	resp := b.send(t, req)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /admin/: %d\n%s", resp.StatusCode, raw)
	}
	return string(raw)
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// confirm presses the page's confirm button and returns where it
// redirects.
func (b *adminBrowser) confirm(t *testing.T) string {
	t.Helper()
	m := csrfInput.FindStringSubmatch(b.get(t))
	if m == nil {
		t.Fatal("no CSRF token in the admin page")
	}
	form := url.Values{"csrf_token": {m[1]}}
	req, _ := http.NewRequest("POST", b.d.root+"/admin/deprovisioning/confirm", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp := b.send(t, req)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST confirm: %d", resp.StatusCode)
	}
	return resp.Header.Get("Location")
}
