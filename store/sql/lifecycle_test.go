package sqlstore_test

import (
	"database/sql"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
	sqlstore "github.com/scimkit/scim/store/sql"
)

// TestPagingAfterTenantDeletedElsewhere: a process that remembered where
// a tenant's pages end must not use those positions once another process
// deleted the tenant and it was written again: the new users' pages are
// the new users', in order.
func TestPagingAfterTenantDeletedElsewhere(t *testing.T) {
	reader := openSQLite(t)
	db, err := sql.Open("sqlite", sqliteDSN(lastSQLitePath))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	writer, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	create := func(prefix string) {
		t.Helper()
		err := writer.Update(ctx, "acme", func(tx store.Tx) error {
			for i := range 4 {
				u := &store.User{ID: fmt.Sprintf("%s%d", prefix, i), Attributes: store.Attributes{"userName": fmt.Sprintf("%s%d", prefix, i)}}
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	page := func(offset int) []string {
		t.Helper()
		var ids []string
		err := reader.View(ctx, "acme", func(r store.Reader) error {
			p, err := r.ListUsers(ctx, store.Query{Offset: offset, Limit: 2})
			for _, u := range p.Users {
				ids = append(ids, u.ID)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	create("old")
	page(0)
	page(2) // remembers "the first 2 users end at old1"
	if err := writer.DeleteTenant(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	create("new")
	if diff := cmp.Diff([]string{"new2", "new3"}, page(2)); diff != "" {
		t.Errorf("the second page after the tenant was deleted and written again (-want +got):\n%s", diff)
	}
}
