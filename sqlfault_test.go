package scim_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
	sqlstore "github.com/scimkit/scim/store/sql"
)

// newSQLTestServer is newTestServer over the given store, with the real
// clock and random ids.
func newSQLTestServer(t *testing.T, st store.Store) *testServer {
	t.Helper()
	tokens := scim.NewStaticTokens()
	tokens.Add("acme", tokenAcme)
	h, err := scim.NewHandler(st, demoPolicy, scim.Config{
		Authenticator: tokens,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", h))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &testServer{t: t, srv: srv, store: st, base: srv.URL + "/scim/v2"}
}

// postgresTestDSN returns SCIM_TEST_POSTGRES_DSN with its search_path set
// to a new schema, dropped when the test ends; it skips without the
// variable.
func postgresTestDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("SCIM_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("SCIM_TEST_POSTGRES_DSN is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	var b [6]byte
	rand.Read(b[:])
	schema := "scimtest_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() { admin.Exec("DROP SCHEMA " + schema + " CASCADE") })
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func migratedStore(t *testing.T, db *sql.DB, d sqlstore.Dialect) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.New(db, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

// faultConnector wraps a real driver's connector. Once armed with n, the
// n-th statement from then on (begin, exec, query or commit, on any
// connection of the pool) takes the database away: on PostgreSQL it
// terminates the server processes of the pool's connections with
// pg_terminate_backend and lets the statement reach the real, now dead,
// connection; on SQLite it closes the real connection, as a vanished file
// system would, and the statement fails with driver.ErrBadConn. Until
// restore, every statement fails and no connection can be opened.
type faultConnector struct {
	driver.Connector
	admin *sql.DB // PostgreSQL: where pg_terminate_backend runs; nil for SQLite
	db    *sql.DB // the pool on this connector

	mu    sync.Mutex
	left  int  // statements before the fault; 0 when disarmed
	down  bool // the database is away
	fired bool
	conns map[*faultConn]bool
}

func (f *faultConnector) arm(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.left, f.fired = n, false
}

// restore brings the database back and reports whether the fault fired.
// The pool's idle connections, dead since the fault, are dropped, as a
// pool would find out on its own over the next requests.
func (f *faultConnector) restore() bool {
	f.mu.Lock()
	fired := f.fired
	f.left, f.down, f.fired = 0, false, false
	f.mu.Unlock()
	if fired {
		f.db.SetMaxIdleConns(0)
		f.db.SetMaxIdleConns(2)
	}
	return fired
}

var errRefused = &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}

func (f *faultConnector) Connect(ctx context.Context) (driver.Conn, error) {
	f.mu.Lock()
	down := f.down
	f.mu.Unlock()
	if down {
		return nil, errRefused
	}
	c, err := f.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	fc := &faultConn{f: f, c: c, pid: -1}
	if f.admin != nil {
		fc.pid, err = backendPID(ctx, c)
		if err != nil {
			c.Close()
			return nil, err
		}
	}
	f.mu.Lock()
	if f.conns == nil {
		f.conns = map[*faultConn]bool{}
	}
	f.conns[fc] = true
	f.mu.Unlock()
	return fc, nil
}

func backendPID(ctx context.Context, c driver.Conn) (int64, error) {
	rows, err := c.(driver.QueryerContext).QueryContext(ctx, "SELECT pg_backend_pid()", nil)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	dest := make([]driver.Value, 1)
	if err := rows.Next(dest); err != nil {
		return 0, err
	}
	switch v := dest[0].(type) {
	case int64:
		return v, nil
	case int32:
		return int64(v), nil
	}
	return 0, fmt.Errorf("pg_backend_pid: %T", dest[0])
}

// step is called before each statement on c: it returns the error the
// statement fails with without reaching the database, or nil to let it
// through.
func (f *faultConnector) step(c *faultConn) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case c.closed:
		return driver.ErrBadConn
	case f.down && f.admin == nil:
		return driver.ErrBadConn
	case f.down, f.left == 0:
		return nil // a dead PostgreSQL connection reports itself
	}
	f.left--
	if f.left > 0 {
		return nil
	}
	f.down, f.fired = true, true
	if f.admin == nil {
		for fc := range f.conns {
			fc.closeReal()
		}
		return driver.ErrBadConn
	}
	var pids []any
	for fc := range f.conns {
		pids = append(pids, fc.pid)
	}
	terminate(f.admin, pids)
	return nil // the real connection answers, with its own error
}

// terminate ends the given server processes and waits until they are gone.
func terminate(admin *sql.DB, pids []any) {
	if len(pids) == 0 {
		return
	}
	list := strings.TrimSuffix(strings.Repeat("?, ", len(pids)), ", ")
	for i := range pids {
		list = strings.Replace(list, "?", fmt.Sprintf("$%d", i+1), 1)
	}
	admin.Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid IN ("+list+")", pids...)
	for range 200 {
		var n int
		if err := admin.QueryRow("SELECT COUNT(*) FROM pg_stat_activity WHERE pid IN ("+list+")", pids...).Scan(&n); err != nil || n == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type faultConn struct {
	f      *faultConnector
	c      driver.Conn
	pid    int64
	closed bool                // guarded by f.mu
	stmts  map[*faultStmt]bool // open prepared statements; guarded by f.mu
}

// closeReal closes the real connection, and first the statements prepared
// on it (which the store keeps across transactions on SQLite); f.mu is held.
func (c *faultConn) closeReal() {
	if !c.closed {
		c.closed = true
		for s := range c.stmts {
			s.s.Close()
		}
		c.stmts = nil
		c.c.Close()
	}
	delete(c.f.conns, c)
}

func (c *faultConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *faultConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if err := c.f.step(c); err != nil {
		return nil, err
	}
	var s driver.Stmt
	var err error
	if p, ok := c.c.(driver.ConnPrepareContext); ok {
		s, err = p.PrepareContext(ctx, query)
	} else {
		s, err = c.c.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	fs := &faultStmt{c: c, s: s}
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	if c.closed {
		s.Close()
		return nil, driver.ErrBadConn
	}
	if c.stmts == nil {
		c.stmts = map[*faultStmt]bool{}
	}
	c.stmts[fs] = true
	return fs, nil
}

// faultStmt is a statement prepared on a faultConn: each run is a
// statement that may fail, and closing it after its connection was taken
// away does nothing.
type faultStmt struct {
	c *faultConn
	s driver.Stmt
}

func (s *faultStmt) Close() error {
	s.c.f.mu.Lock()
	defer s.c.f.mu.Unlock()
	if s.c.closed || !s.c.stmts[s] {
		return nil
	}
	delete(s.c.stmts, s)
	return s.s.Close()
}

func (s *faultStmt) NumInput() int { return s.s.NumInput() }

func (s *faultStmt) Exec(args []driver.Value) (driver.Result, error) {
	return nil, errors.New("faultStmt: Exec without context")
}

func (s *faultStmt) Query(args []driver.Value) (driver.Rows, error) {
	return nil, errors.New("faultStmt: Query without context")
}

func (s *faultStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if err := s.c.f.step(s.c); err != nil {
		return nil, err
	}
	return s.s.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *faultStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if err := s.c.f.step(s.c); err != nil {
		return nil, err
	}
	return s.s.(driver.StmtQueryContext).QueryContext(ctx, args)
}

func (s *faultStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := s.s.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return s.c.CheckNamedValue(nv)
}

func (c *faultConn) Close() error {
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	c.closeReal()
	return nil
}

func (c *faultConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *faultConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if err := c.f.step(c); err != nil {
		return nil, err
	}
	tx, err := c.c.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &faultTx{c: c, tx: tx}, nil
}

func (c *faultConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if err := c.f.step(c); err != nil {
		return nil, err
	}
	return c.c.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (c *faultConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if err := c.f.step(c); err != nil {
		return nil, err
	}
	return c.c.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (c *faultConn) ResetSession(ctx context.Context) error {
	c.f.mu.Lock()
	closed := c.closed
	c.f.mu.Unlock()
	if closed {
		return driver.ErrBadConn
	}
	if r, ok := c.c.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *faultConn) IsValid() bool {
	c.f.mu.Lock()
	closed := c.closed
	c.f.mu.Unlock()
	if v, ok := c.c.(driver.Validator); ok && !closed {
		return v.IsValid()
	}
	return !closed
}

func (c *faultConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.c.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

type faultTx struct {
	c  *faultConn
	tx driver.Tx
}

func (t *faultTx) Commit() error {
	if err := t.c.f.step(t.c); err != nil {
		return err
	}
	return t.tx.Commit()
}

func (t *faultTx) Rollback() error {
	t.c.f.mu.Lock()
	closed := t.c.closed
	t.c.f.mu.Unlock()
	if closed {
		return driver.ErrBadConn // closing the connection rolled back
	}
	return t.tx.Rollback()
}

// faultEngine opens a migrated store whose pool goes through a
// faultConnector.
type faultEngine struct {
	name string
	open func(t *testing.T) (*sqlstore.Store, *faultConnector)
}

func faultEngines() []faultEngine {
	return []faultEngine{
		{"SQLite", func(t *testing.T) (*sqlstore.Store, *faultConnector) {
			path := filepath.Join(t.TempDir(), "scim.db")
			dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
			f := &faultConnector{Connector: dsnConnector{dsn: dsn, d: &sqlite.Driver{}}}
			f.db = sql.OpenDB(f)
			t.Cleanup(func() { f.db.Close() })
			return migratedStore(t, f.db, sqlstore.SQLite), f
		}},
		{"Postgres", func(t *testing.T) (*sqlstore.Store, *faultConnector) {
			dsn := postgresTestDSN(t)
			admin, err := sql.Open("pgx", dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { admin.Close() })
			f := &faultConnector{Connector: dsnConnector{dsn: dsn, d: &stdlib.Driver{}}, admin: admin}
			f.db = sql.OpenDB(f)
			t.Cleanup(func() { f.db.Close() })
			return migratedStore(t, f.db, sqlstore.Postgres), f
		}},
	}
}

// dsnConnector is a driver.Connector for a driver and a DSN.
type dsnConnector struct {
	dsn string
	d   driver.Driver
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.d }

// tenantState is everything a tenant holds, as the store reads it.
type tenantState struct {
	UserTotal, GroupTotal int
	Users                 []store.User
	Groups                []store.Group
}

func takeSnapshot(t *testing.T, st store.Store) tenantState {
	t.Helper()
	ctx := context.Background()
	var s tenantState
	err := st.View(ctx, "acme", func(r store.Reader) error {
		up, err := r.ListUsers(ctx, store.Query{Limit: 1000})
		if err != nil {
			return err
		}
		gp, err := r.ListGroups(ctx, store.Query{Limit: 1000, WithMembers: true})
		if err != nil {
			return err
		}
		s = tenantState{UserTotal: up.Total, GroupTotal: gp.Total, Users: up.Users, Groups: gp.Groups}
		return nil
	})
	if err != nil {
		t.Fatalf("tenantState: %v", err)
	}
	for _, g := range s.Groups {
		sort.Slice(g.Members, func(i, j int) bool { return g.Members[i].Value < g.Members[j].Value })
	}
	return s
}

// leaks lists words that must not reach the identity provider: SQL, table
// names, driver and package names.
var leaks = []string{"sql", "select", "insert", "update ", "delete from", "scim_", "pgx", "pgconn", "driver", "sqlite", "postgres", "terminating", "bad connection", "refused", "tcp"}

// checkUnavailable asserts a retryable SCIM 503 without internal text.
func checkUnavailable(t *testing.T, what string, r response) {
	t.Helper()
	if r.status != http.StatusServiceUnavailable {
		t.Fatalf("%s: status %d, want 503\n%s", what, r.status, r.raw)
	}
	if r.header.Get("Retry-After") == "" {
		t.Errorf("%s: no Retry-After header", what)
	}
	if diff := cmp.Diff([]any{"urn:ietf:params:scim:api:messages:2.0:Error"}, r.body["schemas"]); diff != "" {
		t.Errorf("%s: schemas (-want +got):\n%s", what, diff)
	}
	if got := str(r.body, "status"); got != "503" {
		t.Errorf("%s: body status %q, want \"503\"", what, got)
	}
	detail := strings.ToLower(str(r.body, "detail"))
	if detail == "" {
		t.Errorf("%s: empty detail", what)
	}
	for _, w := range leaks {
		if strings.Contains(detail, w) {
			t.Errorf("%s: detail %q contains %q", what, str(r.body, "detail"), w)
		}
	}
}

// TestDatabaseFailingMidRequestIs503AndWritesNothing runs the handler over
// sqlstore on SQLite and PostgreSQL and takes the database away at every
// statement of a write request in turn: at the first, the second, … until
// the request no longer reaches the fault. Each request must either fail
// with a retryable SCIM 503 that names no SQL or driver, leaving the
// tenant exactly as it was once the database is back, or succeed
// completely (database/sql may retry a failed BEGIN on a new connection).
func TestDatabaseFailingMidRequestIs503AndWritesNothing(t *testing.T) {
	for _, eng := range faultEngines() {
		t.Run(eng.name, func(t *testing.T) {
			st, fault := eng.open(t)
			s := newSQLTestServer(t, st)
			var userIDs []string
			for i := range 3 {
				r := s.must(http.StatusCreated, "POST", "/Users", oktaUser(fmt.Sprintf("base%d@example.com", i), "Base", fmt.Sprint(i)))
				userIDs = append(userIDs, str(r.body, "id"))
			}
			g := s.must(http.StatusCreated, "POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Team","members":[{"value":"`+userIDs[0]+`"}]}`)
			gid := str(g.body, "id")

			type request struct {
				name string
				// send makes the request for attempt n; undo reverts a
				// success so that the next attempt starts from the same data.
				send func(n int) response
				ok   int
				undo func(n int, r response)
			}
			requests := []request{
				{"create user", func(n int) response {
					return s.do("POST", "/Users", oktaUser(fmt.Sprintf("new%d@example.com", n), "New", fmt.Sprint(n)))
				}, http.StatusCreated, func(n int, r response) {
					s.must(http.StatusNoContent, "DELETE", "/Users/"+str(r.body, "id"), "")
				}},
				{"add members", func(int) response {
					return s.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
					  "Operations":[{"op":"add","path":"members","value":[{"value":"`+userIDs[1]+`"},{"value":"`+userIDs[2]+`"}]}]}`)
				}, http.StatusNoContent, func(int, response) {
					s.must(http.StatusNoContent, "PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
					  "Operations":[{"op":"replace","path":"members","value":[{"value":"`+userIDs[0]+`"}]}]}`)
				}},
				{"delete member user", func(int) response {
					return s.do("DELETE", "/Users/"+userIDs[0], "")
				}, http.StatusNoContent, func(int, response) {
					t.Fatalf("deleting a user succeeded although the fault did not fire")
				}},
				{"list users", func(int) response {
					return s.do("GET", "/Users?startIndex=1&count=100", "")
				}, http.StatusOK, nil},
			}
			failures := 0
			t.Cleanup(func() { t.Logf("%d requests answered 503", failures) })
			for _, req := range requests {
				saw503 := false
				for n := 1; ; n++ {
					before := takeSnapshot(t, st)
					fault.arm(n)
					r := req.send(n)
					fired := fault.restore()
					what := fmt.Sprintf("%s, fault at statement %d", req.name, n)
					if !fired {
						// The request ended before its n-th statement.
						if r.status != req.ok {
							t.Fatalf("%s (not reached): status %d, want %d\n%s", what, r.status, req.ok, r.raw)
						}
						if !saw503 {
							t.Errorf("%s: no attempt answered 503", req.name)
						}
						break
					}
					if r.status == req.ok {
						if req.undo != nil {
							req.undo(n, r)
						}
						continue
					}
					saw503 = true
					failures++
					checkUnavailable(t, what, r)
					if diff := cmp.Diff(before, takeSnapshot(t, st)); diff != "" {
						t.Fatalf("%s: the tenant changed (-before +after):\n%s", what, diff)
					}
					if n > 50 {
						t.Fatalf("%s: still failing", what)
					}
				}
			}
			// The database is back: requests succeed again.
			s.must(http.StatusOK, "GET", "/Groups/"+gid, "")
		})
	}
}
