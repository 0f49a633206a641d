package scim

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/scimkit/scim/store"
)

// Event is one state change of a tenant's users or groups: provisioned,
// linked, updated, role changed, deactivated, reactivated, deprovisioned;
// group created, renamed, deleted; members added, removed, skipped; and
// refusals to change a protected user. See store.Event for its fields; its
// Type is one of the store.EventType constants (store.UserProvisioned …),
// defined there because stores record events too.
type Event = store.Event

// Delivery guarantee of Config.OnEvent: events are delivered after the
// write they describe committed, never for a write that rolled back, and in
// commit order per tenant within one Handler (writes of one tenant hold a
// per-tenant lock from the start of their transaction until their events
// are delivered). Across several Handler instances, or to survive a crash
// between commit and delivery, consume the store's outbox instead: a store
// whose Tx implements store.EventRecorder (store/sql, store/memory) records
// every event in the same transaction as the change.

// writeTx is the transaction a write runs in: the store's Tx plus the
// events the write produces.
type writeTx struct {
	store.Tx
	r      *request
	h      *Handler
	events []store.Event
}

// emit records an event of this write, stamped with who made it.
func (tx *writeTx) emit(e store.Event) {
	e.Time = tx.h.cfg.Now().UTC()
	e.Tenant = tx.r.principal.Tenant
	e.TokenID = tx.r.principal.TokenID
	e.Client = tx.r.client
	tx.events = append(tx.events, e)
}

// refusal is an error that refuses a request and carries the event that
// records the refusal (which outlives the rolled-back transaction).
type refusal struct {
	err   *Error
	event store.Event
	// hold, when not nil, runs in the transaction that records the event,
	// which it writes only when hold reports true.
	hold func(ctx context.Context, tx store.Tx) (bool, error)
}

func (r *refusal) Error() string { return r.err.Error() }
func (r *refusal) Unwrap() error { return r.err }

// update runs fn in a write transaction of the request's tenant, records
// the events fn emitted in the store's outbox (when it has one) within the
// same transaction, and delivers them to Config.OnEvent after commit.
func (h *Handler) update(r *request, fn func(ctx context.Context, tx *writeTx) error) error {
	ctx := r.Context()
	tenant := r.principal.Tenant
	if h.cfg.OnEvent != nil {
		mu := h.tenantLock(tenant)
		mu.Lock()
		defer mu.Unlock()
	}
	var events []store.Event
	err := h.updateStore(ctx, tenant, func(tx store.Tx) error {
		wt := &writeTx{Tx: tx, r: r, h: h}
		if err := fn(ctx, wt); err != nil {
			return err
		}
		if rec, ok := powerOf[store.EventRecorder](tx); ok && len(wt.events) > 0 {
			if err := rec.RecordEvents(ctx, wt.events); err != nil {
				return fmt.Errorf("record events: %w", err)
			}
		}
		events = wt.events // a retried fn replaces the events of a failed try
		return nil
	})
	var ref *refusal
	if errors.As(err, &ref) {
		events = h.recordRefusal(ctx, r, ref)
	}
	h.deliver(ctx, events)
	return err
}

// recordRefusal writes a refusal event to the outbox in a transaction of
// its own (the refused write rolled back) and returns it for delivery. A
// refusal that puts deprovisioning on hold writes the hold in that
// transaction, and no event when another request held first.
func (h *Handler) recordRefusal(ctx context.Context, r *request, ref *refusal) []store.Event {
	e := ref.event
	var out []store.Event
	err := h.updateStore(ctx, r.principal.Tenant, func(tx store.Tx) error {
		out = nil
		if ref.hold != nil {
			if held, err := ref.hold(ctx, tx); err != nil || !held {
				return err
			}
		}
		wt := &writeTx{Tx: tx, r: r, h: h}
		wt.emit(e)
		if rec, ok := powerOf[store.EventRecorder](tx); ok {
			if err := rec.RecordEvents(ctx, wt.events); err != nil {
				return err
			}
		}
		out = wt.events
		return nil
	})
	if err != nil {
		h.log.ErrorContext(r.Context(), "scim: could not record a refusal event", "tenant", r.principal.Tenant, "err", err)
	}
	h.log.WarnContext(r.Context(), "scim: refused a change", "event", string(e.Type), "tenant", r.principal.Tenant,
		"user", e.UserID, "group", e.GroupID, "detail", e.Detail)
	return out
}

// deliver hands events to Config.OnEvent, in order. A panicking hook is
// logged and does not fail the request, whose write already committed.
func (h *Handler) deliver(ctx context.Context, events []store.Event) {
	h.tel.eventsCommitted(ctx, events)
	if h.cfg.OnEvent == nil {
		return
	}
	committed := h.tel.now()
	for _, e := range events {
		h.tel.eventDelivering(ctx, e.Type, committed)
		func() {
			defer func() {
				if v := recover(); v != nil {
					h.log.ErrorContext(ctx, "scim: OnEvent panicked", "type", string(e.Type), "panic", fmt.Sprint(v),
						"stack", string(debug.Stack()))
				}
			}()
			h.cfg.OnEvent(ctx, e)
		}()
	}
}

// tenantLock returns the lock that orders a tenant's event deliveries.
func (h *Handler) tenantLock(tenant string) *sync.Mutex {
	mu, _ := h.locks.LoadOrStore(tenant, &sync.Mutex{})
	return mu.(*sync.Mutex)
}

// userEvents emits the events a user write implies, from before (nil for
// a new user) to after.
func (tx *writeTx) userEvents(before, after *store.User, created store.EventType) {
	copyUser := func(u *store.User) *store.User {
		if u == nil {
			return nil
		}
		c := *u
		return &c
	}
	b, a := copyUser(before), copyUser(after)
	if before == nil {
		tx.emit(store.Event{Type: created, UserID: after.ID, After: a})
		return
	}
	if !before.Managed && after.Managed {
		tx.emit(store.Event{Type: store.UserLinked, UserID: after.ID, Before: b, After: a})
	}
	switch {
	case before.Active() && !after.Active():
		tx.emit(store.Event{Type: store.UserDeactivated, UserID: after.ID, Before: b, After: a})
	case !before.Active() && after.Active():
		tx.emit(store.Event{Type: store.UserReactivated, UserID: after.ID, Before: b, After: a})
	}
	if before.Role != after.Role {
		tx.emit(store.Event{Type: store.UserRoleChanged, UserID: after.ID, Before: b, After: a,
			Detail: fmt.Sprintf("role %q → %q", before.Role, after.Role)})
	}
	if !attrsEqual(before.Attributes, after.Attributes) {
		tx.emit(store.Event{Type: store.UserUpdated, UserID: after.ID, Before: b, After: a})
	}
}
