package memory

import (
	"context"
	"slices"
	"time"

	"github.com/scimkit/scim/store"
)

// The deprovisioning guard's state (store.GuardTx, store.GuardStore).
var (
	_ store.GuardTx    = (*tx)(nil)
	_ store.GuardStore = (*Store)(nil)
)

// guardRec is a tenant's guard state: the users counted, by id and in the
// order of their times, so that a look-up is a map hit and forgetting
// the users that left the window takes them from the front.
type guardRec struct {
	users  map[string]struct{}
	order  []guardEntry // by at; equal times in the order counted
	base   int
	held   bool
	reason string
}

type guardEntry struct {
	at   time.Time
	user string
}

func (g *guardRec) state() store.GuardState {
	if g == nil {
		return store.GuardState{}
	}
	return store.GuardState{Count: len(g.order), Base: g.base, Held: g.held, Reason: g.reason}
}

// guardRec returns the tenant's guard state, creating it (undone by a
// roll-back) when missing.
func (x *tx) guardRec() *guardRec {
	t := x.t
	if t.guard == nil {
		t.guard = &guardRec{users: map[string]struct{}{}}
		x.onRollback(func() { t.guard = nil })
	}
	return t.guard
}

// GuardWindow implements store.GuardTx. Forgetting costs the users
// forgotten; a roll-back counts them again.
func (x *tx) GuardWindow(ctx context.Context, since time.Time, userID string) (store.GuardState, bool, error) {
	if err := x.check(ctx); err != nil {
		return store.GuardState{}, false, err
	}
	g := x.t.guard
	if g == nil {
		return store.GuardState{}, false, nil
	}
	i := 0
	for i < len(g.order) && g.order[i].at.Before(since) {
		delete(g.users, g.order[i].user)
		i++
	}
	if i > 0 {
		old := g.order
		g.order = g.order[i:]
		x.onRollback(func() {
			for _, e := range old[:i] {
				g.users[e.user] = struct{}{}
			}
			g.order = old
		})
	}
	_, counted := g.users[userID]
	return g.state(), counted, nil
}

// CountDeprovisioning implements store.GuardTx. A user counted at a time
// no earlier than the last one's (the usual case) is appended.
func (x *tx) CountDeprovisioning(ctx context.Context, userID string, at time.Time, base int) error {
	if err := x.check(ctx); err != nil {
		return err
	}
	g := x.guardRec()
	if _, ok := g.users[userID]; ok {
		return nil
	}
	i := len(g.order)
	for i > 0 && g.order[i-1].at.After(at) {
		i--
	}
	oldBase := g.base
	g.order = slices.Insert(g.order, i, guardEntry{at: at, user: userID})
	g.users[userID] = struct{}{}
	g.base = base
	x.onRollback(func() {
		g.order = slices.Delete(g.order, i, i+1)
		delete(g.users, userID)
		g.base = oldBase
	})
	return nil
}

// HoldDeprovisioning implements store.GuardTx.
func (x *tx) HoldDeprovisioning(ctx context.Context, reason string) error {
	if err := x.check(ctx); err != nil {
		return err
	}
	g := x.guardRec()
	held, old := g.held, g.reason
	g.held, g.reason = true, reason
	x.onRollback(func() { g.held, g.reason = held, old })
	return nil
}

// ReleaseDeprovisioning implements store.GuardTx.
func (x *tx) ReleaseDeprovisioning(ctx context.Context) (bool, error) {
	if err := x.check(ctx); err != nil {
		return false, err
	}
	t := x.t
	old := t.guard
	if old == nil || !old.held {
		return false, nil
	}
	t.guard = nil
	x.onRollback(func() { t.guard = old })
	return true, nil
}

// GuardState implements store.GuardStore. It waits for a running Update
// of the tenant, so it must not be called from inside one.
func (s *Store) GuardState(ctx context.Context, tenantName string) (store.GuardState, error) {
	if err := ctx.Err(); err != nil {
		return store.GuardState{}, err
	}
	t := s.tenant(tenantName)
	if t == nil {
		return store.GuardState{}, nil
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.guard.state(), nil
}
