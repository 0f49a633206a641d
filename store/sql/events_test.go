package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
	sqlstore "github.com/scimkit/scim/store/sql"
)

// The optional powers the adapter implements.
var (
	_ store.EventLog = (*sqlstore.Store)(nil)
)

// listIDs lists one page of user ids and the total.
func listIDs(t *testing.T, s *sqlstore.Store, tenant string, q store.Query) (int, []string) {
	t.Helper()
	ctx := context.Background()
	var p store.UserPage
	err := s.View(ctx, tenant, func(r store.Reader) error {
		var err error
		p, err = r.ListUsers(ctx, q)
		return err
	})
	if err != nil {
		t.Fatalf("ListUsers(%+v): %v", q, err)
	}
	ids := []string{}
	for _, u := range p.Users {
		ids = append(ids, u.ID)
	}
	return p.Total, ids
}

// TestManagedWalkMatchesOffsetUnderWrites walks the managed users page by
// page, and all users alongside, through one Store whose cursor cache
// remembers page ends, while another Store creates and deletes users and
// manages and un-manages existing ones (which moves them into and out of
// the managed list without a new seq). Every page must equal the page a
// Store with an empty cache answers.
func TestManagedWalkMatchesOffsetUnderWrites(t *testing.T) {
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			walker := eng.open(t)
			db := sqlstore.DBOf(walker)
			writer, err := sqlstore.New(db, walker.Dialect())
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			const tenant = "walk"
			managed := map[string]bool{}
			var alive []string
			create := func(id string, m bool) {
				t.Helper()
				err := writer.Update(ctx, tenant, func(tx store.Tx) error {
					return tx.CreateUser(ctx, &store.User{ID: id, Managed: m, Attributes: store.Attributes{"userName": "name-" + id}})
				})
				if err != nil {
					t.Fatal(err)
				}
				managed[id] = m
				alive = append(alive, id)
			}
			for i := range 90 {
				create(fmt.Sprintf("u%04d", i), i%3 != 0)
			}
			next := 90
			countManaged := func() int {
				n := 0
				for _, id := range alive {
					if managed[id] {
						n++
					}
				}
				return n
			}
			rng := rand.New(rand.NewPCG(7, 3))
			const limit = 7
			for round := range 3 {
				for offset := 0; offset < len(alive)+limit; offset += limit {
					for _, managedOnly := range []bool{true, false} {
						q := store.Query{ManagedOnly: managedOnly, Offset: offset, Limit: limit}
						total, got := listIDs(t, walker, tenant, q)
						fresh, _ := sqlstore.New(db, walker.Dialect())
						wantTotal, want := listIDs(t, fresh, tenant, q)
						if wantN := map[bool]int{true: countManaged(), false: len(alive)}[managedOnly]; wantTotal != wantN {
							t.Fatalf("round %d offset %d managedOnly %v: reference total %d, want %d", round, offset, managedOnly, wantTotal, wantN)
						}
						if total != wantTotal {
							t.Errorf("round %d offset %d managedOnly %v: total %d, want %d", round, offset, managedOnly, total, wantTotal)
						}
						if diff := cmp.Diff(want, got); diff != "" {
							t.Fatalf("round %d offset %d managedOnly %v: page mismatch (-want +got):\n%s", round, offset, managedOnly, diff)
						}
					}
					if round == 0 {
						continue // a walk without writes: the lists' positions must not mix
					}
					switch rng.IntN(4) {
					case 0: // flip a user, usually one before the walk's position
						id := alive[rng.IntN(min(len(alive), offset+1))]
						err := writer.Update(ctx, tenant, func(tx store.Tx) error {
							u, err := tx.User(ctx, id)
							if err != nil {
								return err
							}
							u.Managed = !u.Managed
							return tx.UpdateUser(ctx, &u)
						})
						if err != nil {
							t.Fatal(err)
						}
						managed[id] = !managed[id]
					case 1:
						i := rng.IntN(len(alive))
						id := alive[i]
						if err := writer.Update(ctx, tenant, func(tx store.Tx) error { return tx.DeleteUser(ctx, id) }); err != nil {
							t.Fatal(err)
						}
						alive = append(alive[:i:i], alive[i+1:]...)
					case 2:
						create(fmt.Sprintf("u%04d", next), rng.IntN(2) == 0)
						next++
					}
				}
			}
		})
	}
}

