package scim_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
	"github.com/scimkit/scim/store/memory"
	sqlstore "github.com/scimkit/scim/store/sql"
)

// The deprovisioning guard with several handlers over one database, as
// instances of an app behind a load balancer run.

// sharedGuard is the guard of these tests: 10 of 20 users may go.
var sharedGuard = scim.DeprovisionGuard{MaxShare: 0.5, MinCount: 1}

// guardInstance is one handler, with its own pool on the database.
type guardInstance struct {
	h *scim.Handler
	*testServer
}

// newGuardInstance returns a handler over st with the default clock and
// ids (UUIDs, unique across instances).
func newGuardInstance(t *testing.T, st store.Store, guard scim.DeprovisionGuard) guardInstance {
	t.Helper()
	tokens := scim.NewStaticTokens()
	tokens.Add("acme", tokenAcme)
	h, err := scim.NewHandler(st, demoPolicy, scim.Config{Authenticator: tokens, Logger: discardLogger(), DeprovisionGuard: guard})
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	srv := newHTTPServer(t, h)
	return guardInstance{h: h, testServer: &testServer{t: t, srv: srv, store: st, base: srv.URL}}
}

// sharedDatabases open a new store, with a pool of its own, on one
// database per test: each call of the function open returns gives
// another instance's store.
var sharedDatabases = []struct {
	name string
	db   func(t *testing.T) (open func() store.Store)
}{
	{"postgres", func(t *testing.T) func() store.Store {
		return opener(t, "pgx", postgresTestDSN(t), sqlstore.Postgres)
	}},
	{"sqlite file", func(t *testing.T) func() store.Store {
		file := "file:" + filepath.Join(t.TempDir(), "scim.db") + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
		return opener(t, "sqlite", file, sqlstore.SQLite)
	}},
}

