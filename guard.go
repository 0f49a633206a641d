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
// users have been deprovisioned within Window (and at least MinCount), every
// further deactivation or deletion gets 503 — the IdP retries later — and a
// DeprovisioningHeld event is raised, until the app confirms with
// Handler.ConfirmDeprovisioning. Other changes go on as usual.
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
		return fmt.Errorf("scim: DeprovisionGuard.MaxShare %v is not between 0 and 1", g.MaxShare)
	}
	if g.MinCount < 0 || g.Window < 0 {
		return errors.New("scim: DeprovisionGuard.MinCount and Window must not be negative")
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
	times []time.Time // deprovisionings within the window, oldest first
	held  bool
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
	for i < len(st.times) && st.times[i].Before(cut) {
		i++
	}
	st.times = st.times[i:]
	return st
}

// check decides whether one more deprovisioning of a tenant of total users
// may go ahead. It returns the refusal to answer when it may not.
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
	allowed := max(g.cfg.MinCount, int(math.Floor(g.cfg.MaxShare*float64(page.Total))))
	if !st.held && len(st.times)+1 <= allowed {
		return nil
	}
	first := !st.held
	st.held = true
	detail := fmt.Sprintf("deprovisioning is on hold: %d of %d users were deactivated or deleted in the last %s; "+
		"an administrator of the app must confirm before more are", len(st.times), page.Total, g.cfg.Window)
	e := &Error{Status: http.StatusServiceUnavailable, Detail: detail}
	if !first {
		return e
	}
	c := *u
	return &refusal{err: e, event: store.Event{Type: store.DeprovisioningHeld, UserID: u.ID, Before: &c,
		Detail: detail + " (refused: " + what + ")"}}
}

// recordDeprovision counts a committed deprovisioning.
func (h *Handler) recordDeprovision(tenant string) {
	g := h.guard
	if !g.on() {
		return
	}
	now := h.cfg.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.state(tenant, now)
	st.times = append(st.times, now)
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
