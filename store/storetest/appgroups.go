package storetest

import (
	"errors"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
)

// testAppOwned checks that Group.AppOwned is stored by CreateGroup, read
// back by Group and ListGroups, and left as stored by UpdateGroup.
func testAppOwned(t *testing.T, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore)
	app := f.newGroup("Statsig-Sample-Admin", nil)
	app.AppOwned = true
	pushed := f.newGroup("Pushed", nil)
	f.createGroups(app, pushed)

	owned := func() map[string]bool {
		out := map[string]bool{}
		for _, g := range f.listGroups(store.Query{Limit: 10}).Groups {
			out[g.ID] = g.AppOwned
		}
		return out
	}
	want := map[string]bool{app.ID: true, pushed.ID: false}
	if diff := gocmp.Diff(want, owned()); diff != "" {
		t.Errorf("ListGroups AppOwned (-want +got):\n%s", diff)
	}
	for id, w := range want {
		for _, withMembers := range []bool{false, true} {
			if got := f.mustGroup(id, withMembers).AppOwned; got != w {
				t.Errorf("Group(%s, withMembers=%v).AppOwned = %v, want %v", id, withMembers, got, w)
			}
		}
	}
	// UpdateGroup ignores the flag it is given.
	f.update(func(tx store.Tx) error {
		for _, id := range []string{app.ID, pushed.ID} {
			g, err := tx.Group(f.ctx, id, false)
			if err != nil {
				return err
			}
			g.AppOwned = !g.AppOwned
			g.Attributes["displayName"] = g.DisplayName() + " renamed"
			if err := tx.UpdateGroup(f.ctx, &g); err != nil {
				return err
			}
		}
		return nil
	})
	if diff := gocmp.Diff(want, owned()); diff != "" {
		t.Errorf("AppOwned after UpdateGroup (-want +got):\n%s", diff)
	}
}

// leftGroups reads the groups remembered for userID in an Update.
func (f *fixture) leftGroups(userID string) []string {
	f.t.Helper()
	var out []string
	f.update(func(tx store.Tx) error {
		var err error
		out, err = tx.(store.LeftGroupsRecorder).LeftGroups(f.ctx, userID)
		return err
	})
	return out
}

// recordLeft records groupIDs for userID in an Update of its own.
func (f *fixture) recordLeft(userID string, groupIDs ...string) {
	f.t.Helper()
	f.update(func(tx store.Tx) error {
		return tx.(store.LeftGroupsRecorder).RecordLeftGroups(f.ctx, userID, groupIDs)
	})
}

func testLeftGroups(t *testing.T, newStore func(t *testing.T) store.Store) {
	if !txImplements[store.LeftGroupsRecorder](newFixture(t, newStore)) {
		t.Skip("the store's Tx does not implement store.LeftGroupsRecorder (optional): no left groups to test")
	}
	check := func(t *testing.T, f *fixture, userID string, want []string) {
		t.Helper()
		got := f.leftGroups(userID)
		if got == nil {
			t.Errorf("LeftGroups(%s) = nil, want an empty slice or ids", userID)
		}
		if diff := gocmp.Diff(want, got, cmpOpts...); diff != "" {
			t.Errorf("LeftGroups(%s) (-want +got):\n%s", userID, diff)
		}
	}

	t.Run("recorded sorted, replaced, forgotten with an empty list", func(t *testing.T) {
		f := newFixture(t, newStore)
		f.createUsers(f.newUser("a", nil), f.newUser("b", nil))
		a, b := f.id("a"), f.id("b")
		check(t, f, a, []string{})
		f.recordLeft(a, "g3", "g1", "g2", "g1")
		check(t, f, a, []string{"g1", "g2", "g3"})
		check(t, f, b, []string{})
		f.recordLeft(a, "g9")
		check(t, f, a, []string{"g9"})
		f.recordLeft(a)
		check(t, f, a, []string{})
	})

	t.Run("rolled back with its Update", func(t *testing.T) {
		f := newFixture(t, newStore)
		f.createUsers(f.newUser("a", nil))
		a := f.id("a")
		f.recordLeft(a, "g1")
		err := f.s.Update(f.ctx, f.tenant, func(tx store.Tx) error {
			if err := tx.(store.LeftGroupsRecorder).RecordLeftGroups(f.ctx, a, []string{"g2"}); err != nil {
				return err
			}
			got, err := tx.(store.LeftGroupsRecorder).LeftGroups(f.ctx, a)
			if err != nil {
				return err
			}
			if diff := gocmp.Diff([]string{"g2"}, got); diff != "" {
				t.Errorf("LeftGroups inside the Tx (-want +got):\n%s", diff)
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("Update = %v, want errBoom", err)
		}
		check(t, f, a, []string{"g1"})
	})

	t.Run("DeleteUser forgets them", func(t *testing.T) {
		f := newFixture(t, newStore)
		f.createUsers(f.newUser("a", nil))
		a := f.id("a")
		f.recordLeft(a, "g1", "g2")
		f.update(func(tx store.Tx) error { return tx.DeleteUser(f.ctx, a) })
		check(t, f, a, []string{})
		// A new user with the same id starts with none.
		f.createUsers(f.newUser("a", nil))
		check(t, f, a, []string{})
	})

	t.Run("kept per tenant", func(t *testing.T) {
		f := newFixture(t, newStore)
		other := f.otherTenant()
		f.createUsers(f.newUser("a", nil))
		a := f.id("a")
		f.recordLeft(a, "g1")
		other.createUsers(&store.User{ID: a, Attributes: store.Attributes{"userName": "a"}})
		check(t, other, a, []string{})
		other.recordLeft(a, "g7")
		check(t, f, a, []string{"g1"})
		check(t, other, a, []string{"g7"})
	})
}
