package store

import (
	"context"
	"time"
)

// GuardState is what the deprovisioning guard (scim.DeprovisionGuard)
// knows of a tenant, as a GuardTx keeps it. The zero GuardState is a
// tenant with nothing counted and no hold.
type GuardState struct {
	// Count is the number of users counted in the window: counted with
	// CountDeprovisioning and not forgotten since.
	Count int
	// Base is the tenant's size that the window's share is measured
	// against, as last given to CountDeprovisioning.
	Base int
	// Held reports that deprovisioning is on hold until an administrator
	// confirms.
	Held bool
	// Reason is the detail the hold was given; "" when not held.
	Reason string
}

// GuardTx is implemented by a Tx that keeps the deprovisioning guard's
// state in the store (the memory and SQL stores do), so that every handler
// over the store counts, holds and releases as one: the users counted in
// the window, the base of the share and the hold are read and written in
// the transaction of the deactivation or deletion itself. Concurrent
// Updates of a tenant behave as if run one after another (see Store), so
// two handlers never both let through the deprovisioning that crosses the
// limit. A roll-back takes the Tx's guard writes back with the others.
//
// A Store whose Tx implements GuardTx also implements GuardStore, and the
// handler uses the store's state only then: without both, it keeps the
// guard's state in its own memory, per handler instance. A Store that
// wraps another (for instrumentation, say) hides the power unless it
// implements GuardStore too and hands out the inner Tx or one that
// implements GuardTx.
//
// Times are the handlers' clocks (scim.Config.Now): instances whose clocks
// disagree by a second move the window by a second.
//
// Each user is counted once per window under its id; users are forgotten
// by the time they were counted, so each call costs one look-up of the
// user and the forgetting of what left the window (each counted user is
// forgotten once), never a scan of the users still counted.
type GuardTx interface {
	// GuardWindow forgets the users counted before since (Count drops by
	// their number; Base, Held and Reason stay as they are), then returns
	// the tenant's state and whether userID is among the users still
	// counted. It reports false for an empty userID.
	GuardWindow(ctx context.Context, since time.Time, userID string) (GuardState, bool, error)

	// CountDeprovisioning counts userID's departure, at at: Count grows by
	// one and Base becomes base. A userID already counted is left alone:
	// its time, Count and Base do not change.
	CountDeprovisioning(ctx context.Context, userID string, at time.Time, base int) error

	// HoldDeprovisioning puts the tenant's deprovisioning on hold: Held
	// becomes true and Reason reason. The users counted stay counted.
	HoldDeprovisioning(ctx context.Context, reason string) error

	// ReleaseDeprovisioning lifts the tenant's hold and forgets every user
	// counted, so that the state becomes the zero GuardState, and reports
	// true. When deprovisioning is not held, it changes nothing and
	// reports false.
	ReleaseDeprovisioning(ctx context.Context) (bool, error)
}

// GuardStore is implemented by a Store whose Tx implements GuardTx, for
// the reads made outside a write (an admin page asking whether the
// tenant's deprovisioning is held).
type GuardStore interface {
	// GuardState returns the tenant's guard state as last committed; the
	// zero GuardState for a tenant without one. Count may include users
	// counted before the window (only GuardWindow forgets them), so it is
	// the hold that a caller reads from it.
	GuardState(ctx context.Context, tenant string) (GuardState, error)
}
