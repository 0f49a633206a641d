package main

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSQLiteSettings checks the settings every connection of the demo's
// SQLite file gets: WAL for readers beside the writer, a busy timeout, and
// savepoints kept in memory (sqlstore's package documentation says why).
func TestSQLiteSettings(t *testing.T) {
	driver, conn, _, err := sqlSource(filepath.Join(t.TempDir(), "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open(driver, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got := map[string]string{}
	for _, pragma := range []string{"journal_mode", "busy_timeout", "temp_store"} {
		var v string
		if err := db.QueryRow("PRAGMA " + pragma).Scan(&v); err != nil {
			t.Fatalf("PRAGMA %s: %v", pragma, err)
		}
		got[pragma] = v
	}
	want := map[string]string{"journal_mode": "wal", "busy_timeout": "10000", "temp_store": "2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SQLite settings (-want +got):\n%s", diff)
	}
}
