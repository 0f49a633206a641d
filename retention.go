package scim

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/scimkit/scim/store"
)

// Retention bounds how long a Handler's store keeps what it records beside
// the users and groups: the event outbox and, for deprovisioned users,
// their personal data. Handler.Retain applies it; the app calls Retain
// from a periodic job (a cron, a ticker in one instance), not the handler
// on requests: a pass visits every tenant, which a request of one tenant
// should not pay for, and several instances would each repeat it.
//
// The zero value keeps everything, forever.
type Retention struct {
	// EventAge deletes the events recorded longer ago than this, by the
	// handler's clock. 0 keeps events whatever their age.
	EventAge time.Duration
	// MaxEvents keeps at most this many events per tenant, the newest.
	// 0 sets no cap.
	MaxEvents int
	// EraseAfter erases the personal data of users deprovisioned longer
	// ago than this from the events and departures kept of them (see
	// Handler.EraseUser). 0 erases only on request.
	EraseAfter time.Duration
}

func (r Retention) validate() error {
	switch {
	case r.EventAge < 0:
		return invalid("Retention.EventAge is negative")
	case r.MaxEvents < 0:
		return invalid("Retention.MaxEvents is negative")
	case r.EraseAfter < 0:
		return invalid("Retention.EraseAfter is negative")
	}
	return nil
}

// enabled reports whether Retain has anything to do.
func (r Retention) enabled() bool { return r.EventAge > 0 || r.MaxEvents > 0 || r.EraseAfter > 0 }

// RetainReport counts what one Handler.Retain pass did.
type RetainReport struct {
	// Tenants is the number of tenants visited.
	Tenants int
	// EventsDeleted is the number of events deleted from the outbox.
	EventsDeleted int
	// UsersErased is the number of deprovisioned users whose personal
	// data was erased.
	UsersErased int
}

// erasePage is how many departed users Retain erases per store call.
const erasePage = 200

// Retain applies Config.Retention to every tenant of the store: it deletes
// the events older than EventAge or beyond the MaxEvents newest, and erases
// the personal data of users deprovisioned more than EraseAfter ago. It
// needs the store powers store.TenantLister and, for what it applies,
// store.EventPruner and store.Eraser (the memory and SQL stores have them);
// a store without one gets an error wrapping errors.ErrUnsupported and
// nothing is done. With the zero Retention it does nothing.
//
// Run it from a periodic job: daily is plenty. Running it on several
// instances at once is harmless (each deletion and erasure is idempotent)
// but wasteful. A pass stops at the first error, reporting what it did;
// the next pass takes up what is left.
func (h *Handler) Retain(ctx context.Context) (RetainReport, error) {
	var rep RetainReport
	ret := h.cfg.Retention
	if !ret.enabled() {
		return rep, nil
	}
	lister, ok := powerOf[store.TenantLister](h.store)
	if !ok {
		return rep, fmt.Errorf("scim: Retain: the store does not implement store.TenantLister: %w", errors.ErrUnsupported)
	}
	pruner, canPrune := powerOf[store.EventPruner](h.store)
	if (ret.EventAge > 0 || ret.MaxEvents > 0) && !canPrune {
		return rep, fmt.Errorf("scim: Retain: the store does not implement store.EventPruner: %w", errors.ErrUnsupported)
	}
	eraser, canErase := powerOf[store.Eraser](h.store)
	if ret.EraseAfter > 0 && !canErase {
		return rep, fmt.Errorf("scim: Retain: the store does not implement store.Eraser: %w", errors.ErrUnsupported)
	}
	tenants, err := lister.Tenants(ctx)
	if err != nil {
		return rep, fmt.Errorf("scim: Retain: list tenants: %w", err)
	}
	now := h.cfg.Now()
	for _, tenant := range tenants {
		rep.Tenants++
		if ret.EventAge > 0 || ret.MaxEvents > 0 {
			p := store.EventPrune{Keep: ret.MaxEvents}
			if ret.EventAge > 0 {
				p.Before = now.Add(-ret.EventAge)
			}
			n, err := pruner.PruneEvents(ctx, tenant, p)
			rep.EventsDeleted += n
			if err != nil {
				return rep, fmt.Errorf("scim: Retain: prune events of tenant %q: %w", tenant, err)
			}
		}
		if ret.EraseAfter > 0 {
			n, err := h.eraseDeparted(ctx, eraser, tenant, now.Add(-ret.EraseAfter))
			rep.UsersErased += n
			if err != nil {
				return rep, err
			}
		}
	}
	h.log.InfoContext(ctx, "scim: retention pass", "tenants", rep.Tenants, "events_deleted", rep.EventsDeleted, "users_erased", rep.UsersErased)
	return rep, nil
}

// eraseDeparted erases every user of tenant deprovisioned at or before
// before, a page at a time, and returns how many it erased.
func (h *Handler) eraseDeparted(ctx context.Context, eraser store.Eraser, tenant string, before time.Time) (int, error) {
	total := 0
	for {
		ids, err := eraser.Departed(ctx, tenant, before, erasePage)
		if err != nil {
			return total, fmt.Errorf("scim: Retain: departed users of tenant %q: %w", tenant, err)
		}
		progress := false
		for _, id := range ids {
			n, err := h.EraseUser(ctx, tenant, id)
			switch {
			case errors.Is(err, ErrUserExists):
				// Listed by a departure but present (an app that reuses
				// ids): nothing of it is erased.
				continue
			case err != nil:
				return total, err
			}
			if n > 0 {
				total++
				progress = true
			}
		}
		if len(ids) < erasePage || !progress {
			return total, nil
		}
	}
}

// PruneEvents deletes the tenant's events that p selects (see
// store.EventPruner): typically the events up to the cursor of a consumer
// that has handled them, store.EventPrune{UpTo: seq}. It returns how many
// it deleted, or an error wrapping errors.ErrUnsupported when the store
// cannot prune its outbox.
func (h *Handler) PruneEvents(ctx context.Context, tenant string, p store.EventPrune) (int, error) {
	pruner, ok := powerOf[store.EventPruner](h.store)
	if !ok {
		return 0, fmt.Errorf("scim: PruneEvents: the store does not implement store.EventPruner: %w", errors.ErrUnsupported)
	}
	return pruner.PruneEvents(ctx, tenant, p)
}
