package sqlstore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"testing"
	"time"

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

// TestMigrationFillsEventUsers upgrades a database whose events and
// departures were recorded before migration 0009: the events get their
// user id from their documents, so that the users they describe can be
// listed as departed and erased like those recorded afterwards.
func TestMigrationFillsEventUsers(t *testing.T) {
	for _, e := range rawEngines {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			_, s, o := atVersion4(t, e.open, e.dialect)
			if err := sqlstore.MigrateTo(ctx, s, 8); err != nil {
				t.Fatalf("migrate to 8: %v", err)
			}
			gone := &store.User{ID: "u1", Attributes: store.Attributes{"userName": "gone@example.com",
				"emails": []any{map[string]any{"value": "gone@example.com"}}}}
			events := []store.Event{
				{Time: time.Unix(0, 100), Type: store.UserDeprovisioned, Tenant: "a", UserID: "u1", Before: gone},
				{Time: time.Unix(0, 150), Type: store.GroupCreated, Tenant: "a", GroupID: "g1",
					GroupAfter: &store.Group{ID: "g1", Attributes: store.Attributes{"displayName": "Team"}}},
			}
			for i, ev := range events {
				doc, err := json.Marshal(ev)
				if err != nil {
					t.Fatal(err)
				}
				o.exec("INSERT INTO scim_events (tenant, seq, type, time, doc) VALUES (?, ?, ?, ?, ?)", "a", i+1, string(ev.Type), ev.Time.UnixNano(), string(doc))
			}
			o.exec("UPDATE scim_tenants SET event_seq = 2 WHERE name = 'a'")
			o.departure("a", "gone@example.com", "admin", 100)
			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("Migrate: %v", err)
			}

			ids, err := s.Departed(ctx, "a", time.Unix(0, 200), 10)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"u1"}, ids); diff != "" {
				t.Errorf("Departed after the upgrade (-want +got):\n%s", diff)
			}
			n, err := s.EraseUser(ctx, "a", "u1")
			if err != nil || n != 2 {
				t.Errorf("EraseUser = %d, %v; want 2 (the event, and the departure found by its userName)", n, err)
			}
			got, err := s.Events(ctx, "a", 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || !store.Erased(got[0]) || got[0].UserID != "u1" || got[1].GroupAfter.DisplayName() != "Team" {
				t.Errorf("events after erasure: %+v", got)
			}
			var left int
			if err := sqlstore.DBOf(s).QueryRow("SELECT COUNT(*) FROM scim_events WHERE doc LIKE '%gone@%'").Scan(&left); err != nil || left != 0 {
				t.Errorf("events still naming the user: %d, %v", left, err)
			}
		})
	}
}
