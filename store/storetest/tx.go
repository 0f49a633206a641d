package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
)

// txFixture has users a, b, c, groups G (members a, b) and H (member c).
func txFixture(t *testing.T, newStore func(t *testing.T) store.Store) *fixture {
	f := newFixture(t, newStore)
	f.createUsers(
		f.newUser("a", store.Attributes{"emails": []any{map[string]any{"value": "a@x.com"}}, "externalId": "ea"}),
		f.newUser("b", nil), f.newUser("c", nil))
	f.createGroups(f.newGroup("G", store.Attributes{"externalId": "eg"}), f.newGroup("H", nil))
	f.addMembers(f.id("G"), at(1), store.Member{Value: f.id("a"), Display: "A"}, store.Member{Value: f.id("b")})
	f.addMembers(f.id("H"), at(1), store.Member{Value: f.id("c")})
	return f
}

// txWrites are the writes a rolled-back Update must undo, each alone and
// then all together.
func txWrites(f *fixture) []struct {
	name string
	fn   func(tx store.Tx) error
} {
	ctx := f.ctx
	user := func(tx store.Tx, name string) store.User {
		u, err := tx.User(ctx, f.id(name))
		if err != nil {
			panic(fmt.Sprintf("User(%s): %v", name, err))
		}
		return u
	}
	group := func(tx store.Tx, name string) store.Group {
		g, err := tx.Group(ctx, f.id(name), false)
		if err != nil {
			panic(fmt.Sprintf("Group(%s): %v", name, err))
		}
		return g
	}
	return []struct {
		name string
		fn   func(tx store.Tx) error
	}{
		{"CreateUser", func(tx store.Tx) error { return tx.CreateUser(ctx, f.newUser("new", nil)) }},
		{"UpdateUser", func(tx store.Tx) error {
			u := user(tx, "a")
			u.Attributes = store.Attributes{"userName": "a2", "emails": []any{map[string]any{"value": "a2@x.com"}}, "externalId": "ea2"}
			u.Managed = true
			u.Meta.LastModified = at(9)
			return tx.UpdateUser(ctx, &u)
		}},
		{"DeleteUser", func(tx store.Tx) error { return tx.DeleteUser(ctx, f.id("a")) }},
		{"CreateGroup", func(tx store.Tx) error { return tx.CreateGroup(ctx, f.newGroup("New", nil)) }},
		{"UpdateGroup", func(tx store.Tx) error {
			g := group(tx, "G")
			g.Attributes = store.Attributes{"displayName": "G2", "externalId": "eg2"}
			g.Meta.LastModified = at(9)
			return tx.UpdateGroup(ctx, &g)
		}},
		{"DeleteGroup", func(tx store.Tx) error { return tx.DeleteGroup(ctx, f.id("G")) }},
		{"AddMembers", func(tx store.Tx) error {
			_, err := tx.AddMembers(ctx, f.id("G"), []store.Member{{Value: f.id("c")}}, at(9))
			return err
		}},
		{"RemoveMembers", func(tx store.Tx) error {
			_, err := tx.RemoveMembers(ctx, f.id("G"), []string{f.id("a")}, at(9))
			return err
		}},
		{"ReplaceMembers", func(tx store.Tx) error {
			_, err := tx.ReplaceMembers(ctx, f.id("G"), []store.Member{{Value: f.id("c")}}, at(9))
			return err
		}},
		{"ReplaceMembers with none", func(tx store.Tx) error {
			_, err := tx.ReplaceMembers(ctx, f.id("G"), nil, at(9))
			return err
		}},
		{"everything at once", func(tx store.Tx) error {
			steps := []func() error{
				func() error { return tx.CreateUser(ctx, f.newUser("new", nil)) },
				func() error { return tx.CreateGroup(ctx, f.newGroup("New", nil)) },
				func() error {
					_, err := tx.AddMembers(ctx, f.id("New"), []store.Member{{Value: f.id("new")}, {Value: f.id("a")}}, at(9))
					return err
				},
				func() error {
					u := user(tx, "b")
					u.Attributes = store.Attributes{"userName": "b2"}
					return tx.UpdateUser(ctx, &u)
				},
				func() error {
					_, err := tx.AddMembers(ctx, f.id("H"), []store.Member{{Value: f.id("a")}}, at(9))
					return err
				},
				func() error { return tx.DeleteUser(ctx, f.id("a")) },
				func() error {
					_, err := tx.RemoveMembers(ctx, f.id("H"), []string{f.id("c")}, at(9))
					return err
				},
				func() error { return tx.DeleteGroup(ctx, f.id("G")) },
				func() error {
					// Reuse the freed names inside the same Tx.
					u := f.newUser("a", nil)
					u.ID = f.id("a-again")
					return tx.CreateUser(ctx, u)
				},
				func() error {
					g := f.newGroup("G", nil)
					g.ID = f.id("G-again")
					return tx.CreateGroup(ctx, g)
				},
				func() error {
					g := group(tx, "H")
					g.Attributes = store.Attributes{"displayName": "H2"}
					return tx.UpdateGroup(ctx, &g)
				},
			}
			for i, step := range steps {
				if err := step(); err != nil {
					return fmt.Errorf("step %d: %w", i, err)
				}
			}
			return nil
		}},
	}
}

