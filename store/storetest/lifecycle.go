package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
)

// Optional powers of the data lifecycle: store.EventPruner,
// store.Eraser, store.TenantLister and store.TenantDeleter. A store
// without one skips its clause, saying so.

// lifecycleFixture returns a fixture and the store as a P, or skips.
func lifecycleFixture[P any](t *testing.T, newStore func(t *testing.T) store.Store, what string) (*fixture, P) {
	t.Helper()
	f := newFixture(t, newStore)
	p, ok := f.s.(P)
	if !ok {
		t.Skipf("the store does not implement %T (optional): %s", (*P)(nil), what)
	}
	return f, p
}

// sub returns a fixture for the subtest t on f's store, with a tenant and
// ids of its own: the subtests of a clause share one store, which on a
// database server costs a schema and its migration each.
func (f *fixture) sub(t *testing.T) *fixture {
	return &fixture{t: t, s: f.s, ctx: t.Context(), tenant: newTenant(t), suffix: newSuffix()}
}

// seqs returns the Seq values of events.
func seqs(events []store.Event) []int64 {
	out := []int64{}
	for _, e := range events {
		out = append(out, e.Seq)
	}
	return out
}

func testEventPruning(t *testing.T, newStore func(t *testing.T) store.Store) {
	base := newFixture(t, newStore)
	if _, ok := base.s.(store.EventPruner); !ok {
		t.Skip("the store does not implement store.EventPruner (optional): no outbox retention to test")
	}
	if _, ok := base.s.(store.EventLog); !ok || !txImplements[store.EventRecorder](base) {
		t.Skip("the store implements store.EventPruner without an outbox: nothing to prune")
	}
	// Five events at(1)…at(5); the third is recorded with the earliest
	// time, as a Handler whose clock lags another's would.
	setup := func(t *testing.T) (*fixture, store.EventLog, store.EventPruner) {
		f := base.sub(t)
		log := f.s.(store.EventLog)
		evs := []store.Event{f.event(1, store.UserProvisioned), f.event(2, store.UserUpdated), f.event(0, store.UserUpdated),
			f.groupEvent(4), f.event(5, store.UserDeprovisioned)}
		f.record(evs...)
		return f, log, f.s.(store.EventPruner)
	}
	tests := []struct {
		name string
		p    store.EventPrune
		want []int64 // the positions (1…5) kept
	}{
		{"the zero value deletes nothing", store.EventPrune{}, []int64{1, 2, 3, 4, 5}},
		{"UpTo deletes a consumer's acknowledged events", store.EventPrune{UpTo: 2}, []int64{3, 4, 5}},
		{"UpTo past the last deletes all", store.EventPrune{UpTo: 1 << 40}, []int64{}},
		{"Keep keeps the newest", store.EventPrune{Keep: 2}, []int64{4, 5}},
		{"Keep above the count deletes nothing", store.EventPrune{Keep: 10}, []int64{1, 2, 3, 4, 5}},
		{"Before deletes older events wherever they are", store.EventPrune{Before: at(2)}, []int64{2, 4, 5}},
		{"the rules add up", store.EventPrune{UpTo: 1, Keep: 4, Before: at(5)}, []int64{5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, log, pr := setup(t)
			all := f.events(log, 0, 100)
			if len(all) != 5 {
				t.Fatalf("recorded %d events, want 5", len(all))
			}
			p := tc.p
			if p.UpTo > 0 && p.UpTo < 1<<40 {
				p.UpTo = all[p.UpTo-1].Seq
			}
			n, err := pr.PruneEvents(f.ctx, f.tenant, p)
			if err != nil {
				t.Fatalf("PruneEvents: %v", err)
			}
			want := []int64{}
			for _, pos := range tc.want {
				want = append(want, all[pos-1].Seq)
			}
			got := seqs(f.events(log, 0, 100))
			if diff := gocmp.Diff(want, got); diff != "" {
				t.Errorf("Seq kept (-want +got):\n%s", diff)
			}
			if n != 5-len(want) {
				t.Errorf("PruneEvents returned %d, want %d", n, 5-len(want))
			}
		})
	}
	t.Run("Seq values are never reused", func(t *testing.T) {
		f, log, pr := setup(t)
		all := f.events(log, 0, 100)
		if _, err := pr.PruneEvents(f.ctx, f.tenant, store.EventPrune{UpTo: all[4].Seq}); err != nil {
			t.Fatalf("PruneEvents: %v", err)
		}
		f.record(f.event(6, store.UserUpdated))
		got := f.events(log, 0, 100)
		if len(got) != 1 || got[0].Seq <= all[4].Seq {
			t.Errorf("after pruning every event, the next one has Seq %v, want one above %d", seqs(got), all[4].Seq)
		}
	})
	t.Run("other tenants and unknown tenants", func(t *testing.T) {
		f, log, pr := setup(t)
		other := f.otherTenant()
		other.record(other.event(1, store.UserProvisioned))
		if _, err := pr.PruneEvents(f.ctx, f.tenant, store.EventPrune{UpTo: 1 << 40}); err != nil {
			t.Fatalf("PruneEvents: %v", err)
		}
		if got := other.events(log, 0, 100); len(got) != 1 {
			t.Errorf("the other tenant has %d events after pruning the first, want 1", len(got))
		}
		n, err := pr.PruneEvents(f.ctx, newTenant(t)+"-unknown", store.EventPrune{UpTo: 1 << 40, Keep: 1, Before: at(9)})
		if n != 0 || err != nil {
			t.Errorf("PruneEvents of an unknown tenant = %d, %v; want 0, nil", n, err)
		}
	})
}