// opener returns a function that opens a new pool on the database and a
// store over it.
func opener(t *testing.T, driver, dsn string, dialect sqlstore.Dialect) func() store.Store {
	return func() store.Store {
		db, err := sql.Open(driver, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return migratedStore(t, db, dialect)
	}
}

// provision creates n users through s and returns their ids.
func provision(s guardInstance, n int) []string {
	s.t.Helper()
	var ids []string
	for i := range n {
		r := s.must(http.StatusCreated, "POST", "/Users", fmt.Sprintf(`{"userName":"u%02d@acme.test"}`, i))
		ids = append(ids, str(r.body, "id"))
	}
	return ids
}

// deactivateUntilHeld deactivates the users in order, the i-th through
// instances[i%len(instances)], and returns how many went through before
// the first 503.
func deactivateUntilHeld(t *testing.T, ids []string, instances ...guardInstance) int {
	t.Helper()
	for i, id := range ids {
		r := instances[i%len(instances)].do("PATCH", "/Users/"+id, deactivateOp)
		switch r.status {
		case http.StatusOK:
		case http.StatusServiceUnavailable:
			return i
		default:
			t.Fatalf("deactivating user %d: %d %s", i, r.status, r.raw)
		}
	}
	return len(ids)
}

func heldOn(t *testing.T, in guardInstance) bool {
	t.Helper()
	held, err := in.h.DeprovisioningHeld(t.Context(), "acme")
	if err != nil {
		t.Fatalf("DeprovisioningHeld: %v", err)
	}
	return held
}

// heldEvents counts the tenant's DeprovisioningHeld events in the outbox.
func heldEvents(t *testing.T, st store.Store) int {
	t.Helper()
	events, err := st.(store.EventLog).Events(t.Context(), "acme", 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Type == store.DeprovisioningHeld {
			n++
		}
	}
	return n
}

// TestGuardSharedByTwoHandlers: deactivations alternating between two
// handlers over one database are held at the count one handler holds at,
// once (one event); both then refuse; a confirmation on one releases the
// other; and a hold outlives the handlers (a new one over the same
// database holds).
func TestGuardSharedByTwoHandlers(t *testing.T) {
	for _, sd := range sharedDatabases {
		t.Run(sd.name, func(t *testing.T) {
			open := sd.db(t)
			idle := newGuardInstance(t, open(), sharedGuard) // serves nothing until the hold
			a, b := newGuardInstance(t, open(), sharedGuard), newGuardInstance(t, open(), sharedGuard)
			ids := provision(a, 20)
			// The count one handler holds at, on a store of its own.
			alone := newGuardInstance(t, memory.New(), sharedGuard)
			if got := deactivateUntilHeld(t, provision(alone, 20), alone); got != 10 {
				t.Fatalf("one handler held after %d deactivations, want 10", got)
			}
			if got := deactivateUntilHeld(t, ids, a, b); got != 10 {
				t.Errorf("two handlers held after %d deactivations, want 10 as one handler", got)
			}
			if got := heldEvents(t, a.store); got != 1 {
				t.Errorf("%d DeprovisioningHeld events, want 1", got)
			}
			for name, in := range map[string]guardInstance{"a": a, "b": b, "idle": idle} {
				if !heldOn(t, in) {
					t.Errorf("handler %s does not report the hold", name)
				}
				in.must(http.StatusServiceUnavailable, "DELETE", "/Users/"+ids[15], "")
			}

			if held, err := a.h.ConfirmDeprovisioning(t.Context(), "acme"); !held || err != nil {
				t.Fatalf("ConfirmDeprovisioning on a: %v, %v; want true, nil", held, err)
			}
			if heldOn(t, b) {
				t.Error("b still holds after the confirmation on a")
			}
			b.must(http.StatusOK, "PATCH", "/Users/"+ids[10], deactivateOp)
			if held, err := b.h.ConfirmDeprovisioning(t.Context(), "acme"); held || err != nil {
				t.Errorf("ConfirmDeprovisioning without a hold: %v, %v; want false, nil", held, err)
			}

			// The count started again from zero: 10 may go, ids[10] and
			// the 9 users still active; the next, a deletion of a user
			// deactivated before the confirmation, is held.
			if got := deactivateUntilHeld(t, ids[11:], b, a); got != 9 {
				t.Errorf("after the confirmation, %d more deactivations went through, want 9", got)
			}
			a.must(http.StatusServiceUnavailable, "DELETE", "/Users/"+ids[0], "")
			b.must(http.StatusServiceUnavailable, "DELETE", "/Users/"+ids[1], "")
			if got := heldEvents(t, a.store); got != 2 {
				t.Errorf("%d DeprovisioningHeld events, want 2", got)
			}

			// A restarted instance: a new handler over a new pool.
			c := newGuardInstance(t, open(), sharedGuard)
			if !heldOn(t, c) {
				t.Error("a new handler over the database does not report the hold")
			}
			c.must(http.StatusServiceUnavailable, "DELETE", "/Users/"+ids[1], "")
			if held, err := c.h.ConfirmDeprovisioning(t.Context(), "acme"); !held || err != nil {
				t.Fatalf("ConfirmDeprovisioning on c: %v, %v", held, err)
			}
			a.must(http.StatusNoContent, "DELETE", "/Users/"+ids[1], "")
		})
	}
}

// TestGuardConcurrentHandlers: deactivations sent at once through two
// handlers over one database let exactly the allowed number through: the
// check and the count share the write's transaction.
func TestGuardConcurrentHandlers(t *testing.T) {
	for _, sd := range sharedDatabases {
		t.Run(sd.name, func(t *testing.T) {
			open := sd.db(t)
			a, b := newGuardInstance(t, open(), sharedGuard), newGuardInstance(t, open(), sharedGuard)
			ids := provision(a, 20)
			var mu sync.Mutex
			statuses := map[int]int{}
			var wg sync.WaitGroup
			for i, id := range ids {
				in := []guardInstance{a, b}[i%2]
				wg.Go(func() {
					r := in.do("PATCH", "/Users/"+id, deactivateOp)
					mu.Lock()
					statuses[r.status]++
					mu.Unlock()
				})
			}
			wg.Wait()
			want := map[int]int{http.StatusOK: 10, http.StatusServiceUnavailable: 10}
			if diff := cmp.Diff(want, statuses); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			if got := heldEvents(t, a.store); got != 1 {
				t.Errorf("%d DeprovisioningHeld events, want 1", got)
			}
			inactive := 0
			for _, id := range ids {
				if get(a.must(http.StatusOK, "GET", "/Users/"+id, "").body, "active") == false {
					inactive++
				}
			}
			if inactive != 10 {
				t.Errorf("%d users inactive, want 10", inactive)
			}
		})
	}
}

// withoutGuardState hides a store's optional powers, the guard's among
// them: the handler keeps the guard's state in its own memory.
type withoutGuardState struct{ store.Store }

// TestGuardInMemoryWithoutThePower: over a store without store.GuardStore
// each handler counts and holds on its own, and its hold ends with it.
func TestGuardInMemoryWithoutThePower(t *testing.T) {
	st := withoutGuardState{memory.New()}
	a, b := newGuardInstance(t, st, sharedGuard), newGuardInstance(t, st, sharedGuard)
	ids := provision(a, 20)
	if got := deactivateUntilHeld(t, ids[:10], a); got != 10 {
		t.Fatalf("a held after %d deactivations, want none held", got)
	}
	a.must(http.StatusServiceUnavailable, "PATCH", "/Users/"+ids[10], deactivateOp)
	if !heldOn(t, a) || heldOn(t, b) {
		t.Errorf("held: a %v b %v, want a only", heldOn(t, a), heldOn(t, b))
	}
	b.must(http.StatusOK, "PATCH", "/Users/"+ids[10], deactivateOp)
	if held, err := a.h.ConfirmDeprovisioning(context.Background(), "acme"); !held || err != nil {
		t.Errorf("ConfirmDeprovisioning: %v, %v", held, err)
	}
	a.must(http.StatusOK, "PATCH", "/Users/"+ids[11], deactivateOp)
}
