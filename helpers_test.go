package scim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
	"github.com/scimkit/scim/store/memory"
)

// Tokens of the two tenants every test server knows.
const (
	tokenAcme  = "scim_acme_secret"
	tokenOther = "scim_other_secret"
)

// demoPolicy mirrors the demo server's role policy.
var demoPolicy = scim.RolePolicy{
	Attribute:    "memberRole",
	ExtensionURN: "urn:ietf:params:scim:schemas:extension:scimkit:2.0:User",
	Values:       []string{"viewer", "experiment_editor", "data_owner", "admin"},
	Default:      "viewer",
	Keep:         "default",
}

// testServer is a handler over a memory store behind a real HTTP server,
// mounted under /scim/v2 as an app would mount it.
type testServer struct {
	t     *testing.T
	srv   *httptest.Server
	store store.Store
	base  string
}

func newTestServer(t *testing.T, cfg scim.Config) *testServer {
	t.Helper()
	return newTestServerWith(t, memory.New(), cfg)
}

// newTestServerWith is newTestServer over the given store.
func newTestServerWith(t *testing.T, st store.Store, cfg scim.Config) *testServer {
	t.Helper()
	return newTestServerPolicy(t, st, demoPolicy, cfg)
}

// newTestServerPolicy is newTestServerWith with another role policy.
func newTestServerPolicy(t *testing.T, st store.Store, policy scim.RolePolicy, cfg scim.Config) *testServer {
	t.Helper()
	s, _ := newTestHandler(t, st, policy, cfg)
	return s
}

// newTestHandler is newTestServerPolicy returning the Handler too. A
// cfg.Authenticator is asked after the two tenants' tokens.
func newTestHandler(t *testing.T, st store.Store, policy scim.RolePolicy, cfg scim.Config) (*testServer, *scim.Handler) {
	t.Helper()
	tokens := scim.NewStaticTokens()
	tokens.Add("acme", tokenAcme)
	tokens.Add("other", tokenOther)
	if cfg.Authenticator != nil {
		cfg.Authenticator = scim.Authenticators(tokens, cfg.Authenticator)
	} else {
		cfg.Authenticator = tokens
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		clock := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		var ticks atomic.Int64
		cfg.Now = func() time.Time { return clock.Add(time.Duration(ticks.Add(1)) * time.Second) }
	}
	if cfg.NewID == nil {
		var n atomic.Int64
		cfg.NewID = func() string { return fmt.Sprintf("id-%04d", n.Add(1)) }
	}
	h, err := scim.NewHandler(st, policy, cfg)
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", h))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &testServer{t: t, srv: srv, store: st, base: srv.URL + "/scim/v2"}, h
}

// response is a decoded HTTP response.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// do sends a request with the acme token unless headers say otherwise.
// headers are "Name: value" strings; "Authorization:" with no value sends
// none.
func (s *testServer) do(method, path, body string, headers ...string) response {
	s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		s.t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+tokenAcme)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		value = strings.TrimSpace(value)
		if value == "" {
			req.Header.Del(name)
		} else {
			req.Header.Set(name, value)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("read body: %v", err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			s.t.Fatalf("%s %s: response is not a JSON object: %v\n%s", method, path, err, raw)
		}
	}
	return r
}

// must asserts the status and returns the response.
func (s *testServer) must(want int, method, path, body string, headers ...string) response {
	s.t.Helper()
	r := s.do(method, path, body, headers...)
	if r.status != want {
		s.t.Fatalf("%s %s: status %d, want %d\n%s", method, path, r.status, want, r.raw)
	}
	return r
}

// str returns a string at a dotted path of a decoded body.
func str(m map[string]any, path string) string {
	v := get(m, path)
	s, _ := v.(string)
	return s
}

// get walks a dotted path of a decoded body.
func get(m map[string]any, path string) any {
	var cur any = m
	for _, part := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[part]
	}
	return cur
}

// resources returns the Resources of a ListResponse.
func resources(t *testing.T, r response) []map[string]any {
	t.Helper()
	list, ok := r.body["Resources"].([]any)
	if !ok {
		t.Fatalf("Resources is %T, want a list: %s", r.body["Resources"], r.raw)
	}
	out := make([]map[string]any, len(list))
	for i, e := range list {
		out[i] = e.(map[string]any)
	}
	return out
}

// scimConfig is the configuration most tests use.
func scimConfig() scim.Config { return scim.Config{} }

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// tokensFor returns the StaticTokens every test server uses.
func tokensFor() *scim.StaticTokens {
	tokens := scim.NewStaticTokens()
	tokens.Add("acme", tokenAcme)
	tokens.Add("other", tokenOther)
	return tokens
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newHTTPServer serves h at the root of a test server.
func newHTTPServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