// checkRolledBack fails unless the tenant holds exactly what it held before
// and its indexes agree: the fixture's names are still taken, new ones free.
func checkRolledBack(t *testing.T, f *fixture, before snapshot) {
	t.Helper()
	if diff := gocmp.Diff(before, f.snapshot(), cmpOpts...); diff != "" {
		t.Errorf("state after the roll-back (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		filter store.Filter
		want   int
	}{
		{ci(path("userName", ""), store.Eq, "a"), 1},
		{ci(path("userName", ""), store.Eq, "a2"), 0},
		{ci(path("userName", ""), store.Eq, "new"), 0},
		{ci(path("emails", "value"), store.Eq, "a@x.com"), 1},
		{ci(path("emails", "value"), store.Eq, "a2@x.com"), 0},
		{exact(path("externalId", ""), store.Eq, "ea"), 1},
		{exact(path("externalId", ""), store.Eq, "ea2"), 0},
	} {
		if got := f.listUsers(store.Query{Filter: tc.filter}).Total; got != tc.want {
			t.Errorf("users matching %+v: %d, want %d", tc.filter, got, tc.want)
		}
	}
	for _, tc := range []struct {
		filter store.Filter
		want   int
	}{
		{ci(path("displayName", ""), store.Eq, "g"), 1},
		{ci(path("displayName", ""), store.Eq, "G2"), 0},
		{ci(path("displayName", ""), store.Eq, "new"), 0},
		{exact(path("externalId", ""), store.Eq, "eg"), 1},
		{exact(path("members", "value"), store.Eq, f.id("a")), 1},
		{exact(path("members", "value"), store.Eq, f.id("c")), 1},
	} {
		if got := f.listGroups(store.Query{Filter: tc.filter}).Total; got != tc.want {
			t.Errorf("groups matching %+v: %d, want %d", tc.filter, got, tc.want)
		}
	}
	// Names that were taken are still taken, names used only by the
	// rolled-back Tx are free.
	dup := f.newUser("A", nil)
	dup.ID = f.id("dup")
	wantErr(t, "CreateUser with a's name", f.s.Update(f.ctx, f.tenant, func(tx store.Tx) error { return tx.CreateUser(f.ctx, dup) }), store.ErrConflict)
	dupG := f.newGroup("g", nil)
	dupG.ID = f.id("dupG")
	wantErr(t, "CreateGroup with G's name", f.s.Update(f.ctx, f.tenant, func(tx store.Tx) error { return tx.CreateGroup(f.ctx, dupG) }), store.ErrConflict)
	f.createUsers(f.newUser("new", nil))
	f.createGroups(f.newGroup("New", nil))
}

func testTx(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("an error rolls back", func(t *testing.T) {
		for _, w := range txWrites(&fixture{}) {
			t.Run(w.name, func(t *testing.T) {
				f := txFixture(t, newStore)
				write := txWrites(f)[indexOf(txWrites(f), w.name)].fn
				before := f.snapshot()
				err := f.s.Update(f.ctx, f.tenant, func(tx store.Tx) error {
					if err := write(tx); err != nil {
						t.Errorf("write: %v", err)
					}
					return errBoom
				})
				if !errors.Is(err, errBoom) {
					t.Errorf("Update returned %v, want fn's error", err)
				}
				checkRolledBack(t, f, before)
			})
		}
	})

	t.Run("a panic rolls back and re-panics", func(t *testing.T) {
		for _, w := range txWrites(&fixture{}) {
			t.Run(w.name, func(t *testing.T) {
				f := txFixture(t, newStore)
				write := txWrites(f)[indexOf(txWrites(f), w.name)].fn
				before := f.snapshot()
				type boom struct{ n int }
				func() {
					defer func() {
						if r := recover(); r != (boom{42}) {
							t.Errorf("recovered %v, want boom{42}", r)
						}
					}()
					_ = f.s.Update(f.ctx, f.tenant, func(tx store.Tx) error {
						if err := write(tx); err != nil {
							t.Errorf("write: %v", err)
						}
						panic(boom{42})
					})
					t.Errorf("Update returned instead of panicking")
				}()
				checkRolledBack(t, f, before)
			})
		}
	})

	t.Run("a commit applies every write", func(t *testing.T) {
		f := txFixture(t, newStore)
		all := txWrites(f)
		f.update(all[indexOf(all, "everything at once")].fn)
		s := f.snapshot()
		var names []string
		for _, u := range s.Users {
			names = append(names, u.UserName())
		}
		want := map[string]bool{"a": true, "b2": true, "c": true, "new": true}
		if len(names) != len(want) {
			t.Errorf("users %q, want %v", names, want)
		}
		for _, n := range names {
			if !want[n] {
				t.Errorf("unexpected user %q", n)
			}
		}
		checkMembers(t, f, f.id("New"), store.Member{Value: f.id("new")})
		checkMembers(t, f, f.id("H"))
		if h := f.mustGroup(f.id("H"), false); h.DisplayName() != "H2" {
			t.Errorf("H displayName %q, want H2", h.DisplayName())
		}
		if got := f.groupsOf(f.id("a")); len(got) != 0 {
			t.Errorf("GroupsOf(deleted a) = %v, want none", got)
		}
	})

	t.Run("reads see the Tx's own writes", func(t *testing.T) {
		f := txFixture(t, newStore)
		ctx := f.ctx
		f.update(func(tx store.Tx) error {
			u := f.newUser("Zed", store.Attributes{"emails": []any{map[string]any{"value": "zed@x.com"}}})
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			if _, err := tx.User(ctx, u.ID); err != nil {
				t.Errorf("User after CreateUser: %v", err)
			}
			if got, err := tx.UserByUserName(ctx, "zed"); err != nil || got.ID != u.ID {
				t.Errorf("UserByUserName after CreateUser: %v, %v", got.ID, err)
			}
			p, err := tx.ListUsers(ctx, store.Query{Filter: ci(path("emails", "value"), store.Eq, "ZED@x.com"), Limit: 10})
			if err != nil || p.Total != 1 {
				t.Errorf("ListUsers by email after CreateUser: Total %d, %v", p.Total, err)
			}
			if _, err := tx.AddMembers(ctx, f.id("H"), []store.Member{{Value: u.ID}}, at(5)); err != nil {
				return err
			}
			g, err := tx.Group(ctx, f.id("H"), true)
			if err != nil || len(g.Members) != 2 || g.Meta.Version != 3 {
				t.Errorf("Group after AddMembers: %d members, version %d, %v; want 2 and 3", len(g.Members), g.Meta.Version, err)
			}
			if refs, err := tx.GroupsOf(ctx, u.ID); err != nil || len(refs) != 1 {
				t.Errorf("GroupsOf after AddMembers: %v, %v", refs, err)
			}
			gp, err := tx.ListGroups(ctx, store.Query{Filter: exact(path("members", "value"), store.Eq, u.ID), Limit: 10})
			if err != nil || gp.Total != 1 {
				t.Errorf("ListGroups by member after AddMembers: Total %d, %v", gp.Total, err)
			}
			if err := tx.DeleteUser(ctx, f.id("b")); err != nil {
				return err
			}
			if _, err := tx.User(ctx, f.id("b")); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("User after DeleteUser: %v, want ErrNotFound", err)
			}
			if p, err := tx.ListUsers(ctx, store.Query{Limit: 10}); err != nil || p.Total != 3 || len(p.Users) != 3 {
				t.Errorf("ListUsers after create and delete: Total %d, %d users, %v; want 3", p.Total, len(p.Users), err)
			}
			return nil
		})
	})

	t.Run("a failed write changes nothing and the Tx goes on", func(t *testing.T) {
		f := txFixture(t, newStore)
		ctx := f.ctx
		f.update(func(tx store.Tx) error {
			dup := f.newUser("A", nil)
			dup.ID = f.id("dup")
			wantErr(t, "CreateUser with a taken name", tx.CreateUser(ctx, dup), store.ErrConflict)
			b, err := tx.User(ctx, f.id("b"))
			if err != nil {
				return err
			}
			stale := b
			stale.Meta.Version = 99
			stale.Attributes = store.Attributes{"userName": "stale"}
			wantErr(t, "UpdateUser with a stale version", tx.UpdateUser(ctx, &stale), store.ErrVersionMismatch)
			taken := b
			taken.Attributes = store.Attributes{"userName": "c"}
			wantErr(t, "UpdateUser to a taken name", tx.UpdateUser(ctx, &taken), store.ErrConflict)
			wantErr(t, "DeleteUser of an unknown id", tx.DeleteUser(ctx, f.id("nobody")), store.ErrNotFound)
			return tx.CreateUser(ctx, f.newUser("fresh", nil))
		})
		if got := f.listUsers(store.Query{Limit: 10}).Total; got != 4 {
			t.Errorf("users = %d, want 4", got)
		}
		b := f.mustUser(f.id("b"))
		if b.UserName() != "b" || b.Meta.Version != 1 {
			t.Errorf("b = %q version %d, want b version 1", b.UserName(), b.Meta.Version)
		}
		if _, err := f.user(f.id("dup")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("User(dup): %v, want ErrNotFound", err)
		}
	})
}

