package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
)

// Optional powers: a store whose Tx implements store.EventRecorder (and
// whose Store then implements store.EventLog), or store.DepartureRecorder,
// is held to them; others skip these subtests.

// txImplements reports whether the Tx of f's store is a T, asked inside an
// Update (which commits nothing).
func txImplements[T any](f *fixture) bool {
	var ok bool
	f.update(func(tx store.Tx) error {
		_, ok = tx.(T)
		return nil
	})
	return ok
}

// eventFixture returns a fixture for an Events subtest and the store as an
// EventLog.
func eventFixture(t *testing.T, newStore func(t *testing.T) store.Store) (*fixture, store.EventLog) {
	t.Helper()
	f := newFixture(t, newStore)
	log, ok := f.s.(store.EventLog)
	if !ok {
		t.Fatalf("the store's Tx implements store.EventRecorder but %T does not implement store.EventLog", f.s)
	}
	return f, log
}

// event returns a user event with every field set, told apart by n.
func (f *fixture) event(n int, typ store.EventType) store.Event {
	before := f.newUser(fmt.Sprintf("u%d", n), store.Attributes{"title": "before", "level": float64(n)})
	after := f.newUser(fmt.Sprintf("u%d", n), store.Attributes{
		"title":  "after",
		"emails": []any{map[string]any{"value": "x@example.com", "primary": true}},
	})
	after.Role, after.Managed, after.ManagedBy, after.Linked = "admin", true, "okta-main", true
	after.Meta.Version, after.Meta.LastModified = 2, at(n)
	return store.Event{
		Time:    at(n),
		Type:    typ,
		Tenant:  f.tenant,
		TokenID: "token-1",
		Client:  "okta",
		UserID:  before.ID,
		Before:  before,
		After:   after,
		Detail:  fmt.Sprintf("event %d", n),
	}
}

// groupEvent returns a membership event with every group field set.
func (f *fixture) groupEvent(n int) store.Event {
	g := f.newGroup(fmt.Sprintf("G%d", n), store.Attributes{"externalId": "eg"})
	renamed := f.newGroup(fmt.Sprintf("G%d", n), store.Attributes{"displayName": "Renamed"})
	renamed.Meta.Version = 2
	return store.Event{
		Time:        at(n),
		Type:        store.MembersAdded,
		Tenant:      f.tenant,
		Client:      "entra",
		GroupID:     g.ID,
		GroupBefore: g,
		GroupAfter:  renamed,
		Members:     []string{f.id("a"), f.id("b")},
		Detail:      fmt.Sprintf("event %d", n),
	}
}

// record records the events in one Update.
func (f *fixture) record(events ...store.Event) {
	f.t.Helper()
	f.update(func(tx store.Tx) error { return tx.(store.EventRecorder).RecordEvents(f.ctx, events) })
}

// events reads the tenant's events after the cursor.
func (f *fixture) events(log store.EventLog, after int64, limit int) []store.Event {
	f.t.Helper()
	evs, err := log.Events(f.ctx, f.tenant, after, limit)
	if err != nil {
		f.t.Fatalf("Events(%d, %d): %v", after, limit, err)
	}
	return evs
}

