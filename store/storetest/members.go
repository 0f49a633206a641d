package storetest

import (
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
)

// memberFixture has users a, b, c, d and an empty group G created at at(0).
func memberFixture(t *testing.T, newStore func(t *testing.T) store.Store) (*fixture, string) {
	f := newFixture(t, newStore)
	f.createUsers(f.newUser("a", nil), f.newUser("b", nil), f.newUser("c", nil), f.newUser("d", nil))
	f.createGroups(f.newGroup("G", nil))
	return f, f.id("G")
}

// checkMeta fails unless the group has the version and lastModified given.
func checkMeta(t *testing.T, f *fixture, groupID string, version int64, lastModified time.Time) {
	t.Helper()
	g := f.mustGroup(groupID, false)
	if g.Meta.Version != version || !g.Meta.LastModified.Equal(lastModified) {
		t.Errorf("group version %d lastModified %v, want %d and %v", g.Meta.Version, g.Meta.LastModified, version, lastModified)
	}
}

func checkChange(t *testing.T, what string, want, got store.MemberChange) {
	t.Helper()
	if diff := gocmp.Diff(want, got, cmpOpts...); diff != "" {
		t.Errorf("%s MemberChange (-want +got):\n%s", what, diff)
	}
}

func checkMembers(t *testing.T, f *fixture, groupID string, want ...store.Member) {
	t.Helper()
	if diff := gocmp.Diff(sortedMembers(want), f.members(groupID), cmpOpts...); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
}

