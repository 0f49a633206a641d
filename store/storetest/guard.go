package storetest

import (
	"fmt"
	"sync"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
)

// guardFixture returns a fixture for a Guard subtest and the store as a
// GuardStore, skipping when the store's Tx does not implement
// store.GuardTx.
func guardFixture(t *testing.T, newStore func(t *testing.T) store.Store) (*fixture, store.GuardStore) {
	t.Helper()
	f := newFixture(t, newStore)
	if !txImplements[store.GuardTx](f) {
		t.Skip("the store's Tx does not implement store.GuardTx (optional): no deprovisioning guard state to test")
	}
	gs, ok := f.s.(store.GuardStore)
	if !ok {
		t.Fatalf("the store's Tx implements store.GuardTx but %T does not implement store.GuardStore", f.s)
	}
	return f, gs
}

// guardWindow is the outcome of a GuardWindow call.
type guardWindow struct {
	State   store.GuardState
	Counted bool
}

// window runs GuardWindow in an Update of its own (which commits the
// forgetting).
func (f *fixture) window(since int, userID string) guardWindow {
	f.t.Helper()
	var w guardWindow
	f.update(func(tx store.Tx) error {
		var err error
		w.State, w.Counted, err = tx.(store.GuardTx).GuardWindow(f.ctx, at(since), userID)
		return err
	})
	return w
}

func (f *fixture) count(userID string, when, base int) {
	f.t.Helper()
	f.update(func(tx store.Tx) error {
		return tx.(store.GuardTx).CountDeprovisioning(f.ctx, userID, at(when), base)
	})
}

func (f *fixture) hold(reason string) {
	f.t.Helper()
	f.update(func(tx store.Tx) error { return tx.(store.GuardTx).HoldDeprovisioning(f.ctx, reason) })
}

// wantNoGuardState checks that f's tenant has the zero state, in a Tx
// and committed.
func (f *fixture) wantNoGuardState(gs store.GuardStore, userID string) {
	f.t.Helper()
	if diff := gocmp.Diff(guardWindow{}, f.window(0, userID)); diff != "" {
		f.t.Errorf("GuardWindow of tenant %s (-want +got):\n%s", f.tenant, diff)
	}
	if diff := gocmp.Diff(store.GuardState{}, f.committedGuard(gs)); diff != "" {
		f.t.Errorf("GuardState of tenant %s (-want +got):\n%s", f.tenant, diff)
	}
}

func (f *fixture) committedGuard(gs store.GuardStore) store.GuardState {
	f.t.Helper()
	st, err := gs.GuardState(f.ctx, f.tenant)
	if err != nil {
		f.t.Fatalf("GuardState: %v", err)
	}
	return st
}

