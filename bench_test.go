package scim_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
	"github.com/scimkit/scim/store/memory"
	sqlstore "github.com/scimkit/scim/store/sql"
)

// Handler benchmarks: one request through ServeHTTP (no network) over each
// store, with the per-request log line formatted into io.Discard as a
// production logger would format it. The whole HTTP load, with a reference
// server to compare with, is cmd/scimload.
//
//	go test -run '^$' -bench Handler -benchmem .
//
// PostgreSQL runs when SCIM_TEST_POSTGRES_DSN is set.

// benchStores lists the stores the handler benchmarks run over.
func benchStores(b *testing.B) []struct {
	name string
	open func(b *testing.B) store.Store
} {
	stores := []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"memory", func(b *testing.B) store.Store { return memory.New() }},
		{"sqlite", func(b *testing.B) store.Store {
			dsn := "file:" + filepath.Join(b.TempDir(), "bench.db") + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
			return openBenchSQL(b, "sqlite", dsn, sqlstore.SQLite)
		}},
	}
	if dsn := os.Getenv("SCIM_TEST_POSTGRES_DSN"); dsn != "" {
		stores = append(stores, struct {
			name string
			open func(b *testing.B) store.Store
		}{"postgres", func(b *testing.B) store.Store { return openBenchSQL(b, "pgx", dsn, sqlstore.Postgres) }})
	}
	return stores
}

func openBenchSQL(b *testing.B, driver, dsn string, dialect sqlstore.Dialect) store.Store {
	b.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	st, err := sqlstore.New(db, dialect)
	if err != nil {
		b.Fatal(err)
	}
	if err := st.Migrate(b.Context()); err != nil {
		b.Fatal(err)
	}
	return st
}

// benchHandler is a handler over st for one fresh tenant, with its token.
type benchHandler struct {
	h      http.Handler
	token  string
	users  []string // ids of the users seeded through HTTP
	prefix string   // userName prefix of the seeded users
}

// benchHandlers numbers the handlers of the process: a benchmark function
// that loops to b.N runs again for each b.N tried.
var benchHandlers atomic.Int64

// newGuardedBenchHandler is newBenchHandler with a deprovisioning guard.
func newGuardedBenchHandler(b testing.TB, st store.Store, users int, guard scim.DeprovisionGuard) *benchHandler {
	b.Helper()
	return newBenchHandler(b, st, users, func(c *scim.Config) { c.DeprovisionGuard = guard })
}

// newBenchHandler returns a handler over st with users seeded users; opts
// change its configuration.
func newBenchHandler(b testing.TB, st store.Store, users int, opts ...func(*scim.Config)) *benchHandler {
	b.Helper()
	tokens := scim.NewStaticTokens()
	// A tenant per handler: PostgreSQL keeps earlier runs' tenants.
	n := benchHandlers.Add(1)
	tenant := fmt.Sprintf("bench-%s-%d-%d", b.Name(), os.Getpid(), n)
	token := "scim_bench_" + fmt.Sprint(len(tenant))
	tokens.Add(tenant, token)
	cfg := scim.Config{
		Authenticator: tokens,
		Logger:        slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Limits:        scim.Limits{RequestsPerSecond: -1, MaxConcurrent: -1},
	}
	for _, o := range opts {
		o(&cfg)
	}
	h, err := scim.NewHandler(st, demoPolicy, cfg)
	if err != nil {
		b.Fatal(err)
	}
	bh := &benchHandler{h: h, token: token, prefix: fmt.Sprintf("u%d-%d-", os.Getpid(), n)}
	for i := range users {
		rec := bh.serve(b, http.MethodPost, "/Users", oktaUserBody(bh.prefix, i), http.StatusCreated)
		bh.users = append(bh.users, idOf(b, rec))
	}
	return bh
}

func (bh *benchHandler) serve(b testing.TB, method, path, body string, want int) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, "http://bench.example"+path, rd)
	req.Header.Set("Authorization", "Bearer "+bh.token)
	req.Header.Set("User-Agent", "Okta SCIM Client 1.0.0")
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	rec := httptest.NewRecorder()
	bh.h.ServeHTTP(rec, req)
	if rec.Code != want {
		b.Fatalf("%s %s: %d, want %d: %s", method, path, rec.Code, want, rec.Body.String())
	}
	return rec
}

func idOf(b testing.TB, rec *httptest.ResponseRecorder) string {
	b.Helper()
	var v struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || v.ID == "" {
		b.Fatalf("no id in %s", rec.Body.String())
	}
	return v.ID
}

// oktaUserBody is Okta's POST /Users body.
func oktaUserBody(prefix string, i int) string {
	return fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"%[1]s%[2]d@example.com",`+
		`"name":{"givenName":"Given%[2]d","familyName":"Family%[2]d"},`+
		`"emails":[{"primary":true,"value":"%[1]s%[2]d@example.com","type":"work"},{"primary":false,"value":"home%[2]d@example.org","type":"home"}],`+
		`"displayName":"Given%[2]d Family%[2]d","locale":"en-US","externalId":"00u%[2]d","password":"Secret-%[2]d","active":true,"groups":[],`+
		`"memberRole":"viewer"}`, prefix, i)
}

const benchUsers = 1000

// benchEachStore runs a benchmark over each store: setup gets a handler
// with users seeded users and returns the operation, called with 0, 1, 2…
// once per iteration.
func benchEachStore(b *testing.B, users int, setup func(b *testing.B, bh *benchHandler) func(i int)) {
	for _, s := range benchStores(b) {
		b.Run(s.name, func(b *testing.B) {
			op := setup(b, newBenchHandler(b, s.open(b), users))
			i := 0
			for b.Loop() {
				op(i)
				i++
			}
		})
	}
}

// memberValues is the members list of a PATCH or POST body for ids.
func memberValues(ids []string) string {
	var sb strings.Builder
	for k, id := range ids {
		if k > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"value":"%s"}`, id)
	}
	return sb.String()
}

