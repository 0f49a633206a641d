package scim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/scimkit/scim/store"
)

// DeprovisionGuard protects a tenant from an identity provider's scoping
// mistake (an unassigned group, a wrong filter) that would deactivate or
// delete most of an org at once. When more than MaxShare of a tenant's
// users (and at least MinCount) have been deprovisioned within Window,
// every further deactivation or deletion gets 503 — the IdP retries later —
// and a DeprovisioningHeld event is raised, until the app confirms with
// Handler.ConfirmDeprovisioning. Other changes go on as usual.
//
// What counts: each user that leaves, once per window, whatever the path —
// PATCH or PUT with active false, a POST that links an existing user with
// active false, or DELETE (of an active or an inactive user: a user
// deactivated and then deleted within the window counts once; deleting a
// user that was deactivated before the window counts, since it removes
// them from the app). The share is taken of the tenant's size when the
// window's first deprovisioning happened (or of its size now, if it has
// grown since), so that deletions do not shrink the base they are
// measured against.
//
// Where the count is kept: when the store implements store.GuardStore
// (its Tx store.GuardTx), as the memory and SQL stores do, the users
// counted, the base of the share and the hold live in the store and are
// read and written in the transaction of each deactivation or deletion.
// Every Handler over the store then counts as one: deprovisionings spread
// over several instances are held at the same count as on one, a
// confirmation on any instance releases them all, and the hold survives a
// restart. With another store, each Handler instance keeps its own count
// and hold in memory, which restart empty, and
// Handler.ConfirmDeprovisioning releases only the instance it is called
// on.
type DeprovisionGuard struct {
	// MaxShare is the share of the tenant's users (between 0 and 1) that
	// may be deprovisioned within Window. 0 turns the guard off.
	MaxShare float64
	// MinCount is how many deprovisionings are always allowed within
	// Window, so that small tenants are not held for a few. Default 10.
	MinCount int
	// Window is the sliding period counted. Default one hour.
	Window time.Duration
}

func (g DeprovisionGuard) validate() error {
	if g.MaxShare < 0 || g.MaxShare > 1 || math.IsNaN(g.MaxShare) {
		return invalid("DeprovisionGuard.MaxShare %v is not between 0 and 1", g.MaxShare)
	}
	if g.MinCount < 0 || g.Window < 0 {
		return invalid("DeprovisionGuard.MinCount and Window must not be negative")
	}
	return nil
}

// guard tracks deprovisionings per tenant: in the store when it keeps
// the guard's state (shared), otherwise in tenants.
type guard struct {
	cfg    DeprovisionGuard
	shared store.GuardStore // nil when the store lacks the power

	mu      sync.Mutex
	tenants map[string]*guardState
}

type guardState struct {
	done []deprovisioning // within the window, oldest first
	// users holds the users of done, so that a mass deprovisioning costs
	// one lookup per user, not a scan of the window.
	users map[string]struct{}
	// base is the tenant's size when the window's first deprovisioning
	// was checked: the share is measured against it.
	base   int
	held   bool
	reason string // the detail of the hold
}

// deprovisioning is one user's departure, counted once per window.
type deprovisioning struct {
	at   time.Time
	user string
}

func newGuard(cfg DeprovisionGuard, st store.Store) *guard {
	if cfg.MinCount == 0 {
		cfg.MinCount = 10
	}
	if cfg.Window == 0 {
		cfg.Window = time.Hour
	}
	shared, _ := powerOf[store.GuardStore](st)
	return &guard{cfg: cfg, shared: shared, tenants: map[string]*guardState{}}
}

func (g *guard) on() bool { return g.cfg.MaxShare > 0 }

func (g *guard) state(tenant string, now time.Time) *guardState {
	st := g.tenants[tenant]
	if st == nil {
		st = &guardState{}
		g.tenants[tenant] = st
	}
	cut := now.Add(-g.cfg.Window)
	i := 0
	for i < len(st.done) && st.done[i].at.Before(cut) {
		delete(st.users, st.done[i].user)
		i++
	}
	st.done = st.done[i:]
	return st
}

// counted reports whether user's departure is already counted in the
// window.
func (st *guardState) counted(user string) bool {
	_, ok := st.users[user]
	return ok
}

// allowed returns how many deprovisionings the window allows a tenant of
// base users.
func (g *guard) allowed(base int) int {
	return max(g.cfg.MinCount, int(math.Floor(g.cfg.MaxShare*float64(base))))
}

// holdDetail explains a hold after count deprovisionings in a tenant of
// base users.
func (g *guard) holdDetail(count, base int) string {
	return fmt.Sprintf("deprovisioning is on hold: %d users were deactivated or deleted in the last %s, "+
		"which is the most allowed for a tenant of %d users (%g%%, at least %d); "+
		"an administrator of the app must confirm before more users are deactivated or deleted",
		count, g.cfg.Window, base, g.cfg.MaxShare*100, g.cfg.MinCount)
}

// holding returns the refusal of deprovisioning u (named by what) that puts
// the tenant on hold, with hold's detail; hold, when not nil, writes the
// hold in the refusal's own transaction (the refused one rolls back).
func holding(u *store.User, what, detail string, hold func(context.Context, store.Tx) (bool, error)) error {
	c := *u
	return &refusal{err: &Error{Status: http.StatusServiceUnavailable, Detail: detail},
		event: store.Event{Type: store.DeprovisioningHeld, UserID: u.ID, Before: &c, Detail: detail + " (refused: " + what + ")"},
		hold:  hold}
}

// errNoGuardTx reports a store that implements store.GuardStore with a Tx
// that does not implement store.GuardTx.
var errNoGuardTx = errors.New("scim: the store implements store.GuardStore but its Tx does not implement store.GuardTx")

