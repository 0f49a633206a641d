package scim_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/admin"
	sqlstore "github.com/scimkit/scim/store/sql"
)

// journalEngines open instances of an app over one database: each call of
// the function they return is a new *sql.DB and a new store on it, as a
// new process would have.
func journalEngines() []struct {
	name string
	db   func(t *testing.T) func() *sqlstore.Store
} {
	open := func(t *testing.T, driver, dsn string, d sqlstore.Dialect) func() *sqlstore.Store {
		return func() *sqlstore.Store {
			db, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return migratedStore(t, db, d)
		}
	}
	return []struct {
		name string
		db   func(t *testing.T) func() *sqlstore.Store
	}{
		{"SQLite", func(t *testing.T) func() *sqlstore.Store {
			dsn := "file:" + filepath.Join(t.TempDir(), "scim.db") + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
			return open(t, "sqlite", dsn, sqlstore.SQLite)
		}},
		{"Postgres", func(t *testing.T) func() *sqlstore.Store {
			return open(t, "pgx", postgresTestDSN(t), sqlstore.Postgres)
		}},
	}
}

// An instance's requests are a minute apart on its clock (a manualClock
// shared by the instances), so that the journal's order does not depend
// on when each instance writes.

// journalInstance is one process of the app: a SCIM Handler at /scim/v2 and the
// admin page at /admin (the tenant is the X-Test-Tenant header).
type journalInstance struct {
	t     *testing.T
	h     *scim.Handler
	st    *sqlstore.Store
	srv   *httptest.Server
	clock *manualClock
}

