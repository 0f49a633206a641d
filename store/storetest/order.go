package storetest

import (
	"fmt"
	"slices"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
)

// sortedLike sorts users as the contract says Query.SortBy does, starting
// from the adapter's stable order: store.SortKey and store.CompareSortKeys
// (case-insensitive), missing values last when ascending and first when
// descending, ties in stable order.
func sortedLike(stable []store.User, by store.Path, desc bool) []string {
	type keyed struct {
		name string
		key  any
		ok   bool
	}
	ks := make([]keyed, len(stable))
	for i := range stable {
		k, ok := store.SortKey(stable[i].Resolve, by)
		ks[i] = keyed{stable[i].UserName(), k, ok}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		switch {
		case !a.ok && !b.ok:
			return 0
		case !a.ok:
			return boolSign(!desc)
		case !b.ok:
			return -boolSign(!desc)
		}
		c := store.CompareSortKeys(a.key, b.key, false)
		if desc {
			return -c
		}
		return c
	})
	out := make([]string, len(ks))
	for i := range ks {
		out[i] = ks[i].name
	}
	return out
}

func boolSign(b bool) int {
	if b {
		return 1
	}
	return -1
}

func testSort(t *testing.T, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore)
	users := []*store.User{
		f.newUser("dave", store.Attributes{
			"name":   map[string]any{"familyName": "Young"},
			"title":  "b",
			"level":  float64(2),
			"emails": []any{map[string]any{"value": "z@x"}, map[string]any{"value": "a@x", "primary": true}},
		}),
		f.newUser("Bob", store.Attributes{
			"title":  "a",
			"level":  float64(10),
			"emails": []any{map[string]any{"value": "m@x"}},
		}),
		f.newUser("alice", store.Attributes{
			"name":  map[string]any{"familyName": "adams"},
			"title": "B",
			"level": float64(1),
		}),
		f.newUser("carol", store.Attributes{
			"name":   map[string]any{"familyName": "Baker"},
			"emails": []any{map[string]any{"value": "c@x"}},
		}),
		f.newUser("erin", store.Attributes{
			"title":  "A",
			"level":  float64(3),
			"emails": []any{map[string]any{"value": "b@x"}, map[string]any{"value": "y@x", "primary": false}},
		}),
	}
	for i, u := range users {
		u.Meta.Created, u.Meta.LastModified = at(i), at(i)
	}
	f.createUsers(users...)
	stable := f.listUsers(store.Query{Limit: 100}).Users
	if again := f.listUsers(store.Query{Limit: 100}).Users; !equalStrings(ids(stable), ids(again)) {
		t.Fatalf("the unsorted order changed between two reads: %q then %q", ids(stable), ids(again))
	}

	tests := []struct {
		name string
		by   store.Path
		desc bool
		want []string // nil: only compare with sortedLike (ties involved)
	}{
		{"userName ascending ignores case", path("userName", ""), false, []string{"alice", "Bob", "carol", "dave", "erin"}},
		{"userName descending", path("userName", ""), true, []string{"erin", "dave", "carol", "Bob", "alice"}},
		{"number ascending, missing last", path("level", ""), false, []string{"alice", "dave", "erin", "Bob", "carol"}},
		{"number descending, missing first", path("level", ""), true, []string{"carol", "Bob", "erin", "dave", "alice"}},
		{"multi-valued sorts by the primary value", path("emails", "value"), false, []string{"dave", "erin", "carol", "Bob", "alice"}},
		{"meta.created descending", path("meta", "created"), true, []string{"erin", "carol", "alice", "Bob", "dave"}},
		{"meta.lastModified ascending", path("meta", "lastModified"), false, []string{"dave", "Bob", "alice", "carol", "erin"}},
		{"sub-attribute ascending, missing last in stable order", path("name", "familyName"), false, nil},
		{"sub-attribute descending, missing first in stable order", path("name", "familyName"), true, nil},
		{"ties keep the stable order ascending", path("title", ""), false, nil},
		{"ties keep the stable order descending", path("title", ""), true, nil},
		{"no user has the attribute", path("nickName", ""), false, nil},
		{"id", path("id", ""), false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := userNames(f.listUsers(store.Query{SortBy: tc.by, Descending: tc.desc, Limit: 100}).Users)
			if tc.want != nil {
				if diff := gocmp.Diff(tc.want, got, cmpOpts...); diff != "" {
					t.Errorf("sorted (-want +got):\n%s", diff)
				}
			}
			if diff := gocmp.Diff(sortedLike(stable, tc.by, tc.desc), got, cmpOpts...); diff != "" {
				t.Errorf("sorted unlike store.SortKey/CompareSortKeys over the stable order %q (-want +got):\n%s", userNames(stable), diff)
			}
			// One page out of the middle.
			page := f.listUsers(store.Query{SortBy: tc.by, Descending: tc.desc, Offset: 1, Limit: 2})
			if diff := gocmp.Diff(got[1:3], userNames(page.Users), cmpOpts...); diff != "" {
				t.Errorf("page at Offset 1, Limit 2 (-want +got):\n%s", diff)
			}
			if page.Total != len(users) {
				t.Errorf("Total = %d, want %d", page.Total, len(users))
			}
		})
	}
	t.Run("filtered and sorted", func(t *testing.T) {
		page := f.listUsers(store.Query{Filter: ci(path("title", ""), store.Pr, nil), SortBy: path("title", ""), Descending: true, Limit: 100})
		got := userNames(page.Users)
		if len(got) != 4 || page.Total != 4 {
			t.Fatalf("got %q (Total %d), want 4 users", got, page.Total)
		}
		want := slices.DeleteFunc(sortedLike(stable, path("title", ""), true), func(s string) bool { return s == "carol" })
		if diff := gocmp.Diff(want, got, cmpOpts...); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("groups by displayName", func(t *testing.T) {
		f := newFixture(t, newStore)
		f.createGroups(f.newGroup("beta", nil), f.newGroup("Gamma", nil), f.newGroup("alpha", nil))
		got := displayNames(f.listGroups(store.Query{SortBy: path("displayName", ""), Limit: 10}).Groups)
		if diff := gocmp.Diff([]string{"alpha", "beta", "Gamma"}, got, cmpOpts...); diff != "" {
			t.Errorf("ascending (-want +got):\n%s", diff)
		}
		got = displayNames(f.listGroups(store.Query{SortBy: path("displayName", ""), Descending: true, Offset: 1, Limit: 10}).Groups)
		if diff := gocmp.Diff([]string{"beta", "alpha"}, got, cmpOpts...); diff != "" {
			t.Errorf("descending from Offset 1 (-want +got):\n%s", diff)
		}
	})
}

func testPaging(t *testing.T, newStore func(t *testing.T) store.Store) {
	const n = 250
	f := newFixture(t, newStore)
	users := make([]*store.User, n)
	for i := range users {
		k := i * 7 % n // creation order differs from userName order
		users[i] = f.newUser(fmt.Sprintf("user%03d", k), store.Attributes{"level": float64(k % 2)})
	}
	f.createUsers(users...)

	// walk pages through the query q and returns the ids in order, checking
	// Total on every page.
	walk := func(t *testing.T, q store.Query, size, wantTotal int) []string {
		t.Helper()
		var out []string
		for off := 0; ; off += size {
			q.Offset, q.Limit = off, size
			p := f.listUsers(q)
			if p.Total != wantTotal {
				t.Errorf("Total at Offset %d = %d, want %d", off, p.Total, wantTotal)
			}
			if want := min(size, max(wantTotal-off, 0)); len(p.Users) != want {
				t.Fatalf("page at Offset %d has %d users, want %d", off, len(p.Users), want)
			}
			out = append(out, ids(p.Users)...)
			if len(p.Users) < size {
				return out
			}
		}
	}
	checkAllOnce := func(t *testing.T, got []string, wantLen int) {
		t.Helper()
		seen := map[string]bool{}
		for _, id := range got {
			if seen[id] {
				t.Errorf("user %s listed twice", id)
			}
			seen[id] = true
		}
		if len(seen) != wantLen {
			t.Errorf("listed %d distinct users, want %d", len(seen), wantLen)
		}
	}

	t.Run("pages of 100 list every user once in the order of one big page", func(t *testing.T) {
		big := f.listUsers(store.Query{Limit: 1000})
		if big.Total != n || len(big.Users) != n {
			t.Fatalf("one big page: Total %d, %d users, want %d", big.Total, len(big.Users), n)
		}
		checkAllOnce(t, ids(big.Users), n)
		got := walk(t, store.Query{}, 100, n)
		if diff := gocmp.Diff(ids(big.Users), got); diff != "" {
			t.Errorf("pages (-want +got):\n%s", diff)
		}
	})
	t.Run("sorted pages", func(t *testing.T) {
		by := path("userName", "")
		big := f.listUsers(store.Query{SortBy: by, Descending: true, Limit: 1000})
		want := make([]string, n)
		for i := range want {
			want[i] = f.id(fmt.Sprintf("user%03d", n-1-i))
		}
		if diff := gocmp.Diff(want, ids(big.Users)); diff != "" {
			t.Errorf("one big sorted page (-want +got):\n%s", diff)
		}
		got := walk(t, store.Query{SortBy: by, Descending: true}, 100, n)
		if diff := gocmp.Diff(want, got); diff != "" {
			t.Errorf("sorted pages (-want +got):\n%s", diff)
		}
	})
	t.Run("filtered pages report the full match count", func(t *testing.T) {
		q := store.Query{Filter: ci(path("level", ""), store.Eq, float64(1))}
		bigQ := q
		bigQ.Limit = 1000
		big := f.listUsers(bigQ)
		if big.Total != n/2 {
			t.Fatalf("Total = %d, want %d", big.Total, n/2)
		}
		got := walk(t, q, 50, n/2)
		checkAllOnce(t, got, n/2)
		if diff := gocmp.Diff(ids(big.Users), got); diff != "" {
			t.Errorf("pages (-want +got):\n%s", diff)
		}
	})
	t.Run("Limit 0 returns only the total", func(t *testing.T) {
		p := f.listUsers(store.Query{Limit: 0})
		if p.Total != n || len(p.Users) != 0 {
			t.Errorf("Total %d and %d users, want %d and none", p.Total, len(p.Users), n)
		}
	})
	t.Run("Offset past the end returns no users and the total", func(t *testing.T) {
		for _, off := range []int{n, n + 1, 10 * n} {
			p := f.listUsers(store.Query{Offset: off, Limit: 100})
			if p.Total != n || len(p.Users) != 0 {
				t.Errorf("Offset %d: Total %d and %d users, want %d and none", off, p.Total, len(p.Users), n)
			}
		}
	})
	t.Run("groups", func(t *testing.T) {
		f := newFixture(t, newStore)
		var groups []*store.Group
		for i := range 5 {
			groups = append(groups, f.newGroup(fmt.Sprintf("g%d", i), nil))
		}
		f.createGroups(groups...)
		big := f.listGroups(store.Query{Limit: 100})
		var got []string
		for off := 0; off < 6; off += 2 {
			p := f.listGroups(store.Query{Offset: off, Limit: 2})
			if p.Total != 5 {
				t.Errorf("Total at Offset %d = %d, want 5", off, p.Total)
			}
			got = append(got, displayNames(p.Groups)...)
		}
		if diff := gocmp.Diff(displayNames(big.Groups), got); diff != "" {
			t.Errorf("pages (-want +got):\n%s", diff)
		}
		if p := f.listGroups(store.Query{Limit: 0}); p.Total != 5 || len(p.Groups) != 0 {
			t.Errorf("Limit 0: Total %d and %d groups, want 5 and none", p.Total, len(p.Groups))
		}
	})
}
