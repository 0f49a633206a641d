package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	_ "modernc.org/sqlite"             // driver "sqlite"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
	"github.com/scimkit/scim/store/memory"
	sqlstore "github.com/scimkit/scim/store/sql"
)

// tenant is the load's tenant; on a shared PostgreSQL database each run
// takes a new one, so runs never see each other's data.
var tenant = "load"

// server is something the tool drives: one or more base URLs (several
// instances behind the tool's round robin), and what it can do in-process.
type server struct {
	name  string
	urls  []string
	token string
	// inProcess reports that the server runs in this process, so process
	// CPU is the server's (plus the load generator's).
	inProcess bool
	// seed bulk-loads users without HTTP (nil when the server is remote);
	// it returns their ids.
	seed func(ctx context.Context, docs []map[string]any) ([]string, error)
	// analyze refreshes the database's planner statistics, as autovacuum
	// would (nil when nothing needs it).
	analyze func(ctx context.Context) error
	close   func()
}

// currentPhase is the name of the phase the load generator last recorded
// a request in, for the servers' profile labels (set only when profiling).
var currentPhase atomic.Pointer[string]

// listen serves h on a loopback port and returns its base URL.
func listen(name string, h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	if profiling {
		// Samples of a server's connection goroutines (reading requests,
		// the handler, writing responses) carry the label server=name, and
		// phase=the phase the load generator is in, so that a profile tells
		// the two sides and the phases apart:
		// go tool pprof -tagfocus server=memory -tagfocus phase=get@100k …
		srv.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
			return pprof.WithLabels(ctx, pprof.Labels("server", name))
		}
		srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			if p := currentPhase.Load(); p != nil {
				ctx = pprof.WithLabels(ctx, pprof.Labels("phase", *p))
			}
			pprof.SetGoroutineLabels(ctx)
			h.ServeHTTP(w, r)
		})
	}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String() + "/scim/v2", func() { _ = srv.Close() }, nil
}

func startRef(token string) (*server, *refServer, error) {
	ref := newRefServer(token)
	u, stop, err := listen("ref", ref)
	if err != nil {
		return nil, nil, err
	}
	return &server{
		name: "ref", urls: []string{u}, token: token, inProcess: true, close: stop,
		seed: func(_ context.Context, docs []map[string]any) ([]string, error) {
			ids := make([]string, len(docs))
			for i, d := range docs {
				ids[i] = ref.seedUser(d)
			}
			return ids, nil
		},
	}, ref, nil
}

// startScimkit runs instances scimkit handlers in-process over the store
// named by kind: memory, sqlite (a file in a temporary directory) or a
// postgres:// URL (every instance with its own connection pool, as separate
// processes behind a load balancer would have).
func startScimkit(ctx context.Context, kind, token string, instances, poolSize int, logLines bool) (*server, error) {
	var st []store.Store
	var closers []func()
	cleanup := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	var mem *memory.Store
	var pgAnalyze func(context.Context) error
	switch {
	case kind == "memory":
		if instances != 1 {
			return nil, errors.New("-instances > 1 needs a shared database (postgres://…)")
		}
		mem = memory.New()
		st = append(st, mem)
	case kind == "sqlite":
		if instances != 1 {
			return nil, errors.New("-instances > 1 needs a shared database (postgres://…)")
		}
		dir, err := os.MkdirTemp("", "scimload-")
		if err != nil {
			return nil, err
		}
		closers = append(closers, func() { os.RemoveAll(dir) })
		dsn := "file:" + filepath.Join(dir, "load.db") + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=temp_store(MEMORY)"
		s, closeDB, err := openSQL(ctx, "sqlite", dsn, sqlstore.SQLite, 0)
		if err != nil {
			cleanup()
			return nil, err
		}
		closers = append(closers, closeDB)
		st = append(st, s)
	case strings.HasPrefix(kind, "postgres://"), strings.HasPrefix(kind, "postgresql://"):
		tenant = fmt.Sprintf("load-%d", time.Now().UnixNano())
		// The run's tables live in a schema of their own, dropped at the
		// end: a run can leave a million users, and the database is
		// usually one that tests use too.
		dsn, dropSchema, analyze, err := loadSchema(ctx, kind)
		if err != nil {
			cleanup()
			return nil, err
		}
		closers = append(closers, dropSchema)
		pgAnalyze = analyze
		for range instances {
			s, closeDB, err := openSQL(ctx, "pgx", dsn, sqlstore.Postgres, poolSize)
			if err != nil {
				cleanup()
				return nil, err
			}
			closers = append(closers, closeDB)
			st = append(st, s)
		}
	default:
		return nil, fmt.Errorf("unknown in-process store %q", kind)
	}

	tokens := scim.NewStaticTokens()
	tokens.Add(tenant, token)
	// The handler formats its request line as it would in production, into
	// io.Discard rather than a terminal.
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	if !logLines {
		logger = slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	srv := &server{name: kind, token: token, inProcess: true}
	if u, err := url.Parse(kind); err == nil && u.User != nil {
		srv.name = "postgres"
	}
	for _, s := range st {
		h, err := scim.NewHandler(s, scim.RolePolicy{}, scim.Config{
			Authenticator: tokens,
			Logger:        logger,
			// The per-tenant rate and concurrency limits protect tenants
			// from each other; the load has one tenant.
			Limits: scim.Limits{RequestsPerSecond: -1, MaxConcurrent: -1},
		})
		if err != nil {
			cleanup()
			return nil, err
		}
		mux := http.NewServeMux()
		mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", h))
		u, stop, err := listen(srv.name, mux)
		if err != nil {
			cleanup()
			return nil, err
		}
		closers = append(closers, stop)
		srv.urls = append(srv.urls, u)
	}
	if mem != nil {
		// The app consumes its outbox; the memory store keeps every event
		// until trimmed.
		done := make(chan struct{})
		// tenant is the package's; a later run (the tests run several)
		// sets it again while this goroutine may still be ticking.
		trimmed := tenant
		go func() {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					mem.TrimEvents(trimmed, math.MaxInt64)
				}
			}
		}()
		closers = append(closers, func() { close(done) })
	}
	first := st[0]
	srv.seed = func(ctx context.Context, docs []map[string]any) ([]string, error) {
		return seedStore(ctx, first, docs)
	}
	srv.analyze = pgAnalyze
	srv.close = cleanup
	return srv, nil
}