func testMembers(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("AddMembers adds, skips unknown ids and is idempotent", func(t *testing.T) {
		f, g := memberFixture(t, newStore)
		other := f.otherTenant()
		other.createUsers(other.newUser("x", nil))
		a, b, c := f.id("a"), f.id("b"), f.id("c")

		got := f.addMembers(g, at(1), store.Member{Value: a, Display: "A"}, store.Member{Value: "nobody"},
			store.Member{Value: b, Display: "B"}, store.Member{Value: other.id("x")})
		checkChange(t, "first add", store.MemberChange{Added: []string{a, b}, Skipped: []string{"nobody", other.id("x")}}, got)
		checkMeta(t, f, g, 2, at(1))
		checkMembers(t, f, g, store.Member{Value: a, Display: "A"}, store.Member{Value: b, Display: "B"})

		got = f.addMembers(g, at(2), store.Member{Value: b, Display: "changed"}, store.Member{Value: c, Display: "C"}, store.Member{Value: a})
		checkChange(t, "second add", store.MemberChange{Added: []string{c}, Unchanged: []string{b, a}}, got)
		checkMeta(t, f, g, 3, at(2))
		checkMembers(t, f, g, store.Member{Value: a, Display: "A"}, store.Member{Value: b, Display: "B"}, store.Member{Value: c, Display: "C"})

		got = f.addMembers(g, at(3), store.Member{Value: a}, store.Member{Value: "nobody"})
		checkChange(t, "add of members only", store.MemberChange{Unchanged: []string{a}, Skipped: []string{"nobody"}}, got)
		checkMeta(t, f, g, 3, at(2))

		got = f.addMembers(g, at(4))
		checkChange(t, "add of nobody", store.MemberChange{}, got)
		checkMeta(t, f, g, 3, at(2))
	})

	t.Run("AddMembers with an id twice adds it once", func(t *testing.T) {
		f, g := memberFixture(t, newStore)
		a := f.id("a")
		got := f.addMembers(g, at(1), store.Member{Value: a, Display: "first"}, store.Member{Value: a, Display: "second"})
		if !slices.Equal(got.Added, []string{a}) {
			t.Errorf("Added = %q, want [%s]", got.Added, a)
		}
		checkMeta(t, f, g, 2, at(1))
		if ms := f.members(g); len(ms) != 1 || ms[0].Value != a {
			t.Errorf("members = %v, want only %s", ms, a)
		}
	})

	t.Run("RemoveMembers removes and reports non-members", func(t *testing.T) {
		f, g := memberFixture(t, newStore)
		a, b, c, d := f.id("a"), f.id("b"), f.id("c"), f.id("d")
		f.addMembers(g, at(1), store.Member{Value: a}, store.Member{Value: b}, store.Member{Value: c, Display: "C"})

		var got store.MemberChange
		f.update(func(tx store.Tx) error {
			var err error
			got, err = tx.RemoveMembers(f.ctx, g, []string{b, d, "nobody", a}, at(2))
			return err
		})
		if !slices.Equal(got.Removed, []string{b, a}) || len(got.Added) != 0 || len(got.Unchanged) != 0 {
			t.Errorf("Removed = %q, Added %q, Unchanged %q, want Removed [%s %s] only", got.Removed, got.Added, got.Unchanged, b, a)
		}
		if !slices.Contains(got.NotMembers, d) {
			t.Errorf("NotMembers = %q, want it to hold %s", got.NotMembers, d)
		}
		if slices.Contains(got.NotMembers, "nobody") == slices.Contains(got.Skipped, "nobody") {
			t.Errorf("an unknown id must be in exactly one of NotMembers %q and Skipped %q", got.NotMembers, got.Skipped)
		}
		checkMeta(t, f, g, 3, at(2))
		checkMembers(t, f, g, store.Member{Value: c, Display: "C"})

		f.update(func(tx store.Tx) error {
			var err error
			got, err = tx.RemoveMembers(f.ctx, g, []string{a, d}, at(3))
			return err
		})
		checkChange(t, "remove of non-members", store.MemberChange{NotMembers: []string{a, d}}, got)
		checkMeta(t, f, g, 3, at(2))
	})

	t.Run("ReplaceMembers applies the difference", func(t *testing.T) {
		f, g := memberFixture(t, newStore)
		a, b, c, d := f.id("a"), f.id("b"), f.id("c"), f.id("d")
		f.addMembers(g, at(1), store.Member{Value: a, Display: "A"}, store.Member{Value: b, Display: "B"}, store.Member{Value: d})

		replace := func(at time.Time, ms ...store.Member) store.MemberChange {
			t.Helper()
			return f.membership(func(tx store.Tx) (store.MemberChange, error) { return tx.ReplaceMembers(f.ctx, g, ms, at) })
		}
		got := replace(at(2), store.Member{Value: b, Display: "B2"}, store.Member{Value: c, Display: "C"}, store.Member{Value: "nobody"})
		slices.Sort(got.Removed)
		wantRemoved := []string{a, d}
		slices.Sort(wantRemoved)
		checkChange(t, "replace", store.MemberChange{Added: []string{c}, Removed: wantRemoved, Skipped: []string{"nobody"}},
			store.MemberChange{Added: got.Added, Removed: got.Removed, Skipped: got.Skipped})
		checkMeta(t, f, g, 3, at(2))
		checkMembers(t, f, g, store.Member{Value: b, Display: "B"}, store.Member{Value: c, Display: "C"})

		got = replace(at(3), store.Member{Value: c}, store.Member{Value: b})
		if got.Changed() || len(got.Skipped) != 0 {
			t.Errorf("replace with the same set: %+v, want no change", got)
		}
		checkMeta(t, f, g, 3, at(2))

		got = replace(at(4))
		slices.Sort(got.Removed)
		wantRemoved = []string{b, c}
		slices.Sort(wantRemoved)
		if diff := gocmp.Diff(wantRemoved, got.Removed, cmpOpts...); diff != "" || len(got.Added) != 0 {
			t.Errorf("empty replace: Added %q, Removed (-want +got):\n%s", got.Added, diff)
		}
		checkMeta(t, f, g, 4, at(4))
		checkMembers(t, f, g)

		got = replace(at(5))
		if got.Changed() {
			t.Errorf("empty replace of an empty group: %+v, want no change", got)
		}
		checkMeta(t, f, g, 4, at(4))
	})

	t.Run("GroupsOf lists a user's groups by id", func(t *testing.T) {
		f, g := memberFixture(t, newStore)
		f.createGroups(f.newGroup("H", nil), f.newGroup("E", nil))
		a, b := f.id("a"), f.id("b")
		h, e := f.id("H"), f.id("E")
		f.addMembers(h, at(1), store.Member{Value: a})
		f.addMembers(g, at(1), store.Member{Value: a}, store.Member{Value: b})
		f.addMembers(e, at(1), store.Member{Value: a})
		want := []store.GroupRef{{ID: g, DisplayName: "G"}, {ID: h, DisplayName: "H"}, {ID: e, DisplayName: "E"}}
		slices.SortFunc(want, func(x, y store.GroupRef) int {
			switch {
			case x.ID < y.ID:
				return -1
			case x.ID > y.ID:
				return 1
			}
			return 0
		})
		if diff := gocmp.Diff(want, f.groupsOf(a), cmpOpts...); diff != "" {
			t.Errorf("GroupsOf(a) (-want +got):\n%s", diff)
		}
		if diff := gocmp.Diff([]store.GroupRef{{ID: g, DisplayName: "G"}}, f.groupsOf(b), cmpOpts...); diff != "" {
			t.Errorf("GroupsOf(b) (-want +got):\n%s", diff)
		}
		if got := f.groupsOf(f.id("c")); len(got) != 0 {
			t.Errorf("GroupsOf(c) = %v, want none", got)
		}
		// A renamed group shows its new name.
		grp := f.mustGroup(g, false)
		grp.Attributes = store.Attributes{"displayName": "G renamed"}
		f.update(func(tx store.Tx) error { return tx.UpdateGroup(f.ctx, &grp) })
		f.update(func(tx store.Tx) error {
			_, err := tx.RemoveMembers(f.ctx, h, []string{a}, at(2))
			return err
		})
		want = slices.DeleteFunc(want, func(r store.GroupRef) bool { return r.ID == h })
		for i := range want {
			if want[i].ID == g {
				want[i].DisplayName = "G renamed"
			}
		}
		if diff := gocmp.Diff(want, f.groupsOf(a), cmpOpts...); diff != "" {
			t.Errorf("GroupsOf(a) after rename and removal (-want +got):\n%s", diff)
		}
	})

	t.Run("DeleteUser removes its memberships and bumps those groups", func(t *testing.T) {
		f, g := memberFixture(t, newStore)
		f.createGroups(f.newGroup("H", nil), f.newGroup("I", nil))
		a, b := f.id("a"), f.id("b")
		h, i := f.id("H"), f.id("I")
		f.addMembers(g, at(1), store.Member{Value: a}, store.Member{Value: b})
		f.addMembers(h, at(1), store.Member{Value: a})
		f.addMembers(i, at(1), store.Member{Value: b})
		f.update(func(tx store.Tx) error { return tx.DeleteUser(f.ctx, a) })
		checkMembers(t, f, g, store.Member{Value: b})
		checkMembers(t, f, h)
		checkMembers(t, f, i, store.Member{Value: b})
		for _, tc := range []struct {
			id      string
			version int64
		}{{g, 3}, {h, 3}, {i, 2}} {
			if v := f.mustGroup(tc.id, false).Meta.Version; v != tc.version {
				t.Errorf("group %s version %d, want %d", tc.id, v, tc.version)
			}
		}
		if got := f.groupsOf(a); len(got) != 0 {
			t.Errorf("GroupsOf(deleted user) = %v, want none", got)
		}
		page := f.listGroups(store.Query{Filter: exact(path("members", "value"), store.Eq, a), Limit: 10})
		if page.Total != 0 {
			t.Errorf("groups with the deleted user as member: %d, want 0", page.Total)
		}
		// A new user with the same id is not a member of anything.
		f.createUsers(f.newUser("a", nil))
		if got := f.groupsOf(a); len(got) != 0 {
			t.Errorf("GroupsOf(re-created user) = %v, want none", got)
		}
	})
}
