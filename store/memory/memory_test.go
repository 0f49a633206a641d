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
		Managed: true,
		Meta:    store.Meta{Created: t0, LastModified: t0},
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
