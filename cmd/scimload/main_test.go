package main

import (
	"database/sql"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSmallLoadHasNoErrors runs the whole load, small, on the memory store
// and the reference, and checks that every request got the status an IdP
// expects. It asserts nothing about time.
func TestSmallLoadHasNoErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test runs a small load")
	}
	out := filepath.Join(t.TempDir(), "run.json")
	args := []string{"-target", "memory", "-users", "2000", "-members", "1000", "-burst", "50",
		"-patches", "20", "-import-pages", "3", "-c", "4", "-json", out}
	if err := run(args, io.Discard); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range rep.Phases {
		seen[r.Side+" "+r.Phase] = true
		if r.Errors != 0 || r.Status5xx != 0 {
			t.Errorf("%s %s: %d errors, %d 5xx; first: %s", r.Side, r.Phase, r.Errors, r.Status5xx, r.FirstErr)
		}
	}
	for _, p := range []string{"provision", "lookup@1k", "get@1k", "import", "patch.entra", "group.add@1k", "group.remove@1k", "group.get-excl@10", "group.get@10"} {
		for _, side := range []string{"target", "ref"} {
			if !seen[side+" "+p] {
				t.Errorf("no %s phase %s in %v", side, p, seen)
			}
		}
	}
	if len(rep.Targets) == 0 {
		t.Error("no targets evaluated")
	}
}

func TestTargetsMustBeLoopback(t *testing.T) {
	for _, u := range []string{"http://192.0.2.1/scim/v2", "http://[2001:db8::1]/scim/v2"} {
		if err := loopbackOnly(u); err == nil {
			t.Errorf("loopbackOnly(%s) accepted it", u)
		}
	}
	for _, u := range []string{"http://127.0.0.1:8080/scim/v2", "http://[::1]:8080/scim/v2"} {
		if err := loopbackOnly(u); err != nil {
			t.Errorf("loopbackOnly(%s): %v", u, err)
		}
	}
}

// TestPostgresRunLeavesNothing runs a small load on PostgreSQL (with
// -grow-to, which bulk-loads through the store) and checks that the run's
// schema is gone afterwards and nothing was written outside it.
func TestPostgresRunLeavesNothing(t *testing.T) {
	dsn := os.Getenv("SCIM_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("SCIM_TEST_POSTGRES_DSN is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	if testing.Short() {
		t.Skip("-short: this test runs a small load")
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	schemas := func() []string {
		t.Helper()
		rows, err := db.Query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'scimload\_%'
			UNION ALL SELECT table_schema || '.' || table_name FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_name LIKE 'scim\_%'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := []string{}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return out
	}
	before := schemas()
	args := []string{"-target", dsn, "-ref=false", "-users", "1000", "-grow-to", "1200", "-members", "200",
		"-burst", "20", "-patches", "10", "-import-pages", "2", "-c", "2", "-json", filepath.Join(t.TempDir(), "run.json")}
	if err := run(args, io.Discard); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, schemas()); diff != "" {
		t.Errorf("schemas and scim tables of the current schema before and after a run (-before +after):\n%s", diff)
	}
}
