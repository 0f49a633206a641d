package memory

import (
	"context"
	"fmt"
	"slices"

	"github.com/scimkit/scim/store"
)

// The optional powers of package store: an event outbox, departures and
// the groups deactivated users left.
var (
	_ store.EventLog           = (*Store)(nil)
	_ store.Tx                 = (*tx)(nil)
	_ store.EventRecorder      = (*tx)(nil)
	_ store.DepartureRecorder  = (*tx)(nil)
	_ store.LeftGroupsRecorder = (*tx)(nil)
)

// RecordEvents appends copies of events to the tenant's outbox, numbering
// them from one above the last Seq the tenant assigned (the Seq they carry
// is ignored). Updates of a tenant run one after another, so the numbering
// is the commit order. A roll-back removes them and takes their Seq values
// back: nobody saw them, since Events waits for the Update to finish.
func (x *tx) RecordEvents(ctx context.Context, events []store.Event) error {
	if err := x.check(ctx); err != nil {
		return err
	}
	if len(events) == 0 {
		return nil
	}
	recs := make([]eventRec, len(events))
	for i, e := range events {
		var err error
		if recs[i], err = packEvent(e); err != nil {
			return err
		}
	}
	t := x.t
	n, seq := t.events.len(), t.eventSeq
	for _, rec := range recs {
		t.eventSeq++
		rec.e.Seq = t.eventSeq
		t.events.push(rec)
	}
	x.onRollback(func() {
		t.events.truncate(n)
		t.eventSeq = seq
	})
	return nil
}

// Events returns copies of up to limit events of the tenant with Seq
// greater than after, in Seq order; none when limit is not positive. It
// waits for a running Update of the tenant, so it must not be called from
// inside one (that deadlocks, as View does).
func (s *Store) Events(ctx context.Context, tenantName string, after int64, limit int) ([]store.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t := s.tenant(tenantName)
	if t == nil || limit <= 0 {
		return nil, nil
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	from := t.events.after(after)
	out := make([]store.Event, min(limit, t.events.len()-from))
	for i := range out {
		out[i] = t.events.at(from + i).unpack()
	}
	return out, nil
}

// TrimEvents drops the tenant's events with Seq up to and including upTo,
// typically the cursor of a consumer that has handled them. Seq values go
// on increasing after a trim.
//
// The outbox of this store lives in memory and grows by every event
// recorded until the app trims it: a long-running demo that consumes
// events should call TrimEvents after each batch it handled.
func (s *Store) TrimEvents(tenantName string, upTo int64) {
	t := s.tenant(tenantName)
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.events.dropFirst(t.events.after(upTo))
}

// tenant returns the tenant, or nil when it has never been written.
func (s *Store) tenant(name string) *tenant {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tenants[name]
}

// eventRec is an event as the outbox keeps it: the attributes of its users
// and groups (Before, After, GroupBefore, GroupAfter, in that order) as
// JSON, as the records keep theirs, rather than as decoded maps: those are
// dozens of heap objects per event, which the garbage collector marks on
// every cycle (with 100,000 users provisioned, the outbox made marking the
// largest cost of a GET that grows with the tenant). Events decodes them.
type eventRec struct {
	e     store.Event // the users and groups without Attributes
	attrs [4][]byte
	has   [4]bool // Attributes was not nil
}

// packEvent returns e as the outbox keeps it, sharing nothing mutable.
func packEvent(e store.Event) (eventRec, error) {
	var r eventRec
	for i, u := range []**store.User{&e.Before, &e.After} {
		if *u == nil {
			continue
		}
		c := **u
		if c.Attributes != nil {
			b, err := encodeAttrs(c.Attributes)
			if err != nil {
				return eventRec{}, err
			}
			r.attrs[i], r.has[i] = b, true
		}
		c.Attributes = nil
		*u = &c
	}
	for i, g := range []**store.Group{&e.GroupBefore, &e.GroupAfter} {
		if *g == nil {
			continue
		}
		c := **g
		if c.Attributes != nil {
			b, err := encodeAttrs(c.Attributes)
			if err != nil {
				return eventRec{}, err
			}
			r.attrs[2+i], r.has[2+i] = b, true
		}
		c.Attributes = nil
		c.Members = slices.Clone(c.Members)
		*g = &c
	}
	e.Members = slices.Clone(e.Members)
	r.e = e
	return r, nil
}

// unpack returns a copy of the event sharing nothing mutable with r.
func (r *eventRec) unpack() store.Event {
	e := r.e
	for i, u := range []**store.User{&e.Before, &e.After} {
		if *u == nil {
			continue
		}
		c := **u
		if r.has[i] {
			c.Attributes = decodeAttrs(r.attrs[i])
		}
		*u = &c
	}
	for i, g := range []**store.Group{&e.GroupBefore, &e.GroupAfter} {
		if *g == nil {
			continue
		}
		c := **g
		if r.has[2+i] {
			c.Attributes = decodeAttrs(r.attrs[2+i])
		}
		c.Members = slices.Clone(c.Members)
		*g = &c
	}
	e.Members = slices.Clone(e.Members)
	return e
}

// RecordDeparture remembers d under the case-folded userName, replacing
// the departure of the same userName; a roll-back restores what was there.
// Departures are never forgotten: they take memory for as long as the
// Store lives.
func (x *tx) RecordDeparture(ctx context.Context, d store.Departure) error {
	if err := x.check(ctx); err != nil {
		return err
	}
	k := fold(d.UserName)
	restoreOnRollback(x, x.t.departures, k)
	x.t.departures[k] = d
	return nil
}

// Departure returns the departure recorded for userName, compared as
// UserByUserName compares, or ErrNotFound.
func (x *tx) Departure(ctx context.Context, userName string) (store.Departure, error) {
	if err := x.check(ctx); err != nil {
		return store.Departure{}, err
	}
	d, ok := x.t.departures[fold(userName)]
	if !ok {
		return store.Departure{}, fmt.Errorf("memory: departure of %q: %w", userName, store.ErrNotFound)
	}
	return d, nil
}

// RecordLeftGroups remembers a sorted copy of groupIDs for the user,
// replacing what was there; an empty list forgets. A roll-back restores
// what was there.
func (x *tx) RecordLeftGroups(ctx context.Context, userID string, groupIDs []string) error {
	if err := x.check(ctx); err != nil {
		return err
	}
	t := x.t
	restoreOnRollback(x, t.leftGroups, userID)
	if len(groupIDs) == 0 {
		delete(t.leftGroups, userID)
	} else {
		ids := slices.Clone(groupIDs)
		slices.Sort(ids)
		t.leftGroups[userID] = slices.Compact(ids)
	}
	return nil
}

// LeftGroups returns a copy of the group ids remembered for the user.
func (x *tx) LeftGroups(ctx context.Context, userID string) ([]string, error) {
	if err := x.check(ctx); err != nil {
		return nil, err
	}
	return append([]string{}, x.t.leftGroups[userID]...), nil
}

// restoreOnRollback makes a roll-back put m[k] back as it is now, or
// delete it when it is absent now.
func restoreOnRollback[K comparable, V any](x *tx, m map[K]V, k K) {
	old, had := m[k]
	x.onRollback(func() {
		if had {
			m[k] = old
		} else {
			delete(m, k)
		}
	})
}
