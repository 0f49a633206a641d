package scim

import (
	"context"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/scimkit/scim/store/memory"
)

// fakeClock is a clock a test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newLimitHandler(t testing.TB, lim Limits) (*Handler, *fakeClock) {
	t.Helper()
	h, err := NewHandler(memory.New(), RolePolicy{}, Config{Authenticator: NewStaticTokens(), Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	h.limits.now = clock.now
	return h, clock
}

// tenantsHeld lists the tenants whose limiters the handler keeps.
func tenantsHeld(h *Handler) []string {
	var got []string
	h.limits.m.Range(func(k, _ any) bool {
		got = append(got, k.(string))
		return true
	})
	slices.Sort(got)
	return got
}

// admitted runs admit for tenant and reports whether it let the request in,
// releasing it unless keep.
func admitted(h *Handler, tenant string, keep bool) bool {
	release := h.admit(t0ctx, httptest.NewRecorder(), tenant)
	if release != nil && !keep {
		release()
	}
	return release != nil
}

var t0ctx = context.Background()

// TestIdleTenantLimitersAreDropped: a tenant idle for idleAfter, with a
// full bucket and nothing in flight, loses its limiter at the next sweep;
// a recent, busy or still-refilling one keeps it, and a dropped tenant
// comes back with a fresh limiter.
func TestIdleTenantLimitersAreDropped(t *testing.T) {
	h, clock := newLimitHandler(t, Limits{RequestsPerSecond: 1, Burst: 1})
	slow, slowClock := newLimitHandler(t, Limits{RequestsPerSecond: 0.001, Burst: 1})

	admitted(h, "idle", false)
	admitted(h, "inflight", true) // never released
	admitted(slow, "refilling", false)
	clock.advance(5 * time.Minute)
	slowClock.advance(5 * time.Minute)
	admitted(h, "recent", false)
	clock.advance(idleAfter + time.Second - 5*time.Minute)
	slowClock.advance(idleAfter + time.Second - 5*time.Minute)
	admitted(h, "new", false) // sweeps
	admitted(slow, "new", false)

	if diff := cmp.Diff([]string{"inflight", "new", "recent"}, tenantsHeld(h)); diff != "" {
		t.Errorf("tenants held after the sweep (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"new", "refilling"}, tenantsHeld(slow)); diff != "" {
		t.Errorf("tenants held by the slow handler (-want +got):\n%s", diff)
	}
	if !admitted(h, "idle", false) {
		t.Errorf("a dropped tenant is refused on its return")
	}
	// The refilling tenant's debt is kept: its bucket is still empty.
	if admitted(slow, "refilling", false) {
		t.Errorf("a refilling tenant's limiter was reset")
	}
}

// TestSweepRunsAtMostOnceAMinute: sweeps are piggy-backed on admits, and
// an admit within sweepEvery of the last sweep does not walk the tenants.
func TestSweepRunsAtMostOnceAMinute(t *testing.T) {
	h, clock := newLimitHandler(t, Limits{})
	admitted(h, "a", false) // sweeps (nothing to drop); the next is due in a minute
	clock.advance(30 * time.Second)
	admitted(h, "b", false)
	clock.advance(idleAfter - 20*time.Second)
	admitted(h, "c", false) // sweeps: a goes, b is not idle yet
	if diff := cmp.Diff([]string{"b", "c"}, tenantsHeld(h)); diff != "" {
		t.Errorf("tenants held after the first sweep (-want +got):\n%s", diff)
	}
	clock.advance(40 * time.Second)
	admitted(h, "d", false) // b is idle now, but the next sweep is not due
	if diff := cmp.Diff([]string{"b", "c", "d"}, tenantsHeld(h)); diff != "" {
		t.Errorf("tenants held before the next sweep is due (-want +got):\n%s", diff)
	}
	clock.advance(20 * time.Second)
	admitted(h, "e", false) // sweeps: b goes
	if diff := cmp.Diff([]string{"c", "d", "e"}, tenantsHeld(h)); diff != "" {
		t.Errorf("tenants held after the next sweep (-want +got):\n%s", diff)
	}
}

// TestSweptLimiterIsNotUsed: a limiter swept while an admit was about to
// use it is not used; the admit takes a fresh one.
func TestSweptLimiterIsNotUsed(t *testing.T) {
	h, clock := newLimitHandler(t, Limits{MaxConcurrent: 1})
	admitted(h, "a", false)
	old, _ := h.limits.m.Load("a")
	clock.advance(idleAfter + time.Second)
	h.limits.sweep(clock.now())
	if !admitted(h, "a", true) {
		t.Fatal("refused after its limiter was swept")
	}
	l, _ := h.limits.m.Load("a")
	if l == old || old.(*tenantLimiter).users.Load() != -1 {
		t.Errorf("the swept limiter is still in use")
	}
}

func BenchmarkAdmit(b *testing.B) {
	h, _ := newLimitHandler(b, Limits{RequestsPerSecond: 1e12, Burst: 1 << 30})
	h.limits.now = time.Now
	w := httptest.NewRecorder()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h.admit(t0ctx, w, "acme")()
		}
	})
}