func testErasure(t *testing.T, newStore func(t *testing.T) store.Store) {
	base := newFixture(t, newStore)
	if _, ok := base.s.(store.Eraser); !ok {
		t.Skip("the store does not implement store.Eraser (optional): no erasure to test")
	}
	if _, ok := base.s.(store.EventLog); !ok || !txImplements[store.EventRecorder](base) || !txImplements[store.DepartureRecorder](base) {
		t.Skip("the store implements store.Eraser without an outbox and departures: nothing to erase")
	}
	// Alice is provisioned, renamed and deprovisioned; Bob stays. A
	// departure of Alice is recorded with her id, an older one (recorded
	// without an id) under her first userName, and one of someone else
	// who later took that name.
	type scene struct {
		f          *fixture
		log        store.EventLog
		er         store.Eraser
		alice, bob string
		events     []store.Event // as recorded
	}
	setup := func(t *testing.T) scene {
		f := base.sub(t)
		log := f.s.(store.EventLog)
		alice, bob := f.id("alice"), f.id("bob")
		user := func(id, name string) *store.User {
			return &store.User{ID: id, Role: "viewer", Managed: true, Attributes: store.Attributes{
				"userName": name, "externalId": "ext-" + name, "name": map[string]any{"formatted": "A. Person"},
				"emails": []any{map[string]any{"value": name, "primary": true}},
			}}
		}
		a1, a2, b := user(alice, "alice@example.com"), user(alice, "alice.new@example.com"), user(bob, "bob@example.com")
		evs := []store.Event{
			{Time: at(1), Type: store.UserProvisioned, Tenant: f.tenant, Client: "okta", UserID: alice, After: a1},
			{Time: at(2), Type: store.UserProvisioned, Tenant: f.tenant, Client: "okta", UserID: bob, After: b},
			{Time: at(3), Type: store.UserUpdated, Tenant: f.tenant, Client: "okta", UserID: alice, Before: a1, After: a2},
			f.groupEvent(4),
			{Time: at(5), Type: store.UserDeprovisioned, Tenant: f.tenant, Client: "okta", UserID: alice, Before: a2, Detail: "gone"},
		}
		f.record(evs...)
		f.depart(
			store.Departure{UserID: alice, UserName: "alice.new@example.com", Role: "viewer", Time: at(5)},
			store.Departure{UserName: "ALICE@example.com", Role: "admin", Time: at(0)},
			store.Departure{UserID: f.id("carol"), UserName: "carol@example.com", Role: "admin", Time: at(6)},
		)
		return scene{f: f, log: log, er: f.s.(store.Eraser), alice: alice, bob: bob, events: evs}
	}

	t.Run("the user's events lose their attributes, and the departures go", func(t *testing.T) {
		s := setup(t)
		n, err := s.er.EraseUser(s.f.ctx, s.f.tenant, s.alice)
		if err != nil {
			t.Fatalf("EraseUser: %v", err)
		}
		if n != 5 {
			t.Errorf("EraseUser changed %d records, want 5 (3 events, 2 departures)", n)
		}
		want := slices.Clone(s.events)
		for _, i := range []int{0, 2, 4} {
			want[i] = store.EraseEvent(want[i])
		}
		got := s.f.events(s.log, 0, 100)
		checkEvents(t, "events after erasure", want, got)
		for _, e := range got {
			if e.UserID == s.alice && !store.Erased(e) {
				t.Errorf("event %d of the erased user is not erased", e.Seq)
			}
		}
		for _, name := range []string{"alice.new@example.com", "alice@example.com"} {
			if _, err := s.f.departure(name); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Departure(%q) after erasure: %v, want ErrNotFound", name, err)
			}
		}
		checkDeparture(t, s.f, "carol@example.com", store.Departure{UserID: s.f.id("carol"), UserName: "carol@example.com", Role: "admin", Time: at(6)})

		n, err = s.er.EraseUser(s.f.ctx, s.f.tenant, s.alice)
		if n != 0 || err != nil {
			t.Errorf("EraseUser again = %d, %v; want 0, nil", n, err)
		}
	})

	t.Run("a departure that another user took over is kept", func(t *testing.T) {
		s := setup(t)
		// Dave took Alice's first userName and left: his departure replaced
		// the old one recorded without an id.
		dave := store.Departure{UserID: s.f.id("dave"), UserName: "alice@example.com", Role: "admin", Time: at(7)}
		s.f.depart(dave)
		if _, err := s.er.EraseUser(s.f.ctx, s.f.tenant, s.alice); err != nil {
			t.Fatalf("EraseUser: %v", err)
		}
		checkDeparture(t, s.f, "alice@example.com", dave)
	})

	t.Run("Departed lists the users deprovisioned by then, until erased", func(t *testing.T) {
		s := setup(t)
		ctx, tenant := s.f.ctx, s.f.tenant
		check := func(what string, before time.Time, limit int, want []string) {
			t.Helper()
			got, err := s.er.Departed(ctx, tenant, before, limit)
			if err != nil {
				t.Fatalf("Departed: %v", err)
			}
			if diff := gocmp.Diff(want, got, cmpOpts...); diff != "" {
				t.Errorf("%s (-want +got):\n%s", what, diff)
			}
		}
		carol := s.f.id("carol")
		check("before anyone left", at(4), 10, nil)
		check("Alice left at 5", at(5), 10, []string{s.alice})
		check("Carol's departure at 6", at(6), 10, []string{s.alice, carol})
		check("limit 1: the earliest", at(9), 1, []string{s.alice})
		if _, err := s.er.EraseUser(ctx, tenant, s.alice); err != nil {
			t.Fatalf("EraseUser: %v", err)
		}
		check("after Alice's erasure", at(9), 10, []string{carol})
		if got, err := s.er.Departed(ctx, s.f.otherTenant().tenant, at(9), 10); len(got) != 0 || err != nil {
			t.Errorf("Departed of another tenant = %v, %v; want none", got, err)
		}
	})

	t.Run("an unknown user or tenant erases nothing", func(t *testing.T) {
		s := setup(t)
		for _, c := range []struct{ tenant, user string }{{s.f.tenant, "nobody"}, {newTenant(t) + "-unknown", s.alice}} {
			n, err := s.er.EraseUser(s.f.ctx, c.tenant, c.user)
			if n != 0 || err != nil {
				t.Errorf("EraseUser(%q, %q) = %d, %v; want 0, nil", c.tenant, c.user, n, err)
			}
		}
		checkEvents(t, "events", s.events, s.f.events(s.log, 0, 100))
	})
}

