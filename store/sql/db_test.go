package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-sql-driver/mysql"
	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	sqlstore "github.com/scimkit/scim/store/sql"
)

// engine opens a fresh, migrated database of one dialect for a test.
type engine struct {
	name string
	open func(t *testing.T) *sqlstore.Store
}

func engines() []engine {
	return []engine{
		{"SQLite", openSQLite},
		{"Postgres", openPostgres},
		{"MySQL", openMySQL},
	}
}

func randomName(prefix string) string {
	var b [6]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func migrated(t *testing.T, db *sql.DB, d sqlstore.Dialect) *sqlstore.Store {
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

// sqliteDSN is the DSN the package documentation recommends.
func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
}

// lastSQLitePath is the file of the latest openSQLite (tests using it do
// not run in parallel).
var lastSQLitePath string

func openSQLite(t *testing.T) *sqlstore.Store {
	t.Helper()
	return migrated(t, sqliteDB(t), sqlstore.SQLite)
}

// sqliteDB opens a new SQLite file, not migrated.
func sqliteDB(t *testing.T) *sql.DB {
	t.Helper()
	lastSQLitePath = filepath.Join(t.TempDir(), "scim.db")
	db, err := sql.Open("sqlite", sqliteDSN(lastSQLitePath))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openPostgres gives each test its own schema in the database named by
// SCIM_TEST_POSTGRES_DSN, dropped when the test ends.
func openPostgres(t *testing.T) *sqlstore.Store {
	t.Helper()
	return migrated(t, postgresDB(t), sqlstore.Postgres)
}

// postgresDB opens a new, empty schema on PostgreSQL, not migrated.
func postgresDB(t *testing.T) *sql.DB {
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
	schema := randomName("scimtest_")
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
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openMySQL gives each test its own database on the server named by
// SCIM_TEST_MYSQL_DSN, dropped when the test ends.
func openMySQL(t *testing.T) *sqlstore.Store {
	t.Helper()
	return migrated(t, mysqlDB(t), sqlstore.MySQL)
}

// mysqlDB opens a new, empty database on MySQL, not migrated.
func mysqlDB(t *testing.T) *sql.DB {
	t.Helper()
	dsn := os.Getenv("SCIM_TEST_MYSQL_DSN")
	if dsn == "" {
		t.Skip("SCIM_TEST_MYSQL_DSN is not set (e.g. root@tcp(127.0.0.1:3306)/test)")
	}
	admin, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	name := randomName("scimtest_")
	if _, err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4"); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() { admin.Exec("DROP DATABASE " + name) })
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DBName = name
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func sqlstoreMigrations() fs.FS { return sqlstore.Migrations() }
