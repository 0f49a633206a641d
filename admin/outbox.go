package admin

import (
	"context"
	"slices"
	"sync"

	"github.com/scimkit/scim/store"
)

// What the page keeps of the outbox, per tenant and per Handler.
const (
	keepEvents   = 20   // refusals, holds and admin actions shown, each
	outboxChunk  = 500  // events read per call to store.EventLog.Events
	outboxBudget = 5000 // events read per page view at most
)

// outbox is what the page learned from a tenant's outbox: it reads the
// events once, following a cursor, and keeps only the few it shows, so
// that a page view costs the events recorded since the last one (at most
// outboxBudget), not the whole log.
type outbox struct {
	mu       sync.Mutex
	cursor   int64
	refusals []store.Event // newest first
	holds    []store.Event
	actions  []store.Event
	behind   bool // the budget ran out before the end of the log
}

// outboxView is a copy of an outbox's lists for a page.
type outboxView struct {
	Available bool // the store keeps an outbox
	Behind    bool
	Refusals  []store.Event
	Holds     []store.Event
	Actions   []store.Event
}

// readOutbox catches up with the tenant's outbox and returns what it
// shows. A store without an outbox gives an empty view.
func (a *Handler) readOutbox(ctx context.Context, tenant string) (outboxView, error) {
	log, ok := a.store.(store.EventLog)
	if !ok {
		return outboxView{}, nil
	}
	v, _ := a.outboxes.LoadOrStore(tenant, &outbox{})
	o := v.(*outbox)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.behind = true
	for read := 0; read < outboxBudget; {
		events, err := log.Events(ctx, tenant, o.cursor, outboxChunk)
		if err != nil {
			return outboxView{}, err
		}
		for _, e := range events {
			switch e.Type {
			case store.ProtectedRefused:
				o.refusals = keep(o.refusals, e)
			case store.DeprovisioningHeld:
				o.holds = keep(o.holds, e)
			case store.TokenCreated, store.TokenRevoked, store.TokenRegenerated, store.DeprovisioningConfirmed, store.TenantDisconnected:
				o.actions = keep(o.actions, e)
			}
			o.cursor = e.Seq
		}
		read += len(events)
		if len(events) < outboxChunk {
			o.behind = false
			break
		}
	}
	return outboxView{
		Available: true, Behind: o.behind,
		Refusals: slices.Clone(o.refusals), Holds: slices.Clone(o.holds), Actions: slices.Clone(o.actions),
	}, nil
}

// keep puts e first in list and drops the oldest beyond keepEvents. The
// users in events are not shown beyond their names: drop the attributes
// nobody reads, so that what is kept stays small.
func keep(list []store.Event, e store.Event) []store.Event {
	e.Before, e.After = slim(e.Before), slim(e.After)
	e.GroupBefore, e.GroupAfter = nil, nil
	e.Members = nil
	list = slices.Insert(list, 0, e)
	if len(list) > keepEvents {
		list = list[:keepEvents]
	}
	return list
}

func slim(u *store.User) *store.User {
	if u == nil {
		return nil
	}
	return &store.User{ID: u.ID, Role: u.Role, Managed: u.Managed, Linked: u.Linked,
		Attributes: store.Attributes{"userName": u.UserName()}}
}
