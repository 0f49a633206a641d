package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/scimkit/scim/store"
)

// ErrNotMigrated is returned, wrapped, by the Store's methods when the
// database lacks this version's tables: Migrate (or the files of
// Migrations, applied with the app's own tool) has not run, or has not run
// since scimkit was upgraded. It also wraps store.ErrUnavailable, so a
// handler answers 503 and the identity provider retries once the
// migration has run.
var ErrNotMigrated = errors.New("sqlstore: the database has not been migrated: call (*Store).Migrate, or apply Migrations() with your migration tool, before serving requests")

// notMigrated is ErrNotMigrated with its details, and store.ErrUnavailable.
type notMigrated struct{ detail string }

func (e *notMigrated) Error() string { return ErrNotMigrated.Error() + " (" + e.detail + ")" }
func (e *notMigrated) Unwrap() []error {
	return []error{ErrNotMigrated, store.ErrUnavailable}
}

// driverDialects names the dialect of the database/sql drivers known to
// speak only one: a Store of another dialect on them cannot work. Drivers
// not listed (wrappers, others) are not checked.
var driverDialects = map[string]Dialect{
	"modernc.org/sqlite":                   SQLite,
	"github.com/mattn/go-sqlite3":          SQLite,
	"github.com/ncruces/go-sqlite3/driver": SQLite,
	"github.com/jackc/pgx/v5/stdlib":       Postgres,
	"github.com/jackc/pgx/v4/stdlib":       Postgres,
	"github.com/lib/pq":                    Postgres,
	"github.com/go-sql-driver/mysql":       MySQL,
	"github.com/ziutek/mymysql/godrv":      MySQL,
}

// checkDriver refuses a dialect that the database's driver does not speak.
func checkDriver(d driver.Driver, dialect Dialect) error {
	t := reflect.TypeOf(d)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return nil
	}
	want, ok := driverDialects[t.PkgPath()]
	if !ok || want == dialect {
		return nil
	}
	return fmt.Errorf("sqlstore: the *sql.DB uses a %s driver (%s) but the dialect is %s: pass sqlstore.%s to New, or open the database with a %s driver",
		want, t.PkgPath(), dialect, dialectName(want), dialect)
}

// dialectName is the Go name of a dialect's constant.
func dialectName(d Dialect) string {
	switch d {
	case SQLite:
		return "SQLite"
	case Postgres:
		return "Postgres"
	}
	return "MySQL"
}

// ready checks, until it has succeeded once, that the database has the
// Store's tables at this version's schema. Afterwards it costs one atomic
// load.
func (s *Store) ready(ctx context.Context) error {
	if s.schemaOK.Load() {
		return nil
	}
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM scim_tenants WHERE 1 = 0`).Scan(&n)
	if err != nil {
		if missingTable(err) {
			return &notMigrated{detail: "the table scim_tenants does not exist"}
		}
		return s.wrap("check schema", err)
	}
	// Migrate records the versions it applied; an app that applies the
	// files with its own tool may have no such table, and is trusted.
	var version int
	err = s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM scim_schema_migrations`).Scan(&version)
	switch {
	case err != nil && missingTable(err):
	case err != nil:
		return s.wrap("check schema", err)
	case version < s.latest:
		return &notMigrated{detail: fmt.Sprintf("the schema is at version %d; this version of sqlstore needs %d", version, s.latest)}
	}
	s.schemaOK.Store(true)
	return nil
}

// missingTable reports whether err says that a table does not exist, in
// any of the three engines' words.
func missingTable(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "no such table") || // SQLite
		strings.Contains(msg, "42P01") || // PostgreSQL: undefined_table
		strings.Contains(msg, "Error 1146") // MySQL: ER_NO_SUCH_TABLE
}
