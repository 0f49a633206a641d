package sqlstore_test

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimkit/scim/store"
	sqlstore "github.com/scimkit/scim/store/sql"
)

// TestMigrationCountsExistingRows upgrades a SQLite database made by the
// first migration, holding users and groups, and checks that the counters
// the second migration adds start from the rows already there.
func TestMigrationCountsExistingRows(t *testing.T) {
	db, err := sql.Open("sqlite", sqliteDSN(filepath.Join(t.TempDir(), "old.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	body, err := fs.ReadFile(sqlstore.Migrations(), "sqlite/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	var stmts []string
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			stmts = append(stmts, line)
		}
	}
	for _, stmt := range append(strings.Split(strings.Join(stmts, "\n"), ";"),
		`CREATE TABLE scim_schema_migrations (version BIGINT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, applied BIGINT NOT NULL)`,
		`INSERT INTO scim_schema_migrations VALUES (1, '0001_init.sql', 0)`,
		`INSERT INTO scim_tenants (name, created) VALUES ('a', 0), ('b', 0)`,
		`INSERT INTO scim_users (tenant, id, user_name_folded, doc, fdoc, version) VALUES ('a', 'u1', 'x', '{}', '{}', 1), ('a', 'u2', 'y', '{}', '{}', 1), ('b', 'u1', 'x', '{}', '{}', 1)`,
		`INSERT INTO scim_groups (tenant, id, display_name_folded, doc, fdoc, version) VALUES ('b', 'g1', 'g', '{}', '{}', 1)`,
	) {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	s := migrated(t, db, sqlstore.SQLite)
	ctx := context.Background()
	for tenant, want := range map[string][2]int{"a": {2, 0}, "b": {1, 1}, "c": {0, 0}} {
		err := s.View(ctx, tenant, func(r store.Reader) error {
			up, err := r.ListUsers(ctx, store.Query{Limit: 10})
			if err != nil {
				return err
			}
			gp, err := r.ListGroups(ctx, store.Query{Limit: 10})
			if err != nil {
				return err
			}
			if got := [2]int{up.Total, gp.Total}; got != want || len(up.Users) != want[0] {
				t.Errorf("tenant %s: totals %v with %d users listed, want %v", tenant, got, len(up.Users), want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