func indexOf(ws []struct {
	name string
	fn   func(tx store.Tx) error
}, name string) int {
	for i, w := range ws {
		if w.name == name {
			return i
		}
	}
	panic("no write " + name)
}

func testTenantIsolation(t *testing.T, newStore func(t *testing.T) store.Store) {
	a := txFixture(t, newStore)
	b := a.otherTenant()
	b.createUsers(b.newUser("b-user", nil))
	b.createGroups(b.newGroup("B group", nil))
	before := a.snapshot()
	ctx := a.ctx
	uA, gA := a.mustUser(a.id("a")), a.mustGroup(a.id("G"), false)

	reads := []struct {
		name string
		fn   func(r store.Reader) error
	}{
		{"User", func(r store.Reader) error { _, err := r.User(ctx, uA.ID); return err }},
		{"UserByUserName", func(r store.Reader) error { _, err := r.UserByUserName(ctx, "a"); return err }},
		{"Group", func(r store.Reader) error { _, err := r.Group(ctx, gA.ID, true); return err }},
	}
	for _, tc := range reads {
		wantErr(t, "tenant B "+tc.name, b.s.View(ctx, b.tenant, tc.fn), store.ErrNotFound)
	}
	writes := []struct {
		name string
		fn   func(tx store.Tx) error
	}{
		{"UpdateUser", func(tx store.Tx) error { u := uA; return tx.UpdateUser(ctx, &u) }},
		{"DeleteUser", func(tx store.Tx) error { return tx.DeleteUser(ctx, uA.ID) }},
		{"UpdateGroup", func(tx store.Tx) error { g := gA; return tx.UpdateGroup(ctx, &g) }},
		{"DeleteGroup", func(tx store.Tx) error { return tx.DeleteGroup(ctx, gA.ID) }},
		{"AddMembers", func(tx store.Tx) error {
			_, err := tx.AddMembers(ctx, gA.ID, []store.Member{{Value: b.id("b-user")}}, at(9))
			return err
		}},
		{"RemoveMembers", func(tx store.Tx) error {
			_, err := tx.RemoveMembers(ctx, gA.ID, []string{uA.ID}, at(9))
			return err
		}},
		{"ReplaceMembers", func(tx store.Tx) error {
			_, err := tx.ReplaceMembers(ctx, gA.ID, nil, at(9))
			return err
		}},
	}
	for _, tc := range writes {
		wantErr(t, "tenant B "+tc.name, b.s.Update(ctx, b.tenant, tc.fn), store.ErrNotFound)
	}

	for _, filter := range []store.Filter{
		nil,
		ci(path("userName", ""), store.Eq, "a"),
		exact(path("id", ""), store.Eq, uA.ID),
		ci(path("emails", "value"), store.Eq, "a@x.com"),
		exact(path("externalId", ""), store.Eq, "ea"),
	} {
		want := 0
		if filter == nil {
			want = 1 // B's own user
		}
		if p := b.listUsers(store.Query{Filter: filter, Limit: 100}); p.Total != want {
			t.Errorf("tenant B ListUsers(%+v): Total %d users %q", filter, p.Total, userNames(p.Users))
		}
	}
	for _, filter := range []store.Filter{
		nil,
		ci(path("displayName", ""), store.Eq, "G"),
		exact(path("id", ""), store.Eq, gA.ID),
		exact(path("externalId", ""), store.Eq, "eg"),
		exact(path("members", "value"), store.Eq, uA.ID),
	} {
		want := 0
		if filter == nil {
			want = 1 // B's own group
		}
		if p := b.listGroups(store.Query{Filter: filter, Limit: 100, WithMembers: true}); p.Total != want {
			t.Errorf("tenant B ListGroups(%+v): Total %d groups %q", filter, p.Total, displayNames(p.Groups))
		}
	}
	if refs := b.groupsOf(uA.ID); len(refs) != 0 {
		t.Errorf("tenant B GroupsOf(A's user) = %v, want none", refs)
	}
	change := b.addMembers(b.id("B group"), at(9), store.Member{Value: uA.ID}, store.Member{Value: b.id("b-user")})
	checkChange(t, "tenant B adding A's user", store.MemberChange{Added: []string{b.id("b-user")}, Skipped: []string{uA.ID}}, change)
	if diff := gocmp.Diff(before, a.snapshot(), cmpOpts...); diff != "" {
		t.Errorf("tenant A changed (-want +got):\n%s", diff)
	}
}