// loadSchema creates a schema for the run in the database of dsn and
// returns dsn with its search_path set to it, a function that drops it,
// and, when the server's autovacuum is off, one that analyzes the run's
// tables (nil otherwise).
//
// Without autovacuum nothing ever analyzes the tables, and PostgreSQL plans
// every statement, and keeps the generic plans of prepared ones, as for
// the empty tables they were at the start: sequential scans, each costing
// the whole tenant once it has grown. A production server runs
// autovacuum, which analyzes a table as it grows, and PostgreSQL re-plans
// prepared statements after that. The load does the same at each
// milestone.
func loadSchema(ctx context.Context, dsn string) (string, func(), func(context.Context) error, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", nil, nil, fmt.Errorf("postgres target: %w", err)
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		return "", nil, nil, err
	}
	schema := fmt.Sprintf("scimload_%d", time.Now().UnixNano())
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		return "", nil, nil, fmt.Errorf("postgres target: create schema: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop := func() {
		// Not ctx: the run may have been interrupted.
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			fmt.Fprintf(os.Stderr, "scimload: drop schema %s: %v\n", schema, err)
		}
		admin.Close()
	}
	var autovacuum string
	if err := admin.QueryRowContext(ctx, "SHOW autovacuum").Scan(&autovacuum); err != nil {
		drop()
		return "", nil, nil, fmt.Errorf("postgres target: %w", err)
	}
	var analyze func(context.Context) error
	if autovacuum != "on" {
		analyze = func(ctx context.Context) error {
			for _, t := range []string{"scim_tenants", "scim_users", "scim_emails", "scim_groups", "scim_members", "scim_events"} {
				if _, err := admin.ExecContext(ctx, "ANALYZE "+schema+"."+t); err != nil {
					return fmt.Errorf("analyze %s: %w", t, err)
				}
			}
			return nil
		}
	}
	return u.String(), drop, analyze, nil
}

func openSQL(ctx context.Context, driver, dsn string, dialect sqlstore.Dialect, pool int) (*sqlstore.Store, func(), error) {
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, nil, err
	}
	if dialect == sqlstore.Postgres {
		db.SetMaxOpenConns(pool)
		db.SetMaxIdleConns(pool)
	}
	if dialect == sqlstore.SQLite {
		db.SetMaxIdleConns(16) // see sqlstore's package documentation
	}
	s, err := sqlstore.New(db, dialect)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		db.Close()
		return nil, nil, err
	}
	return s, func() { db.Close() }, nil
}

// seedStore creates users straight through the store, as the handler would
// have stored them, in batches of 1,000 per transaction.
func seedStore(ctx context.Context, st store.Store, docs []map[string]any) ([]string, error) {
	ids := make([]string, len(docs))
	now := time.Now().UTC()
	for start := 0; start < len(docs); start += 1000 {
		end := min(start+1000, len(docs))
		err := st.Update(ctx, tenant, func(tx store.Tx) error {
			for i := start; i < end; i++ {
				attrs := store.Attributes{}
				for k, v := range docs[i] {
					switch k {
					case "schemas", "password", "groups":
					default:
						attrs[k] = v
					}
				}
				u := store.User{ID: newID(), Attributes: attrs, Managed: true, ManagedBy: tenant,
					Meta: store.Meta{Created: now, LastModified: now}}
				if err := tx.CreateUser(ctx, &u); err != nil {
					return err
				}
				ids[i] = u.ID
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return ids, nil
}