func testTenantDeletion(t *testing.T, newStore func(t *testing.T) store.Store) {
	f, del := lifecycleFixture[store.TenantDeleter](t, newStore, "no tenant deletion to test")
	other := f.otherTenant()
	fill := func(f *fixture) {
		u := f.newUser("ann@example.com", store.Attributes{"emails": []any{map[string]any{"value": "ann@example.com"}}})
		f.createUsers(u)
		f.createGroups(f.newGroup("Team", nil))
		f.addMembers(f.id("Team"), at(1), store.Member{Value: u.ID})
		if txImplements[store.EventRecorder](f) {
			f.record(f.event(1, store.UserProvisioned))
		}
		if txImplements[store.DepartureRecorder](f) {
			f.depart(store.Departure{UserID: "x", UserName: "gone@example.com", Role: "admin", Time: at(1)})
		}
		if ts, ok := f.s.(store.TokenStore); ok {
			f.createTokens(ts, f.token("t1", 1))
		}
		if js, ok := f.s.(store.JournalStore); ok {
			if err := js.AppendJournal(f.ctx, f.tenant, []store.JournalEntry{{Time: at(1), Method: "GET", Path: "/Users", Status: 200}}); err != nil {
				t.Fatalf("AppendJournal: %v", err)
			}
		}
		if txImplements[store.GuardTx](f) {
			f.update(func(tx store.Tx) error {
				return tx.(store.GuardTx).HoldDeprovisioning(f.ctx, "held before the deletion")
			})
		}
	}
	fill(f)
	fill(other)
	before := other.snapshot()

	if err := del.DeleteTenant(f.ctx, f.tenant); err != nil {
		t.Fatalf("DeleteTenant: %v", err)
	}
	// Before any Update, which would start the tenant again.
	if lister, ok := f.s.(store.TenantLister); ok {
		names, err := lister.Tenants(f.ctx)
		if err != nil {
			t.Fatalf("Tenants: %v", err)
		}
		if slices.Contains(names, f.tenant) || !slices.Contains(names, other.tenant) || !slices.IsSorted(names) {
			t.Errorf("Tenants() = %d names, with the deleted tenant %v and the other %v, sorted %v; want the other only, sorted",
				len(names), slices.Contains(names, f.tenant), slices.Contains(names, other.tenant), slices.IsSorted(names))
		}
	}

	if got := f.listUsers(store.Query{}); got.Total != 0 {
		t.Errorf("users after DeleteTenant: %d, want 0", got.Total)
	}
	if got := f.listGroups(store.Query{}); got.Total != 0 {
		t.Errorf("groups after DeleteTenant: %d, want 0", got.Total)
	}
	if log, ok := f.s.(store.EventLog); ok {
		if got := f.events(log, 0, 100); len(got) != 0 {
			t.Errorf("events after DeleteTenant: %d, want 0", len(got))
		}
	}
	if txImplements[store.DepartureRecorder](f) {
		if _, err := f.departure("gone@example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Departure after DeleteTenant: %v, want ErrNotFound", err)
		}
	}
	if ts, ok := f.s.(store.TokenStore); ok {
		if got, err := ts.Tokens(f.ctx, f.tenant); err != nil || len(got) != 0 {
			t.Errorf("Tokens after DeleteTenant = %d tokens, %v; want none", len(got), err)
		}
		if _, err := ts.TokenByDigest(f.ctx, f.token("t1", 1).Digest); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("TokenByDigest of a deleted tenant's token: %v, want ErrNotFound", err)
		}
	}
	if js, ok := f.s.(store.JournalStore); ok {
		for _, c := range []struct {
			f    *fixture
			want int
		}{{f, 0}, {other, 1}} {
			if got, err := js.Journal(c.f.ctx, c.f.tenant, 10); err != nil || len(got) != c.want {
				t.Errorf("Journal of tenant %s after DeleteTenant = %d entries, %v; want %d", c.f.tenant, len(got), err, c.want)
			}
		}
	}
	if gs, ok := f.s.(store.GuardStore); ok && txImplements[store.GuardTx](f) {
		for _, c := range []struct {
			f    *fixture
			want bool
		}{{f, false}, {other, true}} {
			if st, err := gs.GuardState(c.f.ctx, c.f.tenant); err != nil || st.Held != c.want {
				t.Errorf("GuardState of tenant %s after DeleteTenant: held %v, %v; want held %v", c.f.tenant, st.Held, err, c.want)
			}
		}
	}
	if diff := gocmp.Diff(before, other.snapshot(), cmpOpts...); diff != "" {
		t.Errorf("the other tenant changed (-before +after):\n%s", diff)
	}
	// The tenant can be written again, and starts empty.
	fill(f)
	if got := f.listUsers(store.Query{}); got.Total != 1 {
		t.Errorf("users after writing the deleted tenant again: %d, want 1", got.Total)
	}
	if log, ok := f.s.(store.EventLog); ok {
		if got := f.events(log, 0, 100); len(got) != 1 || got[0].Seq != 1 {
			t.Errorf("events after writing the deleted tenant again: Seq %v, want [1]", seqs(got))
		}
	}
	if err := del.DeleteTenant(f.ctx, newTenant(t)+"-unknown"); err != nil {
		t.Errorf("DeleteTenant of an unknown tenant: %v", err)
	}
}