func newJournalInstance(t *testing.T, st *sqlstore.Store, clock *manualClock, cfg scim.Config) *journalInstance {
	t.Helper()
	tokens, err := scim.NewTokens(st, scim.TokensConfig{TouchEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Authenticator, cfg.Logger, cfg.Now = tokens, discardLogger(), clock.Now
	h, err := scim.NewHandler(st, demoPolicy, cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, err := admin.New(h, st, tokens, admin.Config{
		BaseURL: "https://app.example.com/scim/v2",
		Tenant: func(r *http.Request) (string, bool) {
			tenant := r.Header.Get("X-Test-Tenant")
			return tenant, tenant != ""
		},
		Logger: discardLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", h))
	mux.Handle("/admin/", http.StripPrefix("/admin", a))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &journalInstance{t: t, h: h, st: st, srv: srv, clock: clock}
}

// newToken issues a bearer token of tenant, which every instance accepts.
func (in *journalInstance) newToken(tenant string) string {
	in.t.Helper()
	tokens, err := scim.NewTokens(in.st, scim.TokensConfig{})
	if err != nil {
		in.t.Fatal(err)
	}
	token, _, err := tokens.Create(in.t.Context(), tenant, "okta", time.Time{})
	if err != nil {
		in.t.Fatal(err)
	}
	return token
}

// do sends a request a minute after the previous one and returns the
// status and body.
func (in *journalInstance) do(header, value, method, path, body string) (int, string) {
	in.t.Helper()
	in.clock.Advance(time.Minute)
	req, err := http.NewRequest(method, in.srv.URL+path, strings.NewReader(body))
	if err != nil {
		in.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/scim+json")
	req.Header.Set(header, value)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		in.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// scim sends a SCIM request with the bearer token and checks its status.
func (in *journalInstance) scim(token string, want int, method, path, body string) string {
	in.t.Helper()
	status, raw := in.do("Authorization", "Bearer "+token, method, "/scim/v2"+path, body)
	if status != want {
		in.t.Fatalf("%s %s: %d, want %d\n%s", method, path, status, want, raw)
	}
	return raw
}

// adminPage returns the admin page at path for tenant.
func (in *journalInstance) adminPage(tenant, path string) string {
	in.t.Helper()
	status, raw := in.do("X-Test-Tenant", tenant, "GET", "/admin"+path, "")
	if status != http.StatusOK {
		in.t.Fatalf("GET /admin%s: %d\n%s", path, status, raw)
	}
	return raw
}

// journal returns the instance's Journal of tenant as "METHOD PATH
// STATUS user ID" lines.
func (in *journalInstance) journal(tenant string) []string {
	in.t.Helper()
	list, err := in.h.Journal(in.t.Context(), tenant)
	if err != nil {
		in.t.Fatalf("Journal: %v", err)
	}
	out := []string{}
	for _, e := range list {
		out = append(out, fmt.Sprintf("%s %s %d user %s", e.Method, e.Path, e.Status, e.UserID))
	}
	return out
}

func (in *journalInstance) close() {
	in.t.Helper()
	if err := in.h.Close(in.t.Context()); err != nil {
		in.t.Fatalf("Close: %v", err)
	}
}

var (
	activityRowRE = regexp.MustCompile(`<th scope="row"><code>([^<]+)</code></th>`)
	lastRequestRE = regexp.MustCompile(`<dt>Last request</dt>\s*<dd><code>([^<]+)</code>`)
	lastErrorRE   = regexp.MustCompile(`<dt>Last error</dt>\s*<dd><span class="status bad">(\d+)</span> on <code>([^<]+)</code>`)
)

// TestJournalSharedByInstances: two Handlers over one database (a SQLite
// file, a PostgreSQL database) show the requests each served, in their
// Journal and in the admin page either one serves, and a Handler started
// later over the database shows them too.
func TestJournalSharedByInstances(t *testing.T) {
	for _, eng := range journalEngines() {
		t.Run(eng.name, func(t *testing.T) {
			open := eng.db(t)
			clock := newManualClock()
			a := newJournalInstance(t, open(), clock, scim.Config{})
			b := newJournalInstance(t, open(), clock, scim.Config{})
			token := a.newToken("acme")

			// A path no database keeps as it is: invalid UTF-8 and NUL.
			b.scim(token, http.StatusNotFound, "GET", "/Users/%FF%00", "")
			b.scim(token, http.StatusOK, "GET", "/Users", "")
			var created map[string]any
			if err := json.Unmarshal([]byte(a.scim(token, http.StatusCreated, "POST", "/Users", `{"userName":"j@x.com","name":{"givenName":"J"}}`)), &created); err != nil {
				t.Fatal(err)
			}
			id := str(created, "id")
			a.scim(token, http.StatusOK, "PATCH", "/Users/"+id, `{"Operations":[{"op":"replace","value":{"active":false}}]}`)
			a.scim(token, http.StatusNotFound, "GET", "/Users/nope", "")
			a.close()
			b.close()

			want := []string{
				"GET /Users/nope 404 user nope",
				"PATCH /Users/" + id + " 200 user " + id,
				"POST /Users 201 user " + id,
				"GET /Users 200 user ",
				"GET /Users/\ufffd\ufffd 404 user ",
			}
			for name, in := range map[string]*journalInstance{"A": a, "B": b} {
				if diff := cmp.Diff(want, in.journal("acme")); diff != "" {
					t.Errorf("%s's Journal (-want +got):\n%s", name, diff)
				}
			}

			var rows []string
			for _, m := range activityRowRE.FindAllStringSubmatch(b.adminPage("acme", "/activity"), -1) {
				rows = append(rows, m[1])
			}
			wantRows := []string{"GET /Users/nope", "PATCH /Users/" + id, "POST /Users", "GET /Users", "GET /Users/\ufffd\ufffd"}
			if diff := cmp.Diff(wantRows, rows); diff != "" {
				t.Errorf("the activity page served by B (-want +got):\n%s", diff)
			}
			overview := b.adminPage("acme", "/")
			if m := lastRequestRE.FindStringSubmatch(overview); m == nil || m[1] != "GET /Users/nope" {
				t.Errorf("the overview served by B shows the last request %q, want A's GET /Users/nope", m)
			}
			if m := lastErrorRE.FindStringSubmatch(overview); m == nil || m[1] != "404" || m[2] != "GET /Users/nope" {
				t.Errorf("the overview served by B shows the last error %q, want A's 404", m)
			}

			restarted := newJournalInstance(t, open(), clock, scim.Config{})
			if diff := cmp.Diff(want, restarted.journal("acme")); diff != "" {
				t.Errorf("the Journal of a Handler started later (-want +got):\n%s", diff)
			}
			if got := restarted.journal("other"); len(got) != 0 {
				t.Errorf("another tenant's Journal: %v", got)
			}
		})
	}
}

// TestJournalPruned: the store keeps at most JournalSize requests of a
// tenant, and none older than JournalMaxAge once an instance writes again;
// Journal shows none older than that even before.
func TestJournalPruned(t *testing.T) {
	for _, eng := range journalEngines() {
		t.Run(eng.name, func(t *testing.T) {
			open := eng.db(t)
			clock := newManualClock()
			cfg := scim.Config{JournalSize: 3, JournalMaxAge: time.Hour}
			a := newJournalInstance(t, open(), clock, cfg)
			b := newJournalInstance(t, open(), clock, cfg)
			token := a.newToken("acme")
			stored := func() []string {
				t.Helper()
				list, err := a.st.Journal(t.Context(), "acme", 100)
				if err != nil {
					t.Fatalf("the store's Journal: %v", err)
				}
				var paths []string
				for _, e := range list {
					paths = append(paths, e.Path)
				}
				return paths
			}

			for i := range 5 {
				in := []*journalInstance{a, b}[i%2]
				in.scim(token, http.StatusNotFound, "GET", fmt.Sprintf("/Users/n%d", i), "")
			}
			a.close()
			b.close()
			if diff := cmp.Diff([]string{"/Users/n4", "/Users/n3", "/Users/n2"}, stored()); diff != "" {
				t.Errorf("stored after 5 requests with JournalSize 3 (-want +got):\n%s", diff)
			}

			clock.Advance(2 * time.Hour)
			if got := b.journal("acme"); len(got) != 0 {
				t.Errorf("Journal two hours later, with JournalMaxAge 1h: %v", got)
			}
			b.scim(token, http.StatusOK, "GET", "/Users", "")
			b.close()
			if diff := cmp.Diff([]string{"/Users"}, stored()); diff != "" {
				t.Errorf("stored after a request two hours later (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"GET /Users 200 user "}, a.journal("acme")); diff != "" {
				t.Errorf("A's Journal (-want +got):\n%s", diff)
			}
		})
	}
}