// TestEventsFromSeveralStores records events through two Stores on one
// database (two processes, as far as each knows) at once: every event is
// kept, Seq values are distinct and increasing, and the events of one
// Update have consecutive Seq values, in the order given.
func TestEventsFromSeveralStores(t *testing.T) {
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			a := eng.open(t)
			b, err := sqlstore.New(sqlstore.DBOf(a), a.Dialect())
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			const workers, perTx = 6, 3
			var wg sync.WaitGroup
			errs := make(chan error, 2*workers)
			for i, s := range []*sqlstore.Store{a, b, a, b, a, b} {
				wg.Go(func() {
					for n := range 2 {
						var evs []store.Event
						for k := range perTx {
							evs = append(evs, store.Event{Type: store.UserUpdated, Tenant: "t", Detail: fmt.Sprintf("w%d-n%d-%d", i, n, k)})
						}
						errs <- s.Update(ctx, "t", func(tx store.Tx) error {
							return tx.(store.EventRecorder).RecordEvents(ctx, evs)
						})
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			evs, err := b.Events(ctx, "t", 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != workers*2*perTx {
				t.Fatalf("%d events, want %d", len(evs), workers*2*perTx)
			}
			for i, e := range evs {
				if i > 0 && e.Seq <= evs[i-1].Seq {
					t.Errorf("Seq %d after %d, want increasing", e.Seq, evs[i-1].Seq)
				}
				// The events of one Update are together, in order.
				first := evs[i-i%perTx]
				update, _ := strings.CutSuffix(first.Detail, "-0")
				if want := fmt.Sprintf("%s-%d", update, i%perTx); e.Detail != want || e.Seq != first.Seq+int64(i%perTx) {
					t.Errorf("event %d: %q with Seq %d, want %q with Seq %d", i, e.Detail, e.Seq, want, first.Seq+int64(i%perTx))
				}
			}
			if got, err := a.Events(ctx, "t", 0, 0); err != nil || len(got) != 0 {
				t.Errorf("Events with limit 0: %d events, %v; want none", len(got), err)
			}
		})
	}
}

// TestRecordEventsSetsSeq checks that RecordEvents numbers the caller's
// slice, ignoring the Seq it carried, and that a large batch is stored
// whole.
func TestRecordEventsSetsSeq(t *testing.T) {
	s := openSQLite(t)
	ctx := context.Background()
	evs := make([]store.Event, 450) // more than one INSERT's worth
	for i := range evs {
		evs[i] = store.Event{Seq: 999, Type: store.MembersAdded, Time: time.Unix(int64(i), 0).UTC(), Members: []string{fmt.Sprint(i)}}
	}
	if err := s.Update(ctx, "t", func(tx store.Tx) error { return tx.(store.EventRecorder).RecordEvents(ctx, evs) }); err != nil {
		t.Fatal(err)
	}
	got, err := s.Events(ctx, "t", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(evs) {
		t.Fatalf("%d events, want %d", len(got), len(evs))
	}
	for i := range evs {
		if evs[i].Seq != got[i].Seq || evs[i].Seq != int64(i+1) {
			t.Fatalf("event %d: Seq %d in the slice, %d stored, want %d", i, evs[i].Seq, got[i].Seq, i+1)
		}
		if !got[i].Time.Equal(evs[i].Time) || got[i].Members[0] != fmt.Sprint(i) {
			t.Fatalf("event %d: %+v", i, got[i])
		}
	}
}

// TestUpgradeFromCounters upgrades a database made by the first two
// migrations, holding managed and unmanaged users, on every engine: the
// managed counter starts from the rows there, users written before the
// upgrade read with empty Role and ManagedBy, and events and departures
// work.
func TestUpgradeFromCounters(t *testing.T) {
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			s := eng.open(t)
			db := sqlstore.DBOf(s)
			ctx := context.Background()
			dialect := s.Dialect().String()
			// Back to an empty database, then up to the counters by hand.
			for _, table := range []string{"scim_schema_migrations", "scim_left_groups", "scim_tokens", "scim_departures", "scim_events", "scim_members", "scim_groups", "scim_emails", "scim_users", "scim_tenants"} {
				if _, err := db.Exec("DROP TABLE " + table); err != nil {
					t.Fatalf("drop %s: %v", table, err)
				}
			}
			exec := func(stmt string) {
				t.Helper()
				if _, err := db.Exec(stmt); err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
			}
			exec(`CREATE TABLE scim_schema_migrations (version BIGINT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, applied BIGINT NOT NULL)`)
			for v, name := range []string{"0001_init.sql", "0002_counters.sql"} {
				if name == "0002_counters.sql" {
					// Rows written by a version of the adapter before the counters.
					exec(`INSERT INTO scim_tenants (name, created) VALUES ('a', 0), ('b', 0)`)
					exec(`INSERT INTO scim_users (tenant, id, user_name_folded, managed, doc, fdoc, version) VALUES ('a', 'u1', 'x', TRUE, '{"userName":"X"}', '{}', 1), ('a', 'u2', 'y', FALSE, '{}', '{}', 1), ('a', 'u3', 'z', TRUE, '{}', '{}', 1), ('b', 'u1', 'x', FALSE, '{}', '{}', 1)`)
				}
				body, err := fs.ReadFile(sqlstore.Migrations(), dialect+"/"+name)
				if err != nil {
					t.Fatal(err)
				}
				for _, stmt := range statements(string(body)) {
					exec(stmt)
				}
				exec(fmt.Sprintf(`INSERT INTO scim_schema_migrations VALUES (%d, '%s', 0)`, v+1, name))
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			for tenant, want := range map[string][2]int{"a": {3, 2}, "b": {1, 0}, "c": {0, 0}} {
				all, _ := listIDs(t, s, tenant, store.Query{})
				m, ids := listIDs(t, s, tenant, store.Query{ManagedOnly: true, Limit: 10})
				if got := [2]int{all, m}; got != want || len(ids) != want[1] {
					t.Errorf("tenant %s: totals %v with %d managed users listed, want %v", tenant, got, len(ids), want)
				}
			}
			err := s.Update(ctx, "a", func(tx store.Tx) error {
				u, err := tx.User(ctx, "u1")
				if err != nil {
					return err
				}
				if u.Role != "" || u.ManagedBy != "" || u.Linked || !u.Managed {
					t.Errorf("old user: Role %q ManagedBy %q Linked %v Managed %v", u.Role, u.ManagedBy, u.Linked, u.Managed)
				}
				u.Managed = false
				if err := tx.UpdateUser(ctx, &u); err != nil {
					return err
				}
				if err := tx.(store.DepartureRecorder).RecordDeparture(ctx, store.Departure{UserName: "X", Role: "admin"}); err != nil {
					return err
				}
				return tx.(store.EventRecorder).RecordEvents(ctx, []store.Event{{Type: store.UserUpdated, After: &u}})
			})
			if err != nil {
				t.Fatal(err)
			}
			if m, _ := listIDs(t, s, "a", store.Query{ManagedOnly: true}); m != 1 {
				t.Errorf("after un-managing u1: %d managed, want 1", m)
			}
			if evs, err := s.Events(ctx, "a", 0, 10); err != nil || len(evs) != 1 || evs[0].Seq != 1 || evs[0].After.ID != "u1" {
				t.Errorf("Events: %+v, %v; want the one event, Seq 1", evs, err)
			}
		})
	}
}

// statements splits a migration file as Migrate does.
func statements(body string) []string {
	var lines []string
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			lines = append(lines, line)
		}
	}
	var out []string
	for _, stmt := range strings.Split(strings.Join(lines, "\n"), ";\n") {
		if stmt = strings.TrimSuffix(strings.TrimSpace(stmt), ";"); stmt != "" {
			out = append(out, stmt)
		}
	}
	return out
}

// TestTokensTable checks the table reserved for the token API: a digest is
// unique across tenants, optional times may be NULL.
func TestTokensTable(t *testing.T) {
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			s := eng.open(t)
			db := sqlstore.DBOf(s)
			insert := `INSERT INTO scim_tokens (tenant, id, prefix, digest, created, expires, revoked, last_used) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
			if s.Dialect() == sqlstore.Postgres {
				insert = `INSERT INTO scim_tokens (tenant, id, prefix, digest, created, expires, revoked, last_used) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
			}
			var null sql.NullInt64
			if _, err := db.Exec(insert, "a", "tok1", "scim_ab12", "d1", 1, null, null, null); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(insert, "b", "tok1", "scim_cd34", "d2", 1, 5, 6, 7); err != nil {
				t.Fatalf("the same id in another tenant: %v", err)
			}
			if _, err := db.Exec(insert, "b", "tok2", "scim_ef56", "d1", 1, null, null, null); err == nil {
				t.Error("a digest taken in another tenant was accepted")
			}
		})
	}
}
