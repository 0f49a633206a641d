package scim_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
	"github.com/scimkit/scim/store/memory"
	sqlstore "github.com/scimkit/scim/store/sql"
)

func TestRateLimit(t *testing.T) {
	s := newTestServer(t, scim.Config{Limits: scim.Limits{RequestsPerSecond: 0.001, Burst: 2}})
	s.must(http.StatusOK, "GET", "/Users", "")
	s.must(http.StatusOK, "GET", "/Users", "")
	r := s.must(http.StatusTooManyRequests, "GET", "/Users", "")
	if r.header.Get("Retry-After") == "" || str(r.body, "status") != "429" {
		t.Errorf("429 without Retry-After or SCIM body: %v %s", r.header, r.raw)
	}
	// Another tenant has its own bucket.
	s.must(http.StatusOK, "GET", "/Users", "", "Authorization: Bearer "+tokenOther)
}

// rateLimiterFunc adapts a func to scim.RateLimiter.
type rateLimiterFunc func(ctx context.Context, tenant string) (bool, time.Duration, error)

func (f rateLimiterFunc) Allow(ctx context.Context, tenant string) (bool, time.Duration, error) {
	return f(ctx, tenant)
}

// TestCustomRateLimiter: a Limits.RateLimiter decides in place of the
// built-in bucket; its refusal is 429 with its delay as Retry-After (whole
// seconds, rounded up, at least 1), per tenant.
func TestCustomRateLimiter(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter time.Duration
		want       string
	}{
		{"whole seconds", 2 * time.Second, "2"},
		{"rounded up", 2500 * time.Millisecond, "3"},
		{"at least one", 0, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var asked []string
			lim := rateLimiterFunc(func(ctx context.Context, tenant string) (bool, time.Duration, error) {
				mu.Lock()
				asked = append(asked, tenant)
				mu.Unlock()
				if ctx.Err() != nil {
					t.Errorf("Allow got a done context: %v", ctx.Err())
				}
				if tenant == "acme" {
					return false, tt.retryAfter, nil
				}
				return true, 0, nil
			})
			// The built-in bucket would refuse the second request: it is
			// not consulted.
			s := newTestServer(t, scim.Config{Limits: scim.Limits{RateLimiter: lim, RequestsPerSecond: 0.001, Burst: 1}})
			r := s.must(http.StatusTooManyRequests, "GET", "/Users", "")
			if got := r.header.Get("Retry-After"); got != tt.want || str(r.body, "status") != "429" {
				t.Errorf("Retry-After %q, want %q; body %s", got, tt.want, r.raw)
			}
			s.must(http.StatusOK, "GET", "/Users", "", "Authorization: Bearer "+tokenOther)
			s.must(http.StatusOK, "GET", "/Users", "", "Authorization: Bearer "+tokenOther)
			if diff := cmp.Diff([]string{"acme", "other", "other"}, asked); diff != "" {
				t.Errorf("tenants asked for (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFailingRateLimiterFailsOpen: when the RateLimiter fails, the request
// is let through under this instance's own limit (RequestsPerSecond and
// Burst), and a warning is logged; with that limit off, it is let through.
func TestFailingRateLimiterFailsOpen(t *testing.T) {
	errDown := errors.New("limiter service is down")
	failing := rateLimiterFunc(func(context.Context, string) (bool, time.Duration, error) {
		return false, time.Hour, errDown
	})
	tests := []struct {
		name  string
		rate  float64
		burst int
		want  []int
	}{
		{"local limit applies", 0.001, 2, []int{200, 200, 429}},
		{"local limit off", -1, 0, []int{200, 200, 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			s := newTestServer(t, scim.Config{
				Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
				Limits: scim.Limits{RateLimiter: failing, RequestsPerSecond: tt.rate, Burst: tt.burst},
			})
			var got []int
			for range tt.want {
				got = append(got, s.do("GET", "/Users", "").status)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			if n := strings.Count(logs.String(), "rate limiter failed"); n != len(tt.want) || !strings.Contains(logs.String(), errDown.Error()) {
				t.Errorf("want %d warnings naming the error, got:\n%s", len(tt.want), logs.String())
			}
		})
	}
}

// gatedStore is a real memory store whose reads can be held at a gate, to
// keep requests in flight.
type gatedStore struct {
	store.Store
	gate chan struct{}
	in   chan struct{}
}

func (g *gatedStore) View(ctx context.Context, tenant string, fn func(store.Reader) error) error {
	g.in <- struct{}{}
	select {
	case <-g.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.Store.View(ctx, tenant, fn)
}

func TestConcurrencyLimit(t *testing.T) {
	gs := &gatedStore{Store: memory.New(), gate: make(chan struct{}), in: make(chan struct{}, 10)}
	s := newTestServerWith(t, gs, scim.Config{Limits: scim.Limits{MaxConcurrent: 1}})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.do("GET", "/Users", "")
	}()
	<-gs.in // the first request holds the tenant's only slot
	s.must(http.StatusTooManyRequests, "GET", "/Users", "")
	close(gs.gate)
	wg.Wait()
	s.must(http.StatusOK, "GET", "/Users", "")
}

func TestTimeout(t *testing.T) {
	gs := &gatedStore{Store: memory.New(), gate: make(chan struct{}), in: make(chan struct{}, 10)}
	s := newTestServerWith(t, gs, scim.Config{Limits: scim.Limits{Timeout: 50 * time.Millisecond}})
	r := s.must(http.StatusServiceUnavailable, "GET", "/Users", "")
	if r.header.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After")
	}
}

// TestHandlerLeavesTheRequestAlone: the handler bounds the body and the
// context of its own view of the request; the caller's *http.Request (which
// a middleware may look at after ServeHTTP) keeps its body and context.
func TestHandlerLeavesTheRequestAlone(t *testing.T) {
	for _, timeout := range []time.Duration{0, -1, time.Minute} {
		t.Run(fmt.Sprint(timeout), func(t *testing.T) {
			h, err := scim.NewHandler(memory.New(), demoPolicy, scim.Config{Authenticator: tokensFor(), Logger: discardLogger(),
				Limits: scim.Limits{Timeout: timeout}})
			if err != nil {
				t.Fatal(err)
			}
			type key struct{}
			ctx := context.WithValue(t.Context(), key{}, "caller's")
			body := io.NopCloser(strings.NewReader(`{"userName":"alone@x.com"}`))
			r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/Users", body)
			r.Header.Set("Authorization", "Bearer "+tokenAcme)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != http.StatusCreated {
				t.Fatalf("POST /Users: %d %s", rec.Code, rec.Body)
			}
			if r.Body != body {
				t.Errorf("r.Body = %T, want the caller's body", r.Body)
			}
			if r.Context() != ctx {
				t.Errorf("r.Context() = %v, want the caller's", r.Context())
			}
		})
	}
}

func TestRequestLimits(t *testing.T) {
	s := newTestServer(t, scim.Config{Limits: scim.Limits{MaxOperations: 2, MaxMembers: 2, MaxFilterLength: 30}})
	id := str(s.must(http.StatusCreated, "POST", "/Users", `{"userName":"l@x.com"}`).body, "id")
	gid := str(s.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"L"}`).body, "id")
	op := `{"op":"replace","path":"displayName","value":"x"}`
	r := s.must(http.StatusRequestEntityTooLarge, "PATCH", "/Users/"+id, `{"Operations":[`+op+`,`+op+`,`+op+`]}`)
	if str(r.body, "scimType") != "tooMany" {
		t.Errorf("ops limit: %s", r.raw)
	}
	s.must(http.StatusRequestEntityTooLarge, "PATCH", "/Groups/"+gid, `{"Operations":[{"op":"add","path":"members","value":[{"value":"a"},{"value":"b"},{"value":"c"}]}]}`)
	s.must(http.StatusBadRequest, "GET", "/Users?filter="+filterQuery(`userName eq "`+strings.Repeat("a", 40)+`"`), "")
	s.must(http.StatusOK, "GET", "/Users?filter="+filterQuery(`userName eq "l@x.com"`), "")
}

// TestDeprovisionGuard holds mass deprovisioning until the app confirms.
// TestBodySizeLimit: Limits.MaxBodyBytes bounds a request's body (1 MiB by
// default), and -1 lifts the bound.
func TestBodySizeLimit(t *testing.T) {
	// userBody is a POST /Users body of at least n bytes.
	userBody := func(n int) string {
		return `{"userName":"big@x.com","displayName":"` + strings.Repeat("a", n) + `"}`
	}
	for _, tc := range []struct {
		name   string
		limit  int64
		size   int
		status int
	}{
		{"small body within an explicit limit", 200, 100, http.StatusCreated},
		{"body over an explicit limit", 200, 300, http.StatusRequestEntityTooLarge},
		{"body over the default 1 MiB", 0, 1 << 20, http.StatusRequestEntityTooLarge},
		{"body over 1 MiB without a limit", -1, 1 << 20, http.StatusCreated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, scim.Config{Limits: scim.Limits{MaxBodyBytes: tc.limit}})
			s.must(tc.status, "POST", "/Users", userBody(tc.size))
		})
	}
}

func TestDeprovisionGuard(t *testing.T) {
	var log eventLog
	st := memory.New()
	h, err := scim.NewHandler(st, demoPolicy, scim.Config{Authenticator: tokensFor(), Logger: discardLogger(), OnEvent: log.add,
		DeprovisionGuard: scim.DeprovisionGuard{MaxShare: 0.5, MinCount: 2}})
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{t: t, store: st}
	s.srv = newHTTPServer(t, h)
	s.base = s.srv.URL
	var ids []string
	for i := range 6 {
		ids = append(ids, str(s.must(http.StatusCreated, "POST", "/Users", fmt.Sprintf(`{"userName":"u%d@x.com"}`, i)).body, "id"))
	}
	deactivate := `{"Operations":[{"op":"replace","value":{"active":false}}]}`
	for _, id := range ids[:3] { // half of 6 is allowed
		s.must(http.StatusOK, "PATCH", "/Users/"+id, deactivate)
	}
	log.take()
	r := s.must(http.StatusServiceUnavailable, "PATCH", "/Users/"+ids[3], deactivate)
	if !strings.Contains(str(r.body, "detail"), "on hold") {
		t.Errorf("hold detail: %s", r.raw)
	}
	s.must(http.StatusServiceUnavailable, "DELETE", "/Users/"+ids[4], "")
	if diff := cmp.Diff([]string{"tenant.deprovisioning_held"}, log.take()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	acme, err1 := h.DeprovisioningHeld(t.Context(), "acme")
	other, err2 := h.DeprovisioningHeld(t.Context(), "other")
	if !acme || other || err1 != nil || err2 != nil {
		t.Errorf("held: acme %v (%v) other %v (%v)", acme, err1, other, err2)
	}
	// Other changes go on; deleting an already inactive user is not counted.
	s.must(http.StatusOK, "PATCH", "/Users/"+ids[3], `{"Operations":[{"op":"replace","path":"displayName","value":"Still here"}]}`)
	s.must(http.StatusNoContent, "DELETE", "/Users/"+ids[0], "")
	if held, err := h.ConfirmDeprovisioning(t.Context(), "acme"); !held || err != nil {
		t.Errorf("ConfirmDeprovisioning: %v, %v; want true, nil", held, err)
	}
	s.must(http.StatusOK, "PATCH", "/Users/"+ids[3], deactivate)
}

// TestJournal keeps recent requests per tenant, without secrets, in the
// store when it keeps the journal and in the Handler when it does not.
func TestJournal(t *testing.T) {
	for _, c := range []struct {
		name  string
		store func(*memory.Store) store.Store
	}{
		{"InTheStore", func(st *memory.Store) store.Store { return st }},
		{"InTheHandler", func(st *memory.Store) store.Store { return struct{ store.Store }{st} }}, // no JournalStore
	} {
		t.Run(c.name, func(t *testing.T) {
			st := memory.New()
			h, err := scim.NewHandler(c.store(st), demoPolicy, scim.Config{Authenticator: tokensFor(), Logger: discardLogger(), JournalSize: 3})
			if err != nil {
				t.Fatal(err)
			}
			s := &testServer{t: t, store: st}
			s.srv = newHTTPServer(t, h)
			s.base = s.srv.URL
			journal := func(tenant string) []scim.JournalEntry {
				t.Helper()
				list, err := h.Journal(t.Context(), tenant)
				if err != nil {
					t.Fatalf("Journal(%s): %v", tenant, err)
				}
				return list
			}
			s.must(http.StatusOK, "GET", "/Users", "")
			id := str(s.must(http.StatusCreated, "POST", "/Users", `{"userName":"j@x.com","password":"hunter2","name":{"givenName":"J"}}`).body, "id")
			s.must(http.StatusOK, "PATCH", "/Users/"+id, `{"Operations":[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"secret@x.com"},{"op":"replace","value":{"active":false}}]}`, "User-Agent: Okta SCIM Client")
			s.must(http.StatusNotFound, "GET", "/Users/nope", "")
			s.must(http.StatusOK, "GET", "/Users", "", "Authorization: Bearer "+tokenOther)
			var got []string
			for _, e := range journal("acme") {
				got = append(got, fmt.Sprintf("%s %s %d %s | %s | %s | user %s", e.Method, e.Path, e.Status, e.Client, e.Summary, e.Error, e.UserID))
			}
			want := []string{
				"GET /Users/nope 404 other |  | User nope not found | user nope",
				`PATCH /Users/` + id + ` 200 okta | replace emails[type eq …].value; replace {active} |  | user ` + id,
				"POST /Users 201 other | attributes: name, userName |  | user " + id,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("journal (-want +got):\n%s", diff)
			}
			if j := fmt.Sprint(journal("acme")); strings.Contains(j, "hunter2") || strings.Contains(j, "secret@x.com") || strings.Contains(j, tokenAcme) {
				t.Errorf("journal leaks a value: %s", j)
			}
			if n := len(journal("other")); n != 1 {
				t.Errorf("other tenant's journal has %d entries", n)
			}
			if err := h.Close(t.Context()); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
}

// TestHygiene: no log line carries a bearer token or a password, and no
// response carries the password.
func TestHygiene(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(lockedWriter{&buf, &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := newTestServer(t, scim.Config{Logger: logger})
	r := s.must(http.StatusCreated, "POST", "/Users", `{"userName":"h@x.com","password":"Tr0ub4dor&3"}`)
	id := str(r.body, "id")
	for _, resp := range []response{r,
		s.must(http.StatusOK, "GET", "/Users/"+id, ""),
		s.must(http.StatusOK, "GET", "/Users?attributes=password", ""),
		s.must(http.StatusOK, "PUT", "/Users/"+id, `{"userName":"h@x.com","password":"Tr0ub4dor&4"}`),
		s.must(http.StatusOK, "PATCH", "/Users/"+id, `{"Operations":[{"op":"replace","path":"password","value":"Tr0ub4dor&5"}]}`),
	} {
		if strings.Contains(resp.raw, "Tr0ub4dor") || strings.Contains(resp.raw, `"password"`) {
			t.Errorf("a response carries the password: %s", resp.raw)
		}
	}
	s.must(http.StatusUnauthorized, "GET", "/Users", "", "Authorization: Bearer wrong-"+tokenAcme)
	s.must(http.StatusBadRequest, "POST", "/Users", `{"userName":"h2@x.com","password":"Tr0ub4dor&6","active":"perhaps"}`)
	mu.Lock()
	defer mu.Unlock()
	logs := buf.String()
	for _, secret := range []string{tokenAcme, "Tr0ub4dor"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
	if !strings.Contains(logs, `"status":401`) {
		t.Errorf("the 401 was not logged:\n%s", logs)
	}

	// A database that cannot be reached fails every request: what the
	// handler logs of the driver's errors never carries the DSN's password.
	for _, db := range []struct{ name, driver, dsn string }{
		{"postgres URL", "pgx", "postgres://u:S3cretDbPass@127.0.0.1:1/db?connect_timeout=2"},
		{"postgres key=value", "pgx", "host=127.0.0.1 port=1 user=u password=S3cretDbPass dbname=db connect_timeout=2"},
		{"mysql", "mysql", "u:S3cretDbPass@tcp(127.0.0.1:1)/db?timeout=2s"},
	} {
		t.Run(db.name+" unreachable", func(t *testing.T) {
			sqlDB, err := sql.Open(db.driver, db.dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sqlDB.Close() })
			dialect := sqlstore.Postgres
			if db.driver == "mysql" {
				dialect = sqlstore.MySQL
			}
			st, err := sqlstore.New(sqlDB, dialect)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			var mu sync.Mutex
			logger := slog.New(slog.NewJSONHandler(lockedWriter{&buf, &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
			s := newTestServerWith(t, st, scim.Config{Logger: logger})
			for _, r := range []response{s.do("GET", "/Users", ""), s.do("POST", "/Users", `{"userName":"db@x.com"}`)} {
				if r.status < 500 || strings.Contains(r.raw, "S3cretDbPass") {
					t.Errorf("answer with the database down: %d %s", r.status, r.raw)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if logs := buf.String(); strings.Contains(logs, "S3cretDbPass") || !strings.Contains(logs, "127.0.0.1:1") {
				t.Errorf("logs carry the database password, or not the error:\n%s", logs)
			}
		})
	}
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// TestLocationFollowsEachRequest: without Config.BaseURL, every response's
// locations are built from its own request's scheme, host and mount, even
// when requests for different hosts and mounts alternate.
func TestLocationFollowsEachRequest(t *testing.T) {
	h, err := scim.NewHandler(memory.New(), demoPolicy, scim.Config{Authenticator: tokensFor(), Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	mounted := http.StripPrefix("/scim/v2", h)
	rec := httptest.NewRecorder()
	post := httptest.NewRequest(http.MethodPost, "/Users", strings.NewReader(`{"userName":"where@x.com"}`))
	post.Header.Set("Authorization", "Bearer "+tokenAcme)
	h.ServeHTTP(rec, post)
	var created struct{ ID string }
	if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil || created.ID == "" {
		t.Fatalf("POST /Users: %d %s", rec.Code, rec.Body)
	}
	id := created.ID
	tests := []struct {
		name    string
		handler http.Handler
		target  string // absolute form, or path form with Host example.com
		proto   string // X-Forwarded-Proto
		want    string
	}{
		{"root", h, "http://a.example/Users/" + id, "", "http://a.example/Users/" + id},
		{"mounted", mounted, "http://a.example/scim/v2/Users/" + id, "", "http://a.example/scim/v2/Users/" + id},
		{"other host", mounted, "http://b.example:8080/scim/v2/Users/" + id, "", "http://b.example:8080/scim/v2/Users/" + id},
		{"forwarded https", mounted, "http://b.example:8080/scim/v2/Users/" + id, "https", "https://b.example:8080/scim/v2/Users/" + id},
		{"tls", mounted, "https://b.example:8080/scim/v2/Users/" + id, "", "https://b.example:8080/scim/v2/Users/" + id},
		{"path form", mounted, "/scim/v2/Users/" + id, "", "http://example.com/scim/v2/Users/" + id},
		{"root again", h, "http://a.example/Users/" + id + "?excludedAttributes=emails", "", "http://a.example/Users/" + id},
	}
	for range 2 { // and again, each after another
		for _, tt := range tests {
			r := httptest.NewRequest(http.MethodGet, tt.target, nil)
			r.Header.Set("Authorization", "Bearer "+tokenAcme)
			if tt.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tt.proto)
			}
			rec := httptest.NewRecorder()
			tt.handler.ServeHTTP(rec, r)
			var got struct {
				Meta struct{ Location string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != http.StatusOK {
				t.Fatalf("%s: %d %s", tt.name, rec.Code, rec.Body)
			}
			if got.Meta.Location != tt.want {
				t.Errorf("%s: meta.location = %q, want %q", tt.name, got.Meta.Location, tt.want)
			}
		}
	}
}
