package memory

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/scimkit/scim/store"
)

// The optional powers of package store: an event outbox and departures.
var (
	_ store.EventLog          = (*Store)(nil)
	_ store.Tx                = (*tx)(nil)
	_ store.EventRecorder     = (*tx)(nil)
	_ store.DepartureRecorder = (*tx)(nil)
)

// RecordEvents appends copies of events to the tenant's outbox, numbering
// them from one above the last Seq the tenant assigned (the Seq they carry
// is ignored). Updates of a tenant run one after another, so the numbering
// is the commit order. A roll-back removes them and takes their Seq values
// back: nobody saw them, since Events waits for the Update to finish.
func (x *tx) RecordEvents(ctx context.Context, events []store.Event) error {
	if err := x.check(); err != nil {
		return err
	}
	if len(events) == 0 {
		return nil
	}
	t := x.t
	n, seq := len(t.events), t.eventSeq
	for _, e := range events {
		e = cloneEvent(e)
		t.eventSeq++
		e.Seq = t.eventSeq
		t.events = append(t.events, e)
	}
	x.onRollback(func() {
		clear(t.events[n:]) // let the copies go
		t.events = t.events[:n]
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
	evs := t.events[eventIndex(t.events, after):]
	evs = evs[:min(limit, len(evs))]
	out := make([]store.Event, len(evs))
	for i, e := range evs {
		out[i] = cloneEvent(e)
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
	if i := eventIndex(t.events, upTo); i > 0 {
		// A new array, so that the dropped events and their users are freed.
		t.events = slices.Clone(t.events[i:])
	}
}

// tenant returns the tenant, or nil when it has never been written.
func (s *Store) tenant(name string) *tenant {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tenants[name]
}

// eventIndex returns the index of the first event with Seq greater than
// after.
func eventIndex(events []store.Event, after int64) int {
	i, _ := slices.BinarySearchFunc(events, after+1, func(e store.Event, seq int64) int {
		switch {
		case e.Seq < seq:
			return -1
		case e.Seq > seq:
			return 1
		}
		return 0
	})
	return i
}

// cloneEvent returns a copy of e sharing nothing mutable with it.
func cloneEvent(e store.Event) store.Event {
	e.Before, e.After = cloneUser(e.Before), cloneUser(e.After)
	e.GroupBefore, e.GroupAfter = cloneGroup(e.GroupBefore), cloneGroup(e.GroupAfter)
	e.Members = slices.Clone(e.Members)
	return e
}

func cloneUser(u *store.User) *store.User {
	if u == nil {
		return nil
	}
	c := *u
	c.Attributes = cloneAttrs(u.Attributes)
	return &c
}

func cloneGroup(g *store.Group) *store.Group {
	if g == nil {
		return nil
	}
	c := *g
	c.Attributes = cloneAttrs(g.Attributes)
	c.Members = slices.Clone(g.Members)
	return &c
}

func cloneAttrs(a store.Attributes) store.Attributes {
	if a == nil {
		return nil
	}
	return cloneValue(a).(map[string]any)
}

// cloneValue copies the maps and slices of a value decoded from JSON;
// the other values (strings, numbers, booleans, nil) are immutable.
func cloneValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = cloneValue(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = cloneValue(e)
		}
		return out
	case []string:
		return slices.Clone(v)
	case map[string]string:
		return maps.Clone(v)
	}
	return v
}

// RecordDeparture remembers d under the case-folded userName, replacing
// the departure of the same userName; a roll-back restores what was there.
// Departures are never forgotten: they take memory for as long as the
// Store lives.
func (x *tx) RecordDeparture(ctx context.Context, d store.Departure) error {
	if err := x.check(); err != nil {
		return err
	}
	t, k := x.t, fold(d.UserName)
	old, had := t.departures[k]
	t.departures[k] = d
	x.onRollback(func() {
		if had {
			t.departures[k] = old
		} else {
			delete(t.departures, k)
		}
	})
	return nil
}

// Departure returns the departure recorded for userName, compared as
// UserByUserName compares, or ErrNotFound.
func (x *tx) Departure(ctx context.Context, userName string) (store.Departure, error) {
	if err := x.check(); err != nil {
		return store.Departure{}, err
	}
	d, ok := x.t.departures[fold(userName)]
	if !ok {
		return store.Departure{}, fmt.Errorf("memory: departure of %q: %w", userName, store.ErrNotFound)
	}
	return d, nil
}
