package store

import (
	"context"
	"time"
)

// Optional powers that bound how long a store keeps what it holds: outbox
// retention (EventPruner), erasure of departed users' personal data
// (Eraser), and the deletion of a whole tenant (TenantDeleter). The memory
// and SQL stores implement all of them; the handler's Retain, EraseUser
// and DeleteTenant use them when the store has them.

// TenantDisconnected reports that a tenant was disconnected from its
// identity provider: its users became app users again and its stored
// tokens were revoked (scim.Handler.DisconnectTenant). Detail gives the
// counts.
const TenantDisconnected EventType = "tenant.disconnected"

// EventPrune selects events of one tenant's outbox to delete. An event is
// deleted when any rule selects it; the zero value selects none.
type EventPrune struct {
	// UpTo selects the events with Seq at or below it: the cursor of a
	// consumer that has handled them. 0 selects none by this rule.
	UpTo int64
	// Before selects the events whose Time is before it. The zero time
	// selects none by this rule.
	Before time.Time
	// Keep, when positive, selects every event but the Keep newest (by
	// Seq). 0 selects none by this rule.
	Keep int
}

// EventPruner is implemented by a Store with an outbox (EventLog) that can
// delete events from it.
type EventPruner interface {
	// PruneEvents deletes the tenant's events that p selects and returns
	// how many it deleted. Seq values are never reused: events recorded
	// afterwards go on from the last Seq assigned, even when every event
	// was deleted, so a consumer's cursor stays valid. Events is
	// unaffected for a cursor past the deleted events; a cursor before
	// them just finds fewer events. A tenant without events, or a p that
	// selects none, deletes nothing and is not an error.
	PruneEvents(ctx context.Context, tenant string, p EventPrune) (int, error)
}

// Eraser is implemented by a Store that can erase the personal data of
// deleted users from what it keeps of them beside the users themselves:
// the events of its outbox and its departures.
type Eraser interface {
	// EraseUser erases the personal data of the tenant's user userID: each
	// event whose UserID is userID keeps its Seq, Time, Type, ids, Client,
	// Members and Detail but loses, in Before and After, every attribute
	// (EraseEvent); each departure recorded with that UserID, or recorded
	// without a UserID under a userName one of those events carried, is
	// deleted (a departure of another user who took the name later
	// stays). It returns the
	// number of events and departures changed: 0 for an unknown user or
	// one already erased. It does not look at the user itself: the caller
	// erases only users that are deleted.
	EraseUser(ctx context.Context, tenant, userID string) (int, error)

	// Departed returns the ids of up to limit users of the tenant
	// deprovisioned at or before the given time whose UserDeprovisioned
	// event still holds personal data or whose departure (recorded with
	// their UserID) remains, the earliest departed first, ties by id. A
	// user EraseUser has erased is not returned again; none when limit is
	// not positive.
	Departed(ctx context.Context, tenant string, before time.Time, limit int) ([]string, error)
}

// TenantLister is implemented by a Store that can list the tenants it
// holds data of, so that a periodic pass (scim.Handler.Retain) can visit
// each.
type TenantLister interface {
	// Tenants returns the names of the tenants with data in the store
	// (users, groups, events or departures; tokens alone may not count),
	// in ascending order.
	Tenants(ctx context.Context) ([]string, error)
}

// TenantDeleter is implemented by a Store that can delete a tenant and
// everything it holds of it.
type TenantDeleter interface {
	// DeleteTenant deletes, in one transaction, the tenant's users, groups,
	// memberships, emails, events, departures, counters and tokens, and
	// every other record the store keeps under the tenant's name. Other
	// tenants are untouched. Deleting a tenant without data is not an
	// error. The tenant may be written again afterwards: it starts empty,
	// with event Seq values from 1.
	DeleteTenant(ctx context.Context, tenant string) error
}

// EraseEvent returns e without personal data: Before and After keep their
// ID, Role, Managed, ManagedBy, Linked and Meta but carry no attributes
// (userName, name, emails, externalId, every extension), so the event
// still says what happened to which id, when and through whom. Group
// events are returned unchanged: a group's attributes belong to the
// organisation, and its members are ids.
func EraseEvent(e Event) Event {
	for _, u := range []**User{&e.Before, &e.After} {
		if *u != nil {
			c := **u
			c.Attributes = nil
			*u = &c
		}
	}
	return e
}

// Erased reports whether e holds no personal data: EraseEvent would not
// change it.
func Erased(e Event) bool {
	return (e.Before == nil || e.Before.Attributes == nil) && (e.After == nil || e.After.Attributes == nil)
}