func testConcurrency(t *testing.T, newStore func(t *testing.T) store.Store) {
	const workers, perWorker = 16, 4
	t.Run("writers and readers on one group", func(t *testing.T) {
		f := newFixture(t, newStore)
		g := f.newGroup("Crowd", nil)
		f.createGroups(g)
		var wg sync.WaitGroup
		errs := make(chan error, 2*workers*perWorker)
		for w := range workers {
			wg.Go(func() {
				for i := range perWorker {
					name := fmt.Sprintf("w%02di%d", w, i)
					errs <- f.s.Update(f.ctx, f.tenant, func(tx store.Tx) error {
						u := f.newUser(name, nil)
						if err := tx.CreateUser(f.ctx, u); err != nil {
							return err
						}
						c, err := tx.AddMembers(f.ctx, g.ID, []store.Member{{Value: u.ID, Display: name}}, at(1))
						if err == nil && len(c.Added) != 1 {
							err = fmt.Errorf("AddMembers %s: %+v", name, c)
						}
						return err
					})
					errs <- f.s.View(f.ctx, f.tenant, func(r store.Reader) error {
						if _, err := r.Group(f.ctx, g.ID, true); err != nil {
							return err
						}
						_, err := r.ListUsers(f.ctx, store.Query{Filter: ci(path("userName", ""), store.Sw, "w"), SortBy: path("userName", ""), Limit: 10})
						return err
					})
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		var want []store.Member
		for w := range workers {
			for i := range perWorker {
				name := fmt.Sprintf("w%02di%d", w, i)
				want = append(want, store.Member{Value: f.id(name), Display: name})
			}
		}
		checkMembers(t, f, g.ID, want...)
		if v := f.mustGroup(g.ID, false).Meta.Version; v != 1+workers*perWorker {
			t.Errorf("group version %d, want %d", v, 1+workers*perWorker)
		}
		if total := f.listUsers(store.Query{}).Total; total != workers*perWorker {
			t.Errorf("users %d, want %d", total, workers*perWorker)
		}
	})

	t.Run("one of many creates of one userName wins", func(t *testing.T) {
		f := newFixture(t, newStore)
		var wg sync.WaitGroup
		errs := make([]error, workers)
		for w := range workers {
			wg.Go(func() {
				u := f.newUser(fmt.Sprintf("racer%d", w), store.Attributes{"userName": raceName(w)})
				errs[w] = f.s.Update(f.ctx, f.tenant, func(tx store.Tx) error { return tx.CreateUser(f.ctx, u) })
			})
		}
		wg.Wait()
		wins := 0
		for w, err := range errs {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, store.ErrConflict):
				t.Errorf("worker %d: %v, want nil or ErrConflict", w, err)
			}
		}
		if wins != 1 {
			t.Errorf("%d creates succeeded, want 1", wins)
		}
		if total := f.listUsers(store.Query{Filter: ci(path("userName", ""), store.Eq, "race")}).Total; total != 1 {
			t.Errorf("users named race: %d, want 1", total)
		}
	})
}

// raceName returns one of several spellings of one userName, differing in
// case only.
func raceName(w int) string {
	return [...]string{"race", "RACE", "Race", "rAcE"}[w%4]
}
