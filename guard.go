package scim

import (
	"context"
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
// The count is kept per Handler instance, in memory; it restarts empty.
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

// guard tracks deprovisionings per tenant.
type guard struct {
	cfg     DeprovisionGuard
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

func newGuard(cfg DeprovisionGuard) *guard {
	if cfg.MinCount == 0 {
		cfg.MinCount = 10
	}
	if cfg.Window == 0 {
		cfg.Window = time.Hour
	}
	return &guard{cfg: cfg, tenants: map[string]*guardState{}}
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

// checkDeprovision decides whether deprovisioning u (a deactivation or a
// deletion, named by what) may go ahead. It returns the refusal to answer
// when it may not.
func (h *Handler) checkDeprovision(ctx context.Context, tx *writeTx, u *store.User, what string) error {
	g := h.guard
	if !g.on() {
		return nil
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
	allowed := max(g.cfg.MinCount, int(math.Floor(g.cfg.MaxShare*float64(base))))
	if !st.held && len(st.done)+1 <= allowed {
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
	detail := fmt.Sprintf("deprovisioning is on hold: %d users were deactivated or deleted in the last %s, "+
		"which is the most allowed for a tenant of %d users (%g%%, at least %d); "+
		"an administrator of the app must confirm before more users are deactivated or deleted",
		len(st.done), g.cfg.Window, base, g.cfg.MaxShare*100, g.cfg.MinCount)
	st.reason = detail
	e := &Error{Status: http.StatusServiceUnavailable, Detail: detail}
	c := *u
	return &refusal{err: e, event: store.Event{Type: store.DeprovisioningHeld, UserID: u.ID, Before: &c,
		Detail: detail + " (refused: " + what + ")"}}
}

// recordDeprovision counts a committed deprovisioning of user.
func (h *Handler) recordDeprovision(tenant, user string) {
	g := h.guard
	if !g.on() {
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
// hold (see DeprovisionGuard).
func (h *Handler) DeprovisioningHeld(tenant string) bool {
	g := h.guard
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.tenants[tenant]
	return st != nil && st.held
}

// ConfirmDeprovisioning lifts a tenant's hold: the app's admin confirmed
// that the IdP means it. The count starts again from zero.
func (h *Handler) ConfirmDeprovisioning(tenant string) {
	g := h.guard
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.tenants, tenant)
}