func BenchmarkHandlerGetUser(b *testing.B) {
	benchEachStore(b, benchUsers, func(b *testing.B, bh *benchHandler) func(int) {
		return func(i int) {
			bh.serve(b, http.MethodGet, "/Users/"+bh.users[i%len(bh.users)], "", http.StatusOK)
		}
	})
}

func BenchmarkHandlerUserNameLookup(b *testing.B) {
	benchEachStore(b, benchUsers, func(b *testing.B, bh *benchHandler) func(int) {
		return func(i int) {
			filter := url.QueryEscape(fmt.Sprintf(`userName eq "%s%d@example.com"`, bh.prefix, i%benchUsers))
			rec := bh.serve(b, http.MethodGet, "/Users?filter="+filter+"&startIndex=1&count=100", "", http.StatusOK)
			if !strings.Contains(rec.Body.String(), `"totalResults":1`) {
				b.Fatalf("lookup found no single user: %s", rec.Body.String())
			}
		}
	})
}

func BenchmarkHandlerCreateUser(b *testing.B) {
	benchEachStore(b, 0, func(b *testing.B, bh *benchHandler) func(int) {
		return func(i int) {
			bh.serve(b, http.MethodPost, "/Users", oktaUserBody(bh.prefix, i), http.StatusCreated)
		}
	})
}

func BenchmarkHandlerPatchUser(b *testing.B) {
	benchEachStore(b, benchUsers, func(b *testing.B, bh *benchHandler) func(int) {
		return func(i int) {
			bh.serve(b, http.MethodPatch, "/Users/"+bh.users[i%len(bh.users)], entraPatchBody(i), http.StatusOK)
		}
	})
}

// entraPatchBody is an Entra ID PATCH of a user, its values changing with
// i (every other one deactivates).
func entraPatchBody(i int) string {
	active := []string{"False", "True"}[i%2]
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` +
		`{"op":"Replace","path":"displayName","value":"Renamed ` + fmt.Sprint(i) + `"},` +
		`{"op":"Replace","path":"name.familyName","value":"Family-` + fmt.Sprint(i) + `"},` +
		`{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Dept"},` +
		`{"op":"Replace","path":"active","value":"` + active + `"}]}`
}

// BenchmarkHandlerGroupAdd100 adds 100 members per PATCH to one group, so
// the group grows as it runs: the cost must not grow with it.
func BenchmarkHandlerGroupAdd100(b *testing.B) {
	benchEachStore(b, benchUsers, func(b *testing.B, bh *benchHandler) func(int) {
		rec := bh.serve(b, http.MethodPost, "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Bench","members":[]}`, http.StatusCreated)
		group := idOf(b, rec)
		return func(i int) {
			// Add 100, then remove them in one request, so every
			// iteration adds 100 new members.
			ids := make([]string, 100)
			var remove strings.Builder
			for k := range ids {
				ids[k] = bh.users[(i*100+k)%len(bh.users)]
				if k > 0 {
					remove.WriteByte(',')
				}
				fmt.Fprintf(&remove, `{"op":"remove","path":"members[value eq \"%s\"]"}`, ids[k])
			}
			bh.serve(b, http.MethodPatch, "/Groups/"+group,
				`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[`+memberValues(ids)+`]}]}`,
				http.StatusNoContent)
			b.StopTimer()
			bh.serve(b, http.MethodPatch, "/Groups/"+group,
				`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+remove.String()+`]}`,
				http.StatusNoContent)
			b.StartTimer()
		}
	})
}

// BenchmarkHandlerImportPage reads the directory as Okta's import does,
// a page of 100 users at a time.
func BenchmarkHandlerImportPage(b *testing.B) {
	benchEachStore(b, benchUsers, func(b *testing.B, bh *benchHandler) func(int) {
		return func(i int) {
			start := (i*100)%benchUsers + 1
			bh.serve(b, http.MethodGet, fmt.Sprintf("/Users?startIndex=%d&count=100", start), "", http.StatusOK)
		}
	})
}

// BenchmarkHandlerGetGroupMembers reads a 1,000-member group with its
// members.
func BenchmarkHandlerGetGroupMembers(b *testing.B) {
	benchEachStore(b, benchUsers, func(b *testing.B, bh *benchHandler) func(int) {
		rec := bh.serve(b, http.MethodPost, "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"All","members":[`+memberValues(bh.users)+`]}`, http.StatusCreated)
		group := idOf(b, rec)
		return func(int) {
			bh.serve(b, http.MethodGet, "/Groups/"+group, "", http.StatusOK)
		}
	})
}
