package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations
var migrations embed.FS

// Migrations returns the schema migrations, one directory per dialect
// (named by Dialect.String: "sqlite", "postgres", "mysql"), each holding
// files named NNNN_description.sql that are applied in order of NNNN. Each
// file is a list of statements separated by lines ending in ";". Apps that
// run migrations with their own tool can apply these files instead of
// calling Migrate; Migrate records applied versions in the table
// scim_schema_migrations.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the directory is embedded above
	}
	return sub
}

type migration struct {
	version int
	name    string
	stmts   []string
}

func loadMigrations(d Dialect) ([]migration, error) {
	dir := path.Join("migrations", d.String())
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("sqlstore: bad migration file name %q", name)
		}
		body, err := fs.ReadFile(migrations, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: name, stmts: splitStatements(string(body))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// splitStatements splits a migration file into statements: comment lines
// are dropped and a statement ends with a line ending in ";".
func splitStatements(body string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(body, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(trimmed, ";") {
			stmt := strings.TrimSuffix(strings.TrimSpace(cur.String()), ";")
			out = append(out, stmt)
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

const migrationsTable = `CREATE TABLE IF NOT EXISTS scim_schema_migrations (
    version BIGINT NOT NULL PRIMARY KEY,
    name    VARCHAR(255) NOT NULL,
    applied BIGINT NOT NULL
)`

// Migrate creates or upgrades the adapter's tables, applying the
// migrations of the Store's dialect that are not yet recorded in
// scim_schema_migrations. It is idempotent. Concurrent Migrate calls,
// from this or other processes, are serialised by a lock: a transaction
// advisory lock on PostgreSQL, GET_LOCK on MySQL, the write lock (BEGIN
// IMMEDIATE) on SQLite. On PostgreSQL and SQLite all pending migrations
// apply in one transaction; MySQL commits DDL statements implicitly, so a
// failure there can leave a migration partly applied.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := loadMigrations(s.dialect)
	if err != nil {
		return err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return s.wrap("migrate", err)
	}
	defer conn.Close()
	switch s.dialect {
	case Postgres:
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return s.wrap("migrate", err)
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7236478291)`); err != nil {
			return s.wrap("migrate: lock", err)
		}
		if err := s.applyMigrations(ctx, tx, ms); err != nil {
			return err
		}
		return s.wrap("migrate: commit", tx.Commit())
	case MySQL:
		var got sql.NullInt64
		if err := conn.QueryRowContext(ctx, `SELECT GET_LOCK('scimkit_migrate', 300)`).Scan(&got); err != nil {
			return s.wrap("migrate: lock", err)
		}
		if got.Int64 != 1 {
			return s.wrap("migrate: lock", errors.New("timed out waiting for GET_LOCK"))
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT RELEASE_LOCK('scimkit_migrate')`)
		return s.applyMigrations(ctx, conn, ms)
	default: // SQLite
		var err error
		for attempt := 0; attempt < 50; attempt++ {
			if _, err = conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err == nil || sqliteCode(err)&0xff != 5 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			return s.wrap("migrate: begin", err)
		}
		if err := s.applyMigrations(ctx, conn, ms); err != nil {
			conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
			return err
		}
		_, err = conn.ExecContext(ctx, `COMMIT`)
		return s.wrap("migrate: commit", err)
	}
}

type execQueryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) applyMigrations(ctx context.Context, q execQueryer, ms []migration) error {
	if _, err := q.ExecContext(ctx, migrationsTable); err != nil {
		return s.wrap("migrate: create scim_schema_migrations", err)
	}
	rows, err := q.QueryContext(ctx, `SELECT version FROM scim_schema_migrations`)
	if err != nil {
		return s.wrap("migrate: read versions", err)
	}
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return s.wrap("migrate: read versions", err)
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return s.wrap("migrate: read versions", err)
	}
	rows.Close()
	insert := `INSERT INTO scim_schema_migrations (version, name, applied) VALUES (?, ?, ?)`
	if s.dialect == Postgres {
		insert = `INSERT INTO scim_schema_migrations (version, name, applied) VALUES ($1, $2, $3)`
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		var plan *refoldPlan
		if m.version == refoldVersion {
			// Collisions are found before the migration changes anything,
			// on MySQL too, where its statements commit at once.
			if plan, err = s.planRefold(ctx, q); err != nil {
				return err
			}
		}
		for i, stmt := range m.stmts {
			if _, err := q.ExecContext(ctx, stmt); err != nil {
				return s.wrap(fmt.Sprintf("migrate: %s statement %d", m.name, i+1), err)
			}
		}
		if plan != nil {
			if err := s.applyRefoldIn(ctx, q, plan); err != nil {
				return err
			}
		}
		if _, err := q.ExecContext(ctx, insert, m.version, m.name, time.Now().UnixNano()); err != nil {
			return s.wrap("migrate: record "+m.name, err)
		}
	}
	return nil
}

// applyRefoldIn applies a refold plan in q: in a transaction of its own on
// MySQL, where Migrate runs on a connection, in q's otherwise.
func (s *Store) applyRefoldIn(ctx context.Context, q execQueryer, plan *refoldPlan) error {
	conn, ok := q.(*sql.Conn)
	if !ok || s.dialect != MySQL {
		return s.applyRefold(ctx, q, plan)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap("migrate: refold", err)
	}
	defer tx.Rollback()
	if err := s.applyRefold(ctx, tx, plan); err != nil {
		return err
	}
	return s.wrap("migrate: refold", tx.Commit())
}