// testGuard checks store.GuardTx and store.GuardStore.
func testGuard(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("a new tenant has the zero state", func(t *testing.T) {
		f, gs := guardFixture(t, newStore)
		f.wantNoGuardState(gs, f.id("a"))
	})

	t.Run("users are counted once, and forgotten as the window moves", func(t *testing.T) {
		f, gs := guardFixture(t, newStore)
		a, b, c := f.id("a"), f.id("b"), f.id("c")
		f.count(a, 1, 10)
		f.count(b, 2, 12)
		f.count(a, 3, 99) // already counted: nothing changes
		// Counted late with an earlier time: forgotten by its time.
		f.count(c, 1, 12)
		steps := []struct {
			since int
			user  string
			want  guardWindow
		}{
			{0, a, guardWindow{store.GuardState{Count: 3, Base: 12}, true}},
			{0, "", guardWindow{store.GuardState{Count: 3, Base: 12}, false}},
			{0, f.id("nobody"), guardWindow{store.GuardState{Count: 3, Base: 12}, false}},
			{2, a, guardWindow{store.GuardState{Count: 1, Base: 12}, false}},
			{2, c, guardWindow{store.GuardState{Count: 1, Base: 12}, false}},
			{2, b, guardWindow{store.GuardState{Count: 1, Base: 12}, true}},
			{0, a, guardWindow{store.GuardState{Count: 1, Base: 12}, false}}, // forgotten stays forgotten
			{3, b, guardWindow{store.GuardState{Count: 0, Base: 12}, false}},
		}
		for i, s := range steps {
			if diff := gocmp.Diff(s.want, f.window(s.since, s.user)); diff != "" {
				t.Errorf("step %d: GuardWindow(at(%d), %q) (-want +got):\n%s", i, s.since, s.user, diff)
			}
		}
		// A forgotten user counts again.
		f.count(a, 5, 7)
		if diff := gocmp.Diff(guardWindow{store.GuardState{Count: 1, Base: 7}, true}, f.window(4, a)); diff != "" {
			t.Errorf("counted again (-want +got):\n%s", diff)
		}
		if diff := gocmp.Diff(store.GuardState{Count: 1, Base: 7}, f.committedGuard(gs)); diff != "" {
			t.Errorf("GuardState (-want +got):\n%s", diff)
		}
	})

	t.Run("hold and release", func(t *testing.T) {
		f, gs := guardFixture(t, newStore)
		a := f.id("a")
		release := func() bool {
			t.Helper()
			var held bool
			f.update(func(tx store.Tx) error {
				var err error
				held, err = tx.(store.GuardTx).ReleaseDeprovisioning(f.ctx)
				return err
			})
			return held
		}
		if release() {
			t.Error("ReleaseDeprovisioning of a tenant without state reports a hold")
		}
		f.count(a, 1, 10)
		if release() {
			t.Error("ReleaseDeprovisioning of a tenant not held reports a hold")
		}
		if diff := gocmp.Diff(guardWindow{store.GuardState{Count: 1, Base: 10}, true}, f.window(0, a)); diff != "" {
			t.Errorf("a release without a hold changed the state (-want +got):\n%s", diff)
		}
		f.hold("too many")
		held := store.GuardState{Count: 1, Base: 10, Held: true, Reason: "too many"}
		if diff := gocmp.Diff(guardWindow{held, true}, f.window(0, a)); diff != "" {
			t.Errorf("held (-want +got):\n%s", diff)
		}
		// The hold outlives the window.
		if diff := gocmp.Diff(store.GuardState{Base: 10, Held: true, Reason: "too many"}, f.window(100, a).State); diff != "" {
			t.Errorf("held past the window (-want +got):\n%s", diff)
		}
		if diff := gocmp.Diff(store.GuardState{Base: 10, Held: true, Reason: "too many"}, f.committedGuard(gs)); diff != "" {
			t.Errorf("GuardState (-want +got):\n%s", diff)
		}
		if !release() {
			t.Error("ReleaseDeprovisioning of a held tenant reports no hold")
		}
		if diff := gocmp.Diff(store.GuardState{}, f.committedGuard(gs)); diff != "" {
			t.Errorf("GuardState after the release (-want +got):\n%s", diff)
		}
		// A hold without a count, and a release forgets every user.
		f.count(a, 200, 3)
		f.hold("again")
		if !release() {
			t.Error("second release reports no hold")
		}
		if diff := gocmp.Diff(guardWindow{}, f.window(0, a)); diff != "" {
			t.Errorf("after the second release (-want +got):\n%s", diff)
		}
	})

	t.Run("a roll-back takes the guard's writes back", func(t *testing.T) {
		f, gs := guardFixture(t, newStore)
		a, b := f.id("a"), f.id("b")
		f.count(a, 1, 10)
		err := f.s.Update(f.ctx, f.tenant, func(tx store.Tx) error {
			g := tx.(store.GuardTx)
			if err := g.CountDeprovisioning(f.ctx, b, at(2), 11); err != nil {
				return err
			}
			if err := g.HoldDeprovisioning(f.ctx, "no"); err != nil {
				return err
			}
			return errBoom
		})
		if err != errBoom {
			t.Fatalf("Update: %v, want %v", err, errBoom)
		}
		if diff := gocmp.Diff(guardWindow{store.GuardState{Count: 1, Base: 10}, false}, f.window(0, b)); diff != "" {
			t.Errorf("after a roll-back (-want +got):\n%s", diff)
		}
		f.hold("yes")
		err = f.s.Update(f.ctx, f.tenant, func(tx store.Tx) error {
			if _, err := tx.(store.GuardTx).ReleaseDeprovisioning(f.ctx); err != nil {
				return err
			}
			return errBoom
		})
		if err != errBoom {
			t.Fatalf("Update: %v, want %v", err, errBoom)
		}
		if diff := gocmp.Diff(store.GuardState{Count: 1, Base: 10, Held: true, Reason: "yes"}, f.committedGuard(gs)); diff != "" {
			t.Errorf("a rolled-back release (-want +got):\n%s", diff)
		}
	})

	t.Run("tenants do not share a state", func(t *testing.T) {
		f, gs := guardFixture(t, newStore)
		o := f.otherTenant()
		f.count(f.id("a"), 1, 10)
		f.hold("held")
		o.wantNoGuardState(gs, f.id("a"))
	})

	t.Run("concurrent checks never count past the limit", func(t *testing.T) {
		// Each writer counts its user only when the window has room, as
		// a handler does: Updates of a tenant run one after another, so
		// exactly limit users are counted and no user twice.
		f, _ := guardFixture(t, newStore)
		const writers, limit = 24, 10
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			user := f.id(fmt.Sprintf("w%02d", w%(writers-4))) // four users twice
			wg.Go(func() {
				errs <- f.s.Update(f.ctx, f.tenant, func(tx store.Tx) error {
					g := tx.(store.GuardTx)
					st, counted, err := g.GuardWindow(f.ctx, at(0), user)
					if err != nil || counted || st.Count >= limit {
						return err
					}
					return g.CountDeprovisioning(f.ctx, user, at(1), 100)
				})
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		if diff := gocmp.Diff(store.GuardState{Count: limit, Base: 100}, f.window(0, "").State); diff != "" {
			t.Errorf("after the concurrent writers (-want +got):\n%s", diff)
		}
	})
}