// checkDeprovision decides whether deprovisioning u (a deactivation or a
// deletion, named by what) may go ahead. It returns the refusal to answer
// when it may not. With a store that keeps the guard's state, an allowed
// deprovisioning is counted in tx, so that it commits or rolls back with
// the write; otherwise recordDeprovision counts it after the commit.
func (h *Handler) checkDeprovision(ctx context.Context, tx *writeTx, u *store.User, what string) error {
	g := h.guard
	if !g.on() {
		return nil
	}
	if g.shared != nil {
		return h.checkShared(ctx, tx, u, what)
	}
	page, err := tx.ListUsers(ctx, store.Query{Limit: 0})
	if err != nil {
		return err
	}
	now := h.cfg.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.state(tx.r.principal.Tenant, now)
	if st.counted(u.ID) {
		// Deleting a user whose deactivation this window counted takes
		// no one else away.
		return nil
	}
	if len(st.done) == 0 && !st.held {
		st.base = page.Total
	}
	base := max(st.base, page.Total)
	if !st.held && len(st.done)+1 <= g.allowed(base) {
		return nil
	}
	if st.held {
		// Held until an administrator confirms, even once the window has
		// moved past the deprovisionings that caused it.
		h.tel.guardRefused(ctx, tx.r.principal.Tenant, false)
		return &Error{Status: http.StatusServiceUnavailable, Detail: st.reason}
	}
	st.held = true
	h.tel.guardRefused(ctx, tx.r.principal.Tenant, true)
	st.reason = g.holdDetail(len(st.done), base)
	return holding(u, what, st.reason, nil)
}

// checkShared is checkDeprovision with the guard's state in the store,
// read and written in tx: the tenant's Updates run one after another, so
// handlers sharing the store count every deprovisioning exactly once.
func (h *Handler) checkShared(ctx context.Context, tx *writeTx, u *store.User, what string) error {
	g := h.guard
	gt, ok := powerOf[store.GuardTx](tx.Tx)
	if !ok {
		return errNoGuardTx
	}
	now := h.cfg.Now()
	since := now.Add(-g.cfg.Window)
	st, counted, err := gt.GuardWindow(ctx, since, u.ID)
	switch {
	case err != nil:
		return err
	case counted:
		return nil // as in checkDeprovision
	case st.Held:
		h.tel.guardRefused(ctx, tx.r.principal.Tenant, false)
		return &Error{Status: http.StatusServiceUnavailable, Detail: st.Reason}
	}
	page, err := tx.ListUsers(ctx, store.Query{Limit: 0})
	if err != nil {
		return err
	}
	stored := st.Base
	if st.Count == 0 {
		stored = page.Total
	}
	base := max(stored, page.Total)
	if st.Count+1 <= g.allowed(base) {
		return gt.CountDeprovisioning(ctx, u.ID, now, stored)
	}
	detail := g.holdDetail(st.Count, base)
	h.tel.guardRefused(ctx, tx.r.principal.Tenant, true)
	return holding(u, what, detail, func(ctx context.Context, tx store.Tx) (bool, error) {
		gt, ok := powerOf[store.GuardTx](tx)
		if !ok {
			return false, errNoGuardTx
		}
		// Another handler may have held (one event is enough) or an
		// administrator confirmed (then nothing is held) in between.
		cur, _, err := gt.GuardWindow(ctx, since, "")
		if err != nil || cur.Held || cur.Count < st.Count {
			return false, err
		}
		return true, gt.HoldDeprovisioning(ctx, detail)
	})
}

// recordDeprovision counts a committed deprovisioning of user, when the
// guard's state is kept in memory.
func (h *Handler) recordDeprovision(tenant, user string) {
	g := h.guard
	if !g.on() || g.shared != nil {
		return
	}
	now := h.cfg.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.state(tenant, now)
	if !st.counted(user) {
		st.done = append(st.done, deprovisioning{at: now, user: user})
		if st.users == nil {
			st.users = map[string]struct{}{}
		}
		st.users[user] = struct{}{}
	}
}

// DeprovisioningHeld reports whether the tenant's deprovisioning is on
// hold (see DeprovisionGuard). With a store that keeps the guard's state,
// it reads the store, so that every Handler over it answers the same; the
// error is the store's.
func (h *Handler) DeprovisioningHeld(ctx context.Context, tenant string) (bool, error) {
	g := h.guard
	if !g.on() {
		return false, nil
	}
	if g.shared != nil {
		st, err := g.shared.GuardState(ctx, tenant)
		return st.Held, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.tenants[tenant]
	return st != nil && st.held, nil
}

// ConfirmDeprovisioning lifts a tenant's hold: the app's admin confirmed
// that the IdP means it. The count starts again from zero. It reports
// whether deprovisioning was held; when it was not, nothing changes. With a store that keeps the guard's
// state, the release is a write of the store, and lifts the hold on every
// Handler over it; otherwise it lifts the hold of this Handler only.
func (h *Handler) ConfirmDeprovisioning(ctx context.Context, tenant string) (bool, error) {
	g := h.guard
	if g.shared != nil {
		var held bool
		err := h.store.Update(ctx, tenant, func(tx store.Tx) error {
			gt, ok := powerOf[store.GuardTx](tx)
			if !ok {
				return errNoGuardTx
			}
			var err error
			held, err = gt.ReleaseDeprovisioning(ctx)
			return err
		})
		return held && g.on(), err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.tenants[tenant]
	if st == nil || !st.held {
		return false, nil
	}
	delete(g.tenants, tenant)
	return true, nil
}
