package admin_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/admin"
	"github.com/scimkit/scim/store"
	"github.com/scimkit/scim/store/memory"
)

// env is a SCIM endpoint at /scim/v2 and its admin page at /admin, over a
// memory store; the admin's tenant is the X-Test-Tenant header (the app's
// session, in a real app).
type env struct {
	t      *testing.T
	srv    *httptest.Server
	st     *memory.Store
	h      *scim.Handler
	tokens *scim.Tokens
	mu     sync.Mutex
	events []store.Event
}

func newEnv(t *testing.T, cfg scim.Config, policy scim.RolePolicy) *env {
	t.Helper()
	st := memory.New()
	e := newEnvOn(t, st, cfg, policy)
	e.st = st
	return e
}

// tokenStore is a store that keeps bearer tokens, as the admin page needs.
type tokenStore interface {
	store.Store
	store.TokenStore
}

// newEnvOn is newEnv over st: several envs over one database are
// instances of one app.
func newEnvOn(t *testing.T, st tokenStore, cfg scim.Config, policy scim.RolePolicy) *env {
	t.Helper()
	e := &env{t: t}
	tokens, err := scim.NewTokens(st, scim.TokensConfig{TouchEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.Authenticator, cfg.Logger = tokens, logger
	e.h, err = scim.NewHandler(st, policy, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.tokens = tokens
	a, err := admin.New(e.h, st, tokens, admin.Config{
		BaseURL: "https://app.example.com/scim/v2",
		Tenant: func(r *http.Request) (string, bool) {
			tenant := r.Header.Get("X-Test-Tenant")
			return tenant, tenant != ""
		},
		Actor:  func(r *http.Request) string { return "admin@" + r.Header.Get("X-Test-Tenant") },
		Logger: logger,
		OnEvent: func(_ context.Context, ev store.Event) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.events = append(e.events, ev)
		},
		PageSize: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", e.h))
	mux.Handle("/admin/", http.StripPrefix("/admin", a))
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) eventTypes() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.events {
		out = append(out, string(ev.Type)+" "+ev.Tenant+" "+ev.Client)
	}
	e.events = nil
	return out
}

// browser is one admin's browser: a cookie jar and a tenant.
type browser struct {
	e      *env
	tenant string
	c      *http.Client
}

func (e *env) browser(tenant string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, tenant: tenant, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type page struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, path string, form url.Values, headers ...string) page {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.e.srv.URL+path, body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("X-Test-Tenant", b.tenant)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, header: resp.Header, body: string(raw)}
}

func (b *browser) get(path string) page {
	b.e.t.Helper()
	p := b.do("GET", path, nil)
	if p.status != http.StatusOK {
		b.e.t.Fatalf("GET %s: %d\n%s", path, p.status, p.body)
	}
	return p
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// post sends a form from the overview, with the page's CSRF token.
func (b *browser) post(path string, form url.Values) page {
	b.e.t.Helper()
	m := csrfRE.FindStringSubmatch(b.get("/admin/").body)
	if m == nil {
		b.e.t.Fatal("no CSRF token on the overview")
	}
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf_token", m[1])
	return b.do("POST", path, form)
}

var secretRE = regexp.MustCompile(`value="(scim_[0-9a-z_]+)"`)

// createToken creates a token through the page and returns its secret.
func (b *browser) createToken(name string) string {
	b.e.t.Helper()
	p := b.post("/admin/tokens", url.Values{"name": {name}, "expires": {"never"}})
	if p.status != http.StatusOK {
		b.e.t.Fatalf("create token: %d\n%s", p.status, p.body)
	}
	m := secretRE.FindStringSubmatch(p.body)
	if m == nil {
		b.e.t.Fatalf("no secret on the result page:\n%s", p.body)
	}
	return m[1]
}

// scim sends a SCIM request with token and returns its status and body.
func (e *env) scim(token, method, path, body string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+"/scim/v2"+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	req.Header.Set("User-Agent", "Okta SCIM Client 1.0.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

var idRE = regexp.MustCompile(`"id":"([^"]+)"`)

func (e *env) mustSCIM(want int, token, method, path, body string) string {
	e.t.Helper()
	status, raw := e.scim(token, method, path, body)
	if status != want {
		e.t.Fatalf("%s %s: %d, want %d\n%s", method, path, status, want, raw)
	}
	if m := idRE.FindStringSubmatch(raw); m != nil {
		return m[1]
	}
	return ""
}

func TestFormsRefusedWithoutCSRFToken(t *testing.T) {
	e := newEnv(t, scim.Config{}, scim.RolePolicy{})
	b := e.browser("acme")
	good := csrfRE.FindStringSubmatch(b.get("/admin/").body)[1]
	cases := []struct {
		name    string
		form    url.Values
		headers []string
	}{
		{"no token", url.Values{"name": {"x"}}, nil},
		{"a wrong token", url.Values{"name": {"x"}, "csrf_token": {strings.Repeat("A", 43)}}, nil},
		{"the right token from another site", url.Values{"name": {"x"}, "csrf_token": {good}},
			[]string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, path := range []string{"/admin/tokens", "/admin/tokens/x/revoke", "/admin/tokens/x/regenerate", "/admin/deprovisioning/confirm", "/admin/disconnect", "/admin/tenant/delete"} {
				if p := b.do("POST", path, c.form, c.headers...); p.status != http.StatusForbidden {
					t.Errorf("POST %s: %d, want 403", path, p.status)
				}
			}
		})
	}
	t.Run("a browser without the cookie", func(t *testing.T) {
		other := e.browser("acme")
		if p := other.do("POST", "/admin/tokens", url.Values{"name": {"x"}, "csrf_token": {good}}); p.status != http.StatusForbidden {
			t.Errorf("POST: %d, want 403", p.status)
		}
	})
	if p := b.get("/admin/"); strings.Contains(p.body, "<code>scim_") {
		t.Errorf("a refused form created a token:\n%s", p.body)
	}
	if got := e.eventTypes(); len(got) != 0 {
		t.Errorf("events of refused forms: %v", got)
	}
	t.Run("the cookie is SameSite=Strict and HttpOnly", func(t *testing.T) {
		p := e.browser("acme").do("GET", "/admin/", nil)
		c := p.header.Get("Set-Cookie")
		if !strings.Contains(c, "SameSite=Strict") || !strings.Contains(c, "HttpOnly") {
			t.Errorf("Set-Cookie: %s", c)
		}
	})
}

func TestSecretShownOnce(t *testing.T) {
	e := newEnv(t, scim.Config{}, scim.RolePolicy{})
	b := e.browser("acme")
	p := b.post("/admin/tokens", url.Values{"name": {"Okta production"}, "expires": {"90d"}})
	if p.status != http.StatusOK || p.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create: %d, Cache-Control %q", p.status, p.header.Get("Cache-Control"))
	}
	secret := secretRE.FindStringSubmatch(p.body)[1]
	if !strings.Contains(p.body, "https://app.example.com/scim/v2") {
		t.Error("the result page does not show the base URL")
	}
	e.mustSCIM(http.StatusOK, secret, "GET", "/Users", "")
	prefix := secret[:len("scim_")+8]
	for _, path := range []string{"/admin/", "/admin/activity", "/admin/users", "/admin/groups"} {
		body := b.get(path).body
		if strings.Contains(body, secret) || strings.Contains(body, secret[len(prefix):]) {
			t.Errorf("%s shows the secret after creation", path)
		}
	}
	overview := b.get("/admin/").body
	for _, want := range []string{prefix, "Okta production", "Connected", "GET /Users"} {
		if !strings.Contains(overview, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	if diff := cmp.Diff([]string{"token.created acme admin"}, e.eventTypes()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if !strings.Contains(overview, "token.created") || !strings.Contains(overview, "by admin@acme") {
		t.Errorf("admin activity lacks the creation:\n%s", overview)
	}
}

func TestRevokeAndRegenerate(t *testing.T) {
	e := newEnv(t, scim.Config{}, scim.RolePolicy{})
	b := e.browser("acme")
	first := b.createToken("first")
	second := b.createToken("second")
	id := func(secret string) string { return strings.Split(secret, "_")[1] }

	p := b.post("/admin/tokens/"+id(first)+"/revoke", nil)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/?done=revoked" {
		t.Fatalf("revoke: %d to %q", p.status, p.header.Get("Location"))
	}
	e.mustSCIM(http.StatusUnauthorized, first, "GET", "/Users", "")
	e.mustSCIM(http.StatusOK, second, "GET", "/Users", "")
	if body := b.get("/admin/?done=revoked").body; !strings.Contains(body, "was revoked") || !strings.Contains(body, ">revoked<") {
		t.Errorf("overview after revoke:\n%s", body)
	}

	p = b.post("/admin/tokens/"+id(second)+"/regenerate", url.Values{"overlap": {"0"}})
	if p.status != http.StatusOK {
		t.Fatalf("regenerate: %d\n%s", p.status, p.body)
	}
	third := secretRE.FindStringSubmatch(p.body)[1]
	e.mustSCIM(http.StatusUnauthorized, second, "GET", "/Users", "")
	e.mustSCIM(http.StatusOK, third, "GET", "/Users", "")

	if p := b.post("/admin/tokens/nosuchid/revoke", nil); p.status != http.StatusNotFound {
		t.Errorf("revoke of an unknown token: %d, want 404", p.status)
	}
	want := []string{"token.created acme admin", "token.created acme admin", "token.revoked acme admin", "token.regenerated acme admin"}
	if diff := cmp.Diff(want, e.eventTypes()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	// The outbox has them too, in order.
	evs, err := e.st.Events(context.Background(), "acme", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		got = append(got, string(ev.Type)+" "+ev.Tenant+" "+ev.Client)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outbox (-want +got):\n%s", diff)
	}
}

func TestConfirmHold(t *testing.T) {
	e := newEnv(t, scim.Config{DeprovisionGuard: scim.DeprovisionGuard{MaxShare: 0.5, MinCount: 1}}, scim.RolePolicy{})
	b := e.browser("acme")
	token := b.createToken("okta")
	var ids []string
	for i := range 6 {
		ids = append(ids, e.mustSCIM(http.StatusCreated, token, "POST", "/Users", fmt.Sprintf(`{"userName":"u%d@x.com"}`, i)))
	}
	// Half of the 6 users the tenant had when the deletions began.
	e.mustSCIM(http.StatusNoContent, token, "DELETE", "/Users/"+ids[0], "")
	e.mustSCIM(http.StatusNoContent, token, "DELETE", "/Users/"+ids[1], "")
	e.mustSCIM(http.StatusNoContent, token, "DELETE", "/Users/"+ids[2], "")
	e.mustSCIM(http.StatusServiceUnavailable, token, "DELETE", "/Users/"+ids[3], "")

	body := b.get("/admin/").body
	if !strings.Contains(body, "Deprovisioning is on hold") || !strings.Contains(body, "refused:") {
		t.Fatalf("overview does not show the hold:\n%s", body)
	}
	if other := e.browser("other").get("/admin/").body; strings.Contains(other, "on hold") {
		t.Error("another tenant sees the hold")
	}
	p := b.post("/admin/deprovisioning/confirm", nil)
	if held, err := e.h.DeprovisioningHeld(t.Context(), "acme"); p.status != http.StatusSeeOther || held || err != nil {
		t.Fatalf("confirm: %d, held %v (%v)", p.status, held, err)
	}
	e.mustSCIM(http.StatusNoContent, token, "DELETE", "/Users/"+ids[3], "")
	if body := b.get("/admin/?done=confirmed").body; strings.Contains(body, "Deprovisioning is on hold") || !strings.Contains(body, "tenant.deprovisioning_confirmed") {
		t.Errorf("overview after confirming:\n%s", body)
	}
	if p := b.post("/admin/deprovisioning/confirm", nil); p.header.Get("Location") != "/admin/?done=notheld" {
		t.Errorf("confirm without a hold: %s", p.header.Get("Location"))
	}
	want := []string{"token.created acme admin", "tenant.deprovisioning_confirmed acme admin"}
	if diff := cmp.Diff(want, e.eventTypes()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestTenantIsolation(t *testing.T) {
	e := newEnv(t, scim.Config{}, scim.RolePolicy{})
	acme, globex := e.browser("acme"), e.browser("globex")
	acmeToken := acme.createToken("acme okta")
	globex.createToken("globex okta")
	uid := e.mustSCIM(http.StatusCreated, acmeToken, "POST", "/Users", `{"userName":"alice@acme.test"}`)
	e.mustSCIM(http.StatusCreated, acmeToken, "POST", "/Groups", `{"displayName":"Acme Team","members":[{"value":"`+uid+`"}]}`)
	e.mustSCIM(http.StatusConflict, acmeToken, "POST", "/Users", `{"userName":"alice@acme.test"}`)

	for _, path := range []string{"/admin/", "/admin/activity", "/admin/users", "/admin/groups"} {
		body := globex.get(path).body
		for _, leak := range []string{"acme okta", acmeToken[:len("scim_")+8], "alice@acme.test", "Acme Team", "/Users", "acme"} {
			if strings.Contains(body, leak) {
				t.Errorf("globex's %s shows %q", path, leak)
			}
		}
	}
	acmeID := strings.Split(acmeToken, "_")[1]
	if p := globex.post("/admin/tokens/"+acmeID+"/revoke", nil); p.status != http.StatusNotFound {
		t.Errorf("globex revoking acme's token: %d, want 404", p.status)
	}
	if p := globex.post("/admin/tokens/"+acmeID+"/regenerate", url.Values{"overlap": {"0"}}); p.status != http.StatusNotFound {
		t.Errorf("globex regenerating acme's token: %d, want 404", p.status)
	}
	e.mustSCIM(http.StatusOK, acmeToken, "GET", "/Users", "")

	// acme sees its own.
	if body := acme.get("/admin/users").body; !strings.Contains(body, "alice@acme.test") {
		t.Error("acme's users page lacks alice")
	}
	groups := acme.get("/admin/groups").body
	if !regexp.MustCompile(`Acme Team</th>[\s\S]*?<td class="num">1</td>`).MatchString(groups) {
		t.Errorf("acme's groups page lacks the member count:\n%s", groups)
	}
	if body := acme.get("/admin/").body; !strings.Contains(body, `<span class="status bad">409</span> on <code>POST /Users</code>`) {
		t.Errorf("acme's connection does not show the last error:\n%s", body)
	}
	if p := e.browser("").do("GET", "/admin/", nil); p.status != http.StatusForbidden {
		t.Errorf("no tenant: %d, want 403", p.status)
	}
}

func TestPagesEscape(t *testing.T) {
	e := newEnv(t, scim.Config{}, scim.RolePolicy{})
	b := e.browser("acme")
	token := b.createToken(`<script>alert("name")</script>`)
	e.mustSCIM(http.StatusCreated, token, "POST", "/Users", `{"userName":"<script>alert(1)</script>@x.com","displayName":"<img src=x onerror=alert(2)>"}`)
	e.mustSCIM(http.StatusCreated, token, "POST", "/Groups", `{"displayName":"<b>bold</b>"}`)
	e.mustSCIM(http.StatusNotFound, token, "GET", "/Users/<script>", "")
	for _, path := range []string{"/admin/", "/admin/users", "/admin/groups", "/admin/activity"} {
		body := b.get(path).body
		for _, raw := range []string{"<script>alert", "<img src=x", "<b>bold"} {
			if strings.Contains(body, raw) {
				t.Errorf("%s renders %q unescaped", path, raw)
			}
		}
	}
	if body := b.get("/admin/users").body; !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;@x.com") {
		t.Errorf("users page does not show the escaped userName:\n%s", body)
	}
	if p := b.get("/admin/"); !strings.Contains(p.header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Errorf("Content-Security-Policy: %q", p.header.Get("Content-Security-Policy"))
	}
}

func TestActivityFilters(t *testing.T) {
	e := newEnv(t, scim.Config{}, scim.RolePolicy{})
	b := e.browser("acme")
	token := b.createToken("okta")
	e.mustSCIM(http.StatusCreated, token, "POST", "/Users", `{"userName":"a@x.com"}`)
	e.mustSCIM(http.StatusConflict, token, "POST", "/Users", `{"userName":"a@x.com"}`)
	e.mustSCIM(http.StatusOK, token, "GET", "/Users", "")
	rows := func(query string) int {
		return strings.Count(b.get("/admin/activity"+query).body, `<th scope="row"><code>`)
	}
	for query, want := range map[string]int{"": 3, "?status=4xx": 1, "?status=2xx": 2, "?method=POST": 2, "?method=POST&status=2xx": 1,
		"?idp=okta": 3, "?idp=entra": 0} {
		if got := rows(query); got != want {
			t.Errorf("activity%s: %d rows, want %d", query, got, want)
		}
	}
	if body := b.get("/admin/activity?status=4xx").body; !strings.Contains(body, "attributes: userName") || !strings.Contains(body, `<option value="4xx" selected>`) {
		t.Errorf("filtered activity:\n%s", body)
	}
}

func TestProtectedRefusalsAndPaging(t *testing.T) {
	policy := scim.RolePolicy{Attribute: "memberRole", Values: []string{"viewer", "admin", "owner"}, Default: "viewer", Protected: []string{"owner"}}
	e := newEnv(t, scim.Config{}, policy)
	err := e.st.Update(context.Background(), "acme", func(tx store.Tx) error {
		return tx.CreateUser(context.Background(), &store.User{ID: "app-boss", Role: "owner",
			Attributes: store.Attributes{"userName": "boss@acme.test", "active": true, "memberRole": "owner"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser("acme")
	token := b.createToken("okta")
	e.mustSCIM(http.StatusForbidden, token, "DELETE", "/Users/app-boss", "")
	body := b.get("/admin/").body
	if !regexp.MustCompile(`<th scope="row">boss@acme.test</th><td>okta</td>`).MatchString(body) {
		t.Errorf("overview lacks the refusal:\n%s", body)
	}
	for i := range 3 {
		e.mustSCIM(http.StatusCreated, token, "POST", "/Users", fmt.Sprintf(`{"userName":"u%d@x.com","memberRole":"admin"}`, i))
	}
	// Four users, two a page.
	p1, p2 := b.get("/admin/users").body, b.get("/admin/users?page=2").body
	if !strings.Contains(p1, "Users 1–2 of 4") || !strings.Contains(p1, `href="/admin/users?page=2"`) || !strings.Contains(p1, "app user") {
		t.Errorf("first page:\n%s", p1)
	}
	if !strings.Contains(p2, "Users 3–4 of 4") || !strings.Contains(p2, `href="/admin/users?page=1"`) || !strings.Contains(p2, "SCIM-managed") {
		t.Errorf("second page:\n%s", p2)
	}
	if p := b.get("/admin/users?page=9").body; !strings.Contains(p, "No users on this page") {
		t.Errorf("page beyond the end:\n%s", p)
	}
}

func TestStaticAndMethods(t *testing.T) {
	e := newEnv(t, scim.Config{}, scim.RolePolicy{})
	b := e.browser("acme")
	for _, path := range []string{"/admin/static/admin.css", "/admin/static/copy.js"} {
		if p := b.do("GET", path, nil); p.status != http.StatusOK || len(p.body) < 100 {
			t.Errorf("GET %s: %d", path, p.status)
		}
	}
	if p := b.do("DELETE", "/admin/users", nil); p.status != http.StatusMethodNotAllowed {
		t.Errorf("DELETE /admin/users: %d", p.status)
	}
	if p := b.do("GET", "/admin/nowhere", nil); p.status != http.StatusNotFound {
		t.Errorf("GET /admin/nowhere: %d", p.status)
	}
}

func TestNewValidates(t *testing.T) {
	st := memory.New()
	tokens, _ := scim.NewTokens(st, scim.TokensConfig{})
	h, _ := scim.NewHandler(st, scim.RolePolicy{}, scim.Config{Authenticator: tokens})
	tenant := func(*http.Request) (string, bool) { return "t", true }
	for name, cfg := range map[string]admin.Config{
		"no Tenant":  {BaseURL: "https://x/scim/v2"},
		"no BaseURL": {Tenant: tenant},
	} {
		if _, err := admin.New(h, st, tokens, cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := admin.New(h, st, tokens, admin.Config{Tenant: tenant, BaseURL: "https://x/scim/v2"}); err != nil {
		t.Error(err)
	}
}

func TestRegenerateWithOverlap(t *testing.T) {
	e := newEnv(t, scim.Config{}, scim.RolePolicy{})
	b := e.browser("acme")
	old := b.createToken("okta")
	oldID := strings.Split(old, "_")[1]
	if p := b.post("/admin/tokens/"+oldID+"/regenerate", url.Values{"overlap": {"5m"}}); p.status != http.StatusBadRequest {
		t.Errorf("an overlap not offered: %d, want 400", p.status)
	}
	p := b.post("/admin/tokens/"+oldID+"/regenerate", url.Values{"overlap": {"1h"}})
	if p.status != http.StatusOK || !strings.Contains(p.body, "Replaces") || !strings.Contains(p.body, "scim_"+oldID) {
		t.Fatalf("regenerate: %d\n%s", p.status, p.body)
	}
	fresh := secretRE.FindStringSubmatch(p.body)[1]
	e.mustSCIM(http.StatusOK, old, "GET", "/Users", "")
	e.mustSCIM(http.StatusOK, fresh, "GET", "/Users", "")
	if body := b.get("/admin/").body; !strings.Contains(body, ">revoking<") || strings.Contains(body, fresh) {
		t.Errorf("overview after regenerating with an overlap:\n%s", body)
	}
	if p := b.post("/admin/tokens", url.Values{"name": {""}}); p.status != http.StatusBadRequest {
		t.Errorf("a token without a name: %d, want 400", p.status)
	}
}

// TestCSRFTokenBoundToSession: a form's CSRF token is bound to the
// session (the tenant and admin Config.Tenant and Actor name) and to the
// cookie by a keyed MAC: a cookie and form field planted together (a
// sibling subdomain can set a cookie over HTTP), or a token of another
// tenant's session, are refused even without an Origin header.
func TestCSRFTokenBoundToSession(t *testing.T) {
	e := newEnv(t, scim.Config{}, scim.RolePolicy{})
	acme := e.browser("acme")
	good := csrfRE.FindStringSubmatch(acme.get("/admin/").body)[1]
	u, _ := url.Parse(e.srv.URL)
	cookie := acme.c.Jar.Cookies(u)[0]
	forged := func(value string) *http.Cookie { return &http.Cookie{Name: "scimkit_admin_csrf", Value: value} }
	for _, tc := range []struct {
		name   string
		tenant string
		cookie *http.Cookie
		token  string
		want   int
	}{
		{"a planted pair", "acme", forged("AAAA"), "AAAA", http.StatusForbidden},
		{"a planted pair of the cookie's length", "acme", forged(strings.Repeat("A", 43)), strings.Repeat("A", 43), http.StatusForbidden},
		{"the cookie's value as the token", "acme", cookie, cookie.Value, http.StatusForbidden},
		{"the page's token in another tenant's session", "beta", cookie, good, http.StatusForbidden},
		{"the page's token with another cookie", "acme", forged(strings.Repeat("B", 43)), good, http.StatusForbidden},
		{"the page's token and cookie", "acme", cookie, good, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"name": {"x"}, "expires": {"never"}, "csrf_token": {tc.token}}
			req, _ := http.NewRequest("POST", e.srv.URL+"/admin/tokens", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Test-Tenant", tc.tenant)
			req.AddCookie(tc.cookie)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("POST /admin/tokens: %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

// TestTenantThatCannotBeOne: a Tenant func that returns a name no tenant
// can have (empty, NUL, control characters, invalid UTF-8) gets 403, never
// a store error.
func TestTenantThatCannotBeOne(t *testing.T) {
	st := memory.New()
	tokens, err := scim.NewTokens(st, scim.TokensConfig{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := scim.NewHandler(st, scim.RolePolicy{}, scim.Config{Authenticator: tokens, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "a\x00b", "a\nb", "\xff\xfe", "acme"} {
		a, err := admin.New(h, st, tokens, admin.Config{BaseURL: "https://x/scim/v2", Logger: slog.New(slog.DiscardHandler),
			Tenant: func(*http.Request) (string, bool) { return name, true }})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		want := http.StatusForbidden
		if name == "acme" {
			want = http.StatusOK
		}
		if rec.Code != want {
			t.Errorf("tenant %q: %d, want %d", name, rec.Code, want)
		}
	}
}
