package memory

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
	"github.com/scimkit/scim/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return New() })
}

func TestConformanceSharedStore(t *testing.T) {
	s := New()
	storetest.Run(t, func(t *testing.T) store.Store { return s })
}

var t0 = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func TestReturnedValuesAreCopies(t *testing.T) {
	ctx := t.Context()
	s := New()
	attrs := store.Attributes{
		"userName": "alice",
		"name":     map[string]any{"givenName": "Alice"},
		"emails":   []any{map[string]any{"value": "a@x.com"}},
	}
	u := &store.User{ID: "u1", Attributes: attrs, Meta: store.Meta{Created: t0, LastModified: t0}}
	err := s.Update(ctx, "t", func(tx store.Tx) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.CreateGroup(ctx, &store.Group{ID: "g1", Attributes: store.Attributes{"displayName": "G"}}); err != nil {
			return err
		}
		_, err := tx.AddMembers(ctx, "g1", []store.Member{{Value: "u1", Display: "A"}}, t0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Changing what was written changes nothing stored.
	attrs["name"].(map[string]any)["givenName"] = "Mallory"
	attrs["emails"].([]any)[0].(map[string]any)["value"] = "m@x.com"

	read := func() (store.User, store.Group) {
		var got store.User
		var g store.Group
		err := s.View(ctx, "t", func(r store.Reader) error {
			var err error
			if got, err = r.User(ctx, "u1"); err != nil {
				return err
			}
			g, err = r.Group(ctx, "g1", true)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return got, g
	}
	got, g := read()
	// Changing what was read changes nothing stored either.
	got.Attributes["name"].(map[string]any)["givenName"] = "Eve"
	got.Attributes["emails"].([]any)[0].(map[string]any)["value"] = "e@x.com"
	got.Attributes["userName"] = "eve"
	g.Members[0].Display = "changed"
	g.Attributes["displayName"] = "changed"

	again, gAgain := read()
	want := store.Attributes{
		"userName": "alice",
		"name":     map[string]any{"givenName": "Alice"},
		"emails":   []any{map[string]any{"value": "a@x.com"}},
	}
	if diff := cmp.Diff(want, again.Attributes); diff != "" {
		t.Errorf("user attributes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]store.Member{{Value: "u1", Display: "A"}}, gAgain.Members); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	if gAgain.DisplayName() != "G" {
		t.Errorf("displayName %q, want G", gAgain.DisplayName())
	}
}

func TestReaderUnusableAfterView(t *testing.T) {
	ctx := t.Context()
	s := New()
	var kept store.Reader
	if err := s.View(ctx, "t", func(r store.Reader) error { kept = r; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := kept.User(ctx, "x"); !errors.Is(err, errClosed) {
		t.Errorf("User after View: %v, want errClosed", err)
	}
	var keptTx store.Tx
	if err := s.Update(ctx, "t", func(tx store.Tx) error { keptTx = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := keptTx.CreateUser(ctx, &store.User{ID: "late"}); !errors.Is(err, errClosed) {
		t.Errorf("CreateUser after Update: %v, want errClosed", err)
	}
}

func TestFold(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"alice", "ALICE"},
		{"Élodie", "éLODIE"},
		{"straße", "STRAßE"},
		{"kelvin", "\u212Aelvin"}, // Kelvin sign folds to k
		{"σς", "ΣΣ"},
		{"ſam", "SAM"}, // long s folds to s
	} {
		if fold(tc.a) != fold(tc.b) {
			t.Errorf("fold(%q) = %q, fold(%q) = %q, want equal", tc.a, fold(tc.a), tc.b, fold(tc.b))
		}
	}
	if fold("alice") != "alice" {
		t.Errorf("fold of lower-case ASCII changed it")
	}
}

// TestIndexPlans checks which filters take their candidates from an index.
func TestIndexPlans(t *testing.T) {
	ctx := t.Context()
	s := New()
	fill(t, s, "t", 50)
	tn := s.tenants["t"]
	eq := func(name, sub string, v string) store.Compare {
		return store.Compare{Path: store.Path{Name: name, Sub: sub}, Op: store.Eq, Value: v, CaseExact: true}
	}
	title := store.Compare{Path: store.Path{Name: "title"}, Op: store.Eq, Value: "x"}
	users := []struct {
		name   string
		filter store.Filter
		n      int // candidates, or -1 for a scan
	}{
		{"userName", eq("userName", "", "USER7@example.com"), 1},
		{"externalId", eq("externalId", "", "ext-7"), 1},
		{"id", eq("id", "", "u7"), 1},
		{"emails.value", eq("emails", "value", "user7@home.example.org"), 1},
		{"emails value path", store.ValuePath{Path: store.Path{Name: "emails"}, Filter: store.And{Left: eq("type", "", "work"), Right: eq("value", "", "user7@example.com")}}, 1},
		{"and", store.And{Left: title, Right: eq("userName", "", "user7@example.com")}, 1},
		{"or of two indexed", store.Or{Left: eq("userName", "", "user7@example.com"), Right: eq("id", "", "u8")}, 2},
		{"or with a scan", store.Or{Left: eq("userName", "", "user7@example.com"), Right: title}, -1},
		{"not", store.Not{Filter: eq("userName", "", "user7@example.com")}, -1},
		{"co", store.Compare{Path: store.Path{Name: "userName"}, Op: store.Co, Value: "user7"}, -1},
	}
	for _, tc := range users {
		cands, ok := tn.userCandidates(tc.filter)
		if got := len(cands); !ok && tc.n != -1 || ok && got != tc.n {
			t.Errorf("%s: %d candidates (indexed %v), want %d", tc.name, got, ok, tc.n)
		}
	}
	err := s.Update(ctx, "t", func(tx store.Tx) error {
		for i := range 3 {
			g := &store.Group{ID: fmt.Sprintf("g%d", i), Attributes: store.Attributes{"displayName": fmt.Sprintf("G%d", i), "externalId": fmt.Sprintf("eg%d", i)}}
			if err := tx.CreateGroup(ctx, g); err != nil {
				return err
			}
		}
		_, err := tx.AddMembers(ctx, "g1", []store.Member{{Value: "u1"}, {Value: "u2"}}, t0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	groups := []struct {
		name   string
		filter store.Filter
		n      int
	}{
		{"displayName", eq("displayName", "", "g1"), 1},
		{"externalId", eq("externalId", "", "eg2"), 1},
		{"members.value", eq("members", "value", "u1"), 1},
		{"members value path", store.ValuePath{Path: store.Path{Name: "members"}, Filter: eq("value", "", "u2")}, 1},
		{"id and members.value", store.And{Left: eq("id", "", "g0"), Right: eq("members", "value", "u1")}, 1},
		{"members.value of a non-member", eq("members", "value", "u9"), 0},
	}
	for _, tc := range groups {
		cands, ok := tn.groupCandidates(tc.filter)
		if got := len(cands); !ok && tc.n != -1 || ok && got != tc.n {
			t.Errorf("%s: %d candidates (indexed %v), want %d", tc.name, got, ok, tc.n)
		}
	}
}

// fill creates n users u0…u{n-1} in the tenant, with a name, two emails, an
// externalId and a role, in batches.
func fill(tb testing.TB, s *Store, tenant string, n int) {
	tb.Helper()
	ctx := context.Background()
	const batch = 10000
	for start := 0; start < n; start += batch {
		err := s.Update(ctx, tenant, func(tx store.Tx) error {
			for i := start; i < min(start+batch, n); i++ {
				if err := tx.CreateUser(ctx, sampleUser(i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

func sampleUser(i int) *store.User {
	return &store.User{
		ID: fmt.Sprintf("u%d", i),
		Attributes: store.Attributes{
			"userName":   fmt.Sprintf("user%d@example.com", i),
			"externalId": fmt.Sprintf("ext-%d", i),
			"active":     true,
			"name":       map[string]any{"givenName": fmt.Sprintf("Given%d", i), "familyName": fmt.Sprintf("Family%d", i)},
			"emails": []any{
				map[string]any{"value": fmt.Sprintf("user%d@example.com", i), "type": "work", "primary": true},
				map[string]any{"value": fmt.Sprintf("user%d@home.example.org", i), "type": "home"},
			},
			"memberRole": "viewer",
		},
		Role:      "viewer",
		Managed:   true,
		ManagedBy: "okta",
		Meta:      store.Meta{Created: t0, LastModified: t0},
	}
}

func BenchmarkListUsersUserNameEq(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			s := New()
			fill(b, s, "t", n)
			ctx := context.Background()
			q := store.Query{Filter: store.Compare{Path: store.Path{Name: "userName"}, Op: store.Eq, Value: "USER4242@example.com"}, Limit: 100}
			b.ResetTimer()
			for b.Loop() {
				err := s.View(ctx, "t", func(r store.Reader) error {
					p, err := r.ListUsers(ctx, q)
					if err == nil && p.Total != 1 {
						err = fmt.Errorf("total %d", p.Total)
					}
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAddMembers(b *testing.B) {
	const batch = 100
	for _, size := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("group=%d", size), func(b *testing.B) {
			s := New()
			ctx := context.Background()
			fill(b, s, "t", size+batch)
			members := make([]store.Member, size)
			for i := range members {
				members[i] = store.Member{Value: fmt.Sprintf("u%d", i)}
			}
			err := s.Update(ctx, "t", func(tx store.Tx) error {
				if err := tx.CreateGroup(ctx, &store.Group{ID: "g", Attributes: store.Attributes{"displayName": "G"}}); err != nil {
					return err
				}
				_, err := tx.AddMembers(ctx, "g", members, t0)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			add := make([]store.Member, batch)
			ids := make([]string, batch)
			for i := range add {
				ids[i] = fmt.Sprintf("u%d", size+i)
				add[i] = store.Member{Value: ids[i]}
			}
			b.ResetTimer()
			// Each iteration adds 100 members and removes them again.
			for b.Loop() {
				err := s.Update(ctx, "t", func(tx store.Tx) error {
					c, err := tx.AddMembers(ctx, "g", add, t0)
					if err == nil && len(c.Added) != batch {
						err = fmt.Errorf("added %d", len(c.Added))
					}
					if err != nil {
						return err
					}
					_, err = tx.RemoveMembers(ctx, "g", ids, t0)
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBytesPerUser reports the heap a user takes, indexes included.
// It fills a store once per run whatever b.N; use -benchtime=1x.
func BenchmarkBytesPerUser(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			for b.Loop() {
				before := heap()
				s := New()
				fill(b, s, "t", n)
				after := heap()
				runtime.KeepAlive(s)
				b.ReportMetric(float64(after-before)/float64(n), "bytes/user")
			}
		})
	}
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func TestEventsAreCopies(t *testing.T) {
	ctx := t.Context()
	s := New()
	event := func() store.Event {
		return store.Event{
			Type:       store.UserUpdated,
			Before:     &store.User{ID: "u1", Attributes: store.Attributes{"name": map[string]any{"givenName": "Alice"}}},
			After:      &store.User{ID: "u1", Attributes: store.Attributes{"emails": []any{map[string]any{"value": "a@x.com"}}}},
			GroupAfter: &store.Group{ID: "g1", Attributes: store.Attributes{"displayName": "G"}, Members: []store.Member{{Value: "u1"}}},
			Members:    []string{"u1"},
			Detail:     "d",
		}
	}
	in := []store.Event{event()}
	want := event()
	want.Seq = 1
	err := s.Update(ctx, "t", func(tx store.Tx) error { return tx.(store.EventRecorder).RecordEvents(ctx, in) })
	if err != nil {
		t.Fatal(err)
	}
	if in[0].Seq != 0 {
		t.Errorf("RecordEvents changed the caller's Seq to %d", in[0].Seq)
	}
	// Changing what was recorded changes nothing stored.
	in[0].Before.Attributes["name"].(map[string]any)["givenName"] = "Mallory"
	in[0].After.Attributes["emails"].([]any)[0].(map[string]any)["value"] = "m@x.com"
	in[0].GroupAfter.Members[0].Value = "u2"
	in[0].GroupAfter.Attributes["displayName"] = "H"
	in[0].Members[0] = "u2"
	in[0].After.ID = "u2"

	got, err := s.Events(ctx, "t", 0, 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("Events: %d events, %v", len(got), err)
	}
	// Changing what was read changes nothing stored either.
	got[0].Before.Attributes["name"].(map[string]any)["givenName"] = "Eve"
	got[0].After.Attributes["emails"].([]any)[0].(map[string]any)["value"] = "e@x.com"
	got[0].GroupAfter.Members[0].Value = "u3"
	got[0].Members[0] = "u3"
	got[0].After.Role = "changed"

	again, err := s.Events(ctx, "t", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]store.Event{want}, again); diff != "" {
		t.Errorf("Events (-want +got):\n%s", diff)
	}
}

func TestTrimEvents(t *testing.T) {
	ctx := t.Context()
	s := New()
	record := func(details ...string) {
		t.Helper()
		err := s.Update(ctx, "t", func(tx store.Tx) error {
			var evs []store.Event
			for _, d := range details {
				evs = append(evs, store.Event{Type: store.UserUpdated, Detail: d})
			}
			return tx.(store.EventRecorder).RecordEvents(ctx, evs)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	seqs := func(after int64) []int64 {
		t.Helper()
		evs, err := s.Events(ctx, "t", after, 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, e := range evs {
			out = append(out, e.Seq)
		}
		return out
	}
	s.TrimEvents("never written", 5) // nothing to trim, no tenant created
	if _, ok := s.tenants["never written"]; ok {
		t.Errorf("TrimEvents created a tenant")
	}
	record("1", "2", "3")
	s.TrimEvents("t", 0)
	if diff := cmp.Diff([]int64{1, 2, 3}, seqs(0)); diff != "" {
		t.Errorf("after TrimEvents(0) (-want +got):\n%s", diff)
	}
	s.TrimEvents("t", 2)
	if diff := cmp.Diff([]int64{3}, seqs(0)); diff != "" {
		t.Errorf("after TrimEvents(2) (-want +got):\n%s", diff)
	}
	record("4")
	if diff := cmp.Diff([]int64{3, 4}, seqs(0)); diff != "" {
		t.Errorf("Seq after a trim (-want +got):\n%s", diff)
	}
	s.TrimEvents("t", 10)
	if got := seqs(0); len(got) != 0 {
		t.Errorf("after trimming everything: %v", got)
	}
	record("5")
	if diff := cmp.Diff([]int64{5}, seqs(0)); diff != "" {
		t.Errorf("Seq after trimming everything (-want +got):\n%s", diff)
	}
	if evs, err := s.Events(ctx, "t", 0, 0); err != nil || len(evs) != 0 {
		t.Errorf("Events with limit 0: %v, %v; want none", evs, err)
	}
}

// TestManagedIndex checks that the index of managed users follows creates,
// updates, deletes and roll-backs.
func TestManagedIndex(t *testing.T) {
	ctx := t.Context()
	s := New()
	fill(t, s, "t", 6) // all managed
	setManaged := func(tx store.Tx, id string, managed bool) error {
		u, err := tx.User(ctx, id)
		if err != nil {
			return err
		}
		u.Managed = managed
		return tx.UpdateUser(ctx, &u)
	}
	check := func(what string, want ...string) {
		t.Helper()
		var got []string
		for _, u := range s.tenants["t"].managedOrder {
			got = append(got, u.id)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: managed users (-want +got):\n%s", what, diff)
		}
	}
	check("after fill", "u0", "u1", "u2", "u3", "u4", "u5")
	err := s.Update(ctx, "t", func(tx store.Tx) error {
		for _, id := range []string{"u1", "u3"} {
			if err := setManaged(tx, id, false); err != nil {
				return err
			}
		}
		if err := setManaged(tx, "u4", true); err != nil { // unchanged
			return err
		}
		return tx.DeleteUser(ctx, "u5")
	})
	if err != nil {
		t.Fatal(err)
	}
	check("after updates and a delete", "u0", "u2", "u4")
	err = s.Update(ctx, "t", func(tx store.Tx) error {
		steps := []func() error{
			func() error { return setManaged(tx, "u1", true) },
			func() error { return setManaged(tx, "u0", false) },
			func() error { return tx.DeleteUser(ctx, "u2") },
			func() error { return tx.CreateUser(ctx, sampleUser(9)) },
			func() error { return setManaged(tx, "u9", false) },
			func() error { return setManaged(tx, "u9", true) },
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return err
			}
		}
		check("inside the Tx", "u1", "u4", "u9")
		return errors.New("roll back")
	})
	if err == nil {
		t.Fatal("Update did not fail")
	}
	check("after the roll-back", "u0", "u2", "u4")
}
