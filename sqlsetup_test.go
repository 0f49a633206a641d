package scim_test

import (
	"database/sql"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimkit/scim"
	sqlstore "github.com/scimkit/scim/store/sql"
)

// TestNotMigratedStore: a handler over a SQL store whose Migrate never ran
// answers 503 (the IdP retries) and logs what to do, not a table error.
func TestNotMigratedStore(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "scim.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	logs := new(syncBuffer)
	s := newTestServerWith(t, st, scim.Config{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	r := s.must(http.StatusServiceUnavailable, "GET", "/Users", "")
	if strings.Contains(r.raw, "scim_tenants") {
		t.Errorf("the answer names a table: %s", r.raw)
	}
	s.must(http.StatusServiceUnavailable, "POST", "/Users", `{"userName":"a@x.com"}`)
	if !strings.Contains(logs.String(), "call (*Store).Migrate") {
		t.Errorf("the log does not say to run Migrate:\n%s", logs)
	}
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	s.must(http.StatusCreated, "POST", "/Users", `{"userName":"a@x.com"}`)
}
