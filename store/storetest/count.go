package storetest

import (
	"fmt"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
)

// testMemberCounts checks store.MemberCounter, for adapters that have it.
func testMemberCounts(t *testing.T, newStore func(t *testing.T) store.Store) {
	f, g := memberFixture(t, newStore)
	skipWithout[store.MemberCounter](t, f)
	counts := func(f *fixture, ids ...string) map[string]int {
		t.Helper()
		var out map[string]int
		f.view(func(r store.Reader) error {
			var err error
			out, err = r.(store.MemberCounter).MemberCounts(f.ctx, ids)
			return err
		})
		return out
	}
	empty := f.newGroup("E", nil)
	f.createGroups(empty)
	f.addMembers(g, at(1), store.Member{Value: f.id("a")}, store.Member{Value: f.id("b")}, store.Member{Value: f.id("c")})
	other := f.otherTenant()
	other.createGroups(other.newGroup("G", nil))

	t.Run("counts members, 0 for an empty group, unknown ids absent", func(t *testing.T) {
		got := counts(f, g, empty.ID, "nobody", other.id("G"))
		want := map[string]int{g: 3, empty.ID: 0}
		if diff := gocmp.Diff(want, got); diff != "" {
			t.Errorf("MemberCounts (-want +got):\n%s", diff)
		}
	})
	t.Run("follows removals and deletions of users", func(t *testing.T) {
		f.update(func(tx store.Tx) error {
			if _, err := tx.RemoveMembers(f.ctx, g, []string{f.id("a")}, at(2)); err != nil {
				return err
			}
			return tx.DeleteUser(f.ctx, f.id("b"))
		})
		if got := counts(f, g)[g]; got != 1 {
			t.Errorf("MemberCounts = %d, want 1", got)
		}
	})
	t.Run("no ids, no counts", func(t *testing.T) {
		if got := counts(f); len(got) != 0 {
			t.Errorf("MemberCounts() = %v, want empty", got)
		}
	})
	t.Run("more ids than one statement takes", func(t *testing.T) {
		ids := make([]string, 0, 1200)
		for i := range 1200 {
			ids = append(ids, fmt.Sprintf("missing-%d", i))
		}
		ids = append(ids, g)
		if got := counts(f, ids...); len(got) != 1 || got[g] != 1 {
			t.Errorf("MemberCounts = %v, want only %s: 1", got, g)
		}
	})
}
