package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/scimkit/scim/store"
	sqlstore "github.com/scimkit/scim/store/sql"
)

// rawEngines open a database of each dialect without migrating it.
var rawEngines = []struct {
	name    string
	dialect sqlstore.Dialect
	open    func(t *testing.T) *sql.DB
}{
	{"SQLite", sqlstore.SQLite, sqliteDB},
	{"Postgres", sqlstore.Postgres, postgresDB},
	{"MySQL", sqlstore.MySQL, mysqlDB},
}

// TestNotMigrated: every method of a Store whose database was never
// migrated, or is a migration behind, returns ErrNotMigrated (and
// store.ErrUnavailable, so the IdP retries) with a message that names the
// fix; after Migrate the same Store works.
func TestNotMigrated(t *testing.T) {
	ctx := context.Background()
	for _, e := range rawEngines {
		t.Run(e.name, func(t *testing.T) {
			db := e.open(t)
			s, err := sqlstore.New(db, e.dialect)
			if err != nil {
				t.Fatal(err)
			}
			calls := map[string]func() error{
				"View": func() error {
					return s.View(ctx, "acme", func(store.Reader) error { return nil })
				},
				"Update": func() error {
					return s.Update(ctx, "acme", func(store.Tx) error { return nil })
				},
				"Events": func() error { _, err := s.Events(ctx, "acme", 0, 10); return err },
				"TokenByDigest": func() error {
					_, err := s.TokenByDigest(ctx, "digest")
					return err
				},
				"CreateToken": func() error {
					return s.CreateToken(ctx, store.Token{ID: "t1", Tenant: "acme", Digest: "d", Created: time.Now()})
				},
			}
			check := func(want string) {
				t.Helper()
				for name, call := range calls {
					err := call()
					if !errors.Is(err, sqlstore.ErrNotMigrated) || !errors.Is(err, store.ErrUnavailable) {
						t.Errorf("%s: %v, want ErrNotMigrated and store.ErrUnavailable", name, err)
						continue
					}
					if !strings.Contains(err.Error(), "Migrate") || !strings.Contains(err.Error(), want) {
						t.Errorf("%s: %q does not name the fix and %q", name, err, want)
					}
				}
			}
			check("scim_tenants does not exist")

			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			for name, call := range calls {
				if err := call(); err != nil && !errors.Is(err, store.ErrNotFound) {
					t.Errorf("%s after Migrate: %v", name, err)
				}
			}
			// A database whose newest migration is not recorded is a
			// version behind, for a Store that has not checked it yet.
			var version int
			var name string
			var applied int64
			if err := db.QueryRow(`SELECT version, name, applied FROM scim_schema_migrations ORDER BY version DESC LIMIT 1`).Scan(&version, &name, &applied); err != nil {
				t.Fatal(err)
			}
			del, ins := `DELETE FROM scim_schema_migrations WHERE version = ?`, `INSERT INTO scim_schema_migrations (version, name, applied) VALUES (?, ?, ?)`
			if e.dialect == sqlstore.Postgres {
				del, ins = `DELETE FROM scim_schema_migrations WHERE version = $1`, `INSERT INTO scim_schema_migrations (version, name, applied) VALUES ($1, $2, $3)`
			}
			if _, err := db.Exec(del, version); err != nil {
				t.Fatal(err)
			}
			if s, err = sqlstore.New(db, e.dialect); err != nil {
				t.Fatal(err)
			}
			check("this version of sqlstore needs")
			if _, err := db.Exec(ins, version, name, applied); err != nil {
				t.Fatal(err)
			}
			if err := calls["View"](); err != nil {
				t.Errorf("View once the schema is current: %v", err)
			}
		})
	}
}

// TestNewRefusesAnotherDialectsDriver: a Store of one dialect on another
// engine's driver fails at New, naming the fix.
func TestNewRefusesAnotherDialectsDriver(t *testing.T) {
	tests := []struct {
		driver, dsn string
		dialect     sqlstore.Dialect
		want        string
	}{
		{"sqlite", "file::memory:", sqlstore.Postgres, "pass sqlstore.SQLite"},
		{"sqlite", "file::memory:", sqlstore.MySQL, "pass sqlstore.SQLite"},
		{"pgx", "postgres://u@127.0.0.1:1/x", sqlstore.MySQL, "pass sqlstore.Postgres"},
		{"pgx", "postgres://u@127.0.0.1:1/x", sqlstore.SQLite, "pass sqlstore.Postgres"},
		{"mysql", "u@tcp(127.0.0.1:1)/x", sqlstore.Postgres, "pass sqlstore.MySQL"},
		{"mysql", "u@tcp(127.0.0.1:1)/x", sqlstore.SQLite, "pass sqlstore.MySQL"},
	}
	for _, tc := range tests {
		db, err := sql.Open(tc.driver, tc.dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		_, err = sqlstore.New(db, tc.dialect)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%s driver, %v) = %v, want an error saying %q", tc.driver, tc.dialect, err, tc.want)
		}
	}
	for _, d := range []struct {
		driver, dsn string
		dialect     sqlstore.Dialect
	}{{"sqlite", "file::memory:", sqlstore.SQLite}, {"pgx", "postgres://u@127.0.0.1:1/x", sqlstore.Postgres}, {"mysql", "u@tcp(127.0.0.1:1)/x", sqlstore.MySQL}} {
		db, _ := sql.Open(d.driver, d.dsn)
		defer db.Close()
		if _, err := sqlstore.New(db, d.dialect); err != nil {
			t.Errorf("New(%s driver, %v): %v", d.driver, d.dialect, err)
		}
	}
}