// checkEvents compares events with want, ignoring Seq, and checks that
// Seq increases.
func checkEvents(t *testing.T, what string, want, got []store.Event) {
	t.Helper()
	for i := 1; i < len(got); i++ {
		if got[i].Seq <= got[i-1].Seq {
			t.Errorf("%s: Seq %d after %d, want increasing", what, got[i].Seq, got[i-1].Seq)
		}
	}
	if diff := gocmp.Diff(normEvents(want), normEvents(got), cmpOpts...); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

// normEvents returns copies of events without Seq and with numbers
// normalised.
func normEvents(events []store.Event) []store.Event {
	out := make([]store.Event, len(events))
	for i, e := range events {
		e.Seq = 0
		for _, u := range []**store.User{&e.Before, &e.After} {
			if *u != nil {
				n := normUser(**u)
				*u = &n
			}
		}
		for _, g := range []**store.Group{&e.GroupBefore, &e.GroupAfter} {
			if *g != nil {
				n := normGroup(**g)
				*g = &n
			}
		}
		out[i] = e
	}
	return out
}

func testEvents(t *testing.T, newStore func(t *testing.T) store.Store) {
	if !txImplements[store.EventRecorder](newFixture(t, newStore)) {
		t.Skip("the store's Tx does not implement store.EventRecorder (optional): no event outbox to test")
	}
	t.Run("Seq increases in commit order", func(t *testing.T) {
		f, log := eventFixture(t, newStore)
		e1, e2, e3 := f.event(1, store.UserProvisioned), f.groupEvent(2), f.event(3, store.UserRoleChanged)
		e3.Before = nil
		f.record(e1, e2)
		f.record() // nothing
		f.record(e3)
		got := f.events(log, 0, 100)
		checkEvents(t, "Events", []store.Event{e1, e2, e3}, got)
		if len(got) == 3 && got[0].Seq <= 0 {
			t.Errorf("first Seq %d, want positive", got[0].Seq)
		}
	})

	t.Run("concurrent commits get distinct Seq", func(t *testing.T) {
		f, log := eventFixture(t, newStore)
		const workers = 8
		var wg sync.WaitGroup
		errs := make([]error, workers)
		for w := range workers {
			wg.Go(func() {
				errs[w] = f.s.Update(f.ctx, f.tenant, func(tx store.Tx) error {
					return tx.(store.EventRecorder).RecordEvents(f.ctx, []store.Event{f.event(w, store.UserUpdated)})
				})
			})
		}
		wg.Wait()
		for w, err := range errs {
			if err != nil {
				t.Errorf("worker %d: %v", w, err)
			}
		}
		got := f.events(log, 0, 100)
		seen := map[string]bool{}
		for i, e := range got {
			if i > 0 && e.Seq <= got[i-1].Seq {
				t.Errorf("Seq %d after %d, want increasing", e.Seq, got[i-1].Seq)
			}
			seen[e.Detail] = true
		}
		if len(got) != workers || len(seen) != workers {
			t.Errorf("%d events (%d distinct), want %d", len(got), len(seen), workers)
		}
	})

	t.Run("Events after a cursor, with a limit", func(t *testing.T) {
		f, log := eventFixture(t, newStore)
		var want []store.Event
		for i := range 5 {
			want = append(want, f.event(i, store.UserUpdated))
		}
		f.record(want[:3]...)
		f.record(want[3:]...)
		all := f.events(log, 0, 100)
		checkEvents(t, "Events(0, 100)", want, all)
		if len(all) != 5 {
			t.FailNow()
		}
		checkEvents(t, "Events(0, 2)", want[:2], f.events(log, 0, 2))
		checkEvents(t, "Events(Seq 2, 2)", want[2:4], f.events(log, all[1].Seq, 2))
		checkEvents(t, "Events(Seq 4, 10)", want[4:], f.events(log, all[3].Seq, 10))
		checkEvents(t, "Events(last Seq, 10)", nil, f.events(log, all[4].Seq, 10))
		// A consumer walking with a cursor sees each event once.
		var walked []store.Event
		for cursor, n := int64(0), 0; n < 10; n++ {
			page := f.events(log, cursor, 2)
			if len(page) == 0 {
				break
			}
			walked = append(walked, page...)
			cursor = page[len(page)-1].Seq
		}
		checkEvents(t, "walked with a cursor", want, walked)
	})

	t.Run("a rolled-back Tx drops its events", func(t *testing.T) {
		f, log := eventFixture(t, newStore)
		e1, e2, e3 := f.event(1, store.UserProvisioned), f.event(2, store.UserUpdated), f.event(3, store.UserDeprovisioned)
		f.record(e1)
		err := f.s.Update(f.ctx, f.tenant, func(tx store.Tx) error {
			if err := tx.(store.EventRecorder).RecordEvents(f.ctx, []store.Event{e2}); err != nil {
				return err
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("Update returned %v, want fn's error", err)
		}
		checkEvents(t, "after the roll-back", []store.Event{e1}, f.events(log, 0, 100))
		f.record(e3)
		checkEvents(t, "after the next commit", []store.Event{e1, e3}, f.events(log, 0, 100))
	})

	t.Run("tenants are isolated", func(t *testing.T) {
		a, log := eventFixture(t, newStore)
		b := a.otherTenant()
		a1 := a.event(1, store.UserProvisioned)
		b1, b2 := b.event(2, store.UserUpdated), b.groupEvent(3)
		a.record(a1)
		b.record(b1, b2)
		checkEvents(t, "tenant A", []store.Event{a1}, a.events(log, 0, 100))
		checkEvents(t, "tenant B", []store.Event{b1, b2}, b.events(log, 0, 100))
		empty := a.otherTenant()
		checkEvents(t, "a tenant without events", nil, empty.events(log, 0, 100))
	})
}

// depart records the departures in one Update.
func (f *fixture) depart(ds ...store.Departure) {
	f.t.Helper()
	f.update(func(tx store.Tx) error {
		for _, d := range ds {
			if err := tx.(store.DepartureRecorder).RecordDeparture(f.ctx, d); err != nil {
				return err
			}
		}
		return nil
	})
}

// departure reads the departure of userName in an Update of its own.
func (f *fixture) departure(userName string) (store.Departure, error) {
	var d store.Departure
	err := f.s.Update(f.ctx, f.tenant, func(tx store.Tx) error {
		var err error
		d, err = tx.(store.DepartureRecorder).Departure(f.ctx, userName)
		return err
	})
	return d, err
}

// checkDeparture fails unless the departure of userName is want.
func checkDeparture(t *testing.T, f *fixture, userName string, want store.Departure) {
	t.Helper()
	got, err := f.departure(userName)
	if err != nil {
		t.Errorf("Departure(%q): %v", userName, err)
		return
	}
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("Departure(%q) (-want +got):\n%s", userName, diff)
	}
}

func testDepartures(t *testing.T, newStore func(t *testing.T) store.Store) {
	if !txImplements[store.DepartureRecorder](newFixture(t, newStore)) {
		t.Skip("the store's Tx does not implement store.DepartureRecorder (optional): no departures to test")
	}
	alice := store.Departure{UserName: "Alice@Example.com", Role: "admin", Time: at(1)}
	elodie := store.Departure{UserName: "ÉLODIE", Role: "viewer", Time: at(2)}

	t.Run("recorded, then found ignoring case", func(t *testing.T) {
		f := newFixture(t, newStore)
		f.update(func(tx store.Tx) error {
			dr := tx.(store.DepartureRecorder)
			if err := dr.RecordDeparture(f.ctx, alice); err != nil {
				return err
			}
			got, err := dr.Departure(f.ctx, "alice@example.com")
			if err != nil {
				return fmt.Errorf("Departure inside the Tx: %w", err)
			}
			if diff := gocmp.Diff(alice, got); diff != "" {
				t.Errorf("Departure inside the Tx (-want +got):\n%s", diff)
			}
			return nil
		})
		f.depart(elodie)
		for _, q := range []string{"Alice@Example.com", "alice@example.com", "ALICE@EXAMPLE.COM"} {
			checkDeparture(t, f, q, alice)
		}
		for _, q := range []string{"ÉLODIE", "élodie", "Élodie"} {
			checkDeparture(t, f, q, elodie)
		}
	})

	t.Run("ErrNotFound otherwise", func(t *testing.T) {
		f := newFixture(t, newStore)
		f.depart(alice)
		for _, q := range []string{"nobody", "alice", "alice@example.co", "alice@example.com ", ""} {
			_, err := f.departure(q)
			wantErr(t, fmt.Sprintf("Departure(%q)", q), err, store.ErrNotFound)
		}
	})

	t.Run("a new departure replaces the old one", func(t *testing.T) {
		f := newFixture(t, newStore)
		f.depart(alice)
		again := store.Departure{UserName: "ALICE@example.com", Role: "viewer", Time: at(5)}
		f.depart(again)
		checkDeparture(t, f, "alice@example.com", again)
		// Twice in one Tx: the later one wins.
		last := store.Departure{UserName: "alice@example.com", Role: "owner", Time: at(7)}
		f.depart(alice, last)
		checkDeparture(t, f, "Alice@Example.com", last)
	})

	t.Run("a rolled-back Tx drops its departures", func(t *testing.T) {
		f := newFixture(t, newStore)
		f.depart(alice)
		err := f.s.Update(f.ctx, f.tenant, func(tx store.Tx) error {
			dr := tx.(store.DepartureRecorder)
			if err := dr.RecordDeparture(f.ctx, elodie); err != nil {
				return err
			}
			if err := dr.RecordDeparture(f.ctx, store.Departure{UserName: "alice@example.com", Role: "viewer", Time: at(9)}); err != nil {
				return err
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("Update returned %v, want fn's error", err)
		}
		checkDeparture(t, f, "alice@example.com", alice)
		_, err = f.departure("élodie")
		wantErr(t, "Departure(élodie) after the roll-back", err, store.ErrNotFound)
	})

	t.Run("tenants are isolated", func(t *testing.T) {
		a := newFixture(t, newStore)
		b := a.otherTenant()
		a.depart(alice)
		bAlice := store.Departure{UserName: "alice@example.com", Role: "viewer", Time: at(3)}
		b.depart(bAlice, elodie)
		checkDeparture(t, a, "alice@example.com", alice)
		_, err := a.departure("élodie")
		wantErr(t, "tenant A Departure(élodie)", err, store.ErrNotFound)
		checkDeparture(t, b, "alice@example.com", bAlice)
		_, err = b.otherTenant().departure("alice@example.com")
		wantErr(t, "Departure in a third tenant", err, store.ErrNotFound)
	})
}
