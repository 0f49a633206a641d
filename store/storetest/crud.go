package storetest

import (
	"strconv"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
)

const enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// richAttributes exercises every kind of JSON value an attribute holds.
func richAttributes(userName string) store.Attributes {
	return store.Attributes{
		"userName":    userName,
		"externalId":  "ext-" + userName,
		"displayName": "Ünal Şahin",
		"active":      true,
		"name": map[string]any{
			"givenName":  "Ünal",
			"familyName": "Şahin",
			"formatted":  `Ünal "the" Şahin <&>`,
		},
		"emails": []any{
			map[string]any{"value": userName, "type": "work", "primary": true},
			map[string]any{"value": "home@example.org", "type": "home", "primary": false},
		},
		"tags":        []any{"a", "b"},
		"level":       float64(3),
		"ratio":       0.25,
		"nothing":     nil,
		"emptyList":   []any{},
		"emptyObject": map[string]any{},
		enterprise: map[string]any{
			"employeeNumber": "42",
			"costCenter":     float64(7),
			"manager":        map[string]any{"value": "m-1", "displayName": "Boss"},
		},
		"urn:example:custom:2.0:User": map[string]any{"memberRole": "admin", "flags": []any{true, false}},
	}
}

func testUsers(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("create then get round-trips every field", func(t *testing.T) {
		f := newFixture(t, newStore)
		u := &store.User{
			ID:         f.id("u"),
			Attributes: richAttributes("una@example.com"),
			Managed:    true,
			Meta:       store.Meta{Created: at(1), LastModified: at(2), Version: 7},
		}
		f.update(func(tx store.Tx) error { return tx.CreateUser(f.ctx, u) })
		if u.Meta.Version != 1 {
			t.Errorf("after CreateUser u.Meta.Version = %d, want 1", u.Meta.Version)
		}
		want := store.User{
			ID:         f.id("u"),
			Attributes: richAttributes("una@example.com"),
			Managed:    true,
			Meta:       store.Meta{Created: at(1), LastModified: at(2), Version: 1},
		}
		got := f.mustUser(f.id("u"))
		if diff := gocmp.Diff(want, normUser(got), cmpOpts...); diff != "" {
			t.Errorf("User (-want +got):\n%s", diff)
		}
		var byName store.User
		f.view(func(r store.Reader) error {
			var err error
			byName, err = r.UserByUserName(f.ctx, "una@example.com")
			return err
		})
		if diff := gocmp.Diff(want, normUser(byName), cmpOpts...); diff != "" {
			t.Errorf("UserByUserName (-want +got):\n%s", diff)
		}
	})

	t.Run("managed false round-trips", func(t *testing.T) {
		f := newFixture(t, newStore)
		f.createUsers(f.newUser("plain", nil))
		if got := f.mustUser(f.id("plain")); got.Managed {
			t.Errorf("Managed = true, want false")
		}
	})

	t.Run("update replaces attributes, bumps version, keeps created", func(t *testing.T) {
		f := newFixture(t, newStore)
		u := f.newUser("bob", store.Attributes{"title": "Engineer", "active": true})
		u.Meta.Created, u.Meta.LastModified = at(1), at(1)
		f.createUsers(u)

		for i, title := range []string{"Manager", "Director"} {
			next := store.User{
				ID:         u.ID,
				Attributes: store.Attributes{"userName": "bob", "title": title},
				Managed:    true,
				Meta:       store.Meta{Created: at(100), LastModified: at(10 + i), Version: int64(1 + i)},
			}
			f.update(func(tx store.Tx) error { return tx.UpdateUser(f.ctx, &next) })
			if want := int64(2 + i); next.Meta.Version != want {
				t.Errorf("after update %d u.Meta.Version = %d, want %d", i+1, next.Meta.Version, want)
			}
			want := store.User{
				ID:         u.ID,
				Attributes: store.Attributes{"userName": "bob", "title": title},
				Managed:    true,
				Meta:       store.Meta{Created: at(1), LastModified: at(10 + i), Version: int64(2 + i)},
			}
			if diff := gocmp.Diff(want, normUser(f.mustUser(u.ID)), cmpOpts...); diff != "" {
				t.Errorf("after update %d (-want +got):\n%s", i+1, diff)
			}
		}
	})

	t.Run("update with a stale version fails and changes nothing", func(t *testing.T) {
		f := newFixture(t, newStore)
		u := f.newUser("carol", store.Attributes{"title": "A"})
		f.createUsers(u)
		before := f.mustUser(u.ID)
		for _, v := range []int64{0, 2, -1} {
			stale := store.User{ID: u.ID, Attributes: store.Attributes{"userName": "carol", "title": "B"}, Meta: store.Meta{Version: v, LastModified: at(5)}}
			err := f.s.Update(f.ctx, f.tenant, func(tx store.Tx) error { return tx.UpdateUser(f.ctx, &stale) })
			wantErr(t, "UpdateUser with version "+strconv.FormatInt(v, 10), err, store.ErrVersionMismatch)
		}
		if diff := gocmp.Diff(normUser(before), normUser(f.mustUser(u.ID)), cmpOpts...); diff != "" {
			t.Errorf("user changed (-want +got):\n%s", diff)
		}
	})

	t.Run("delete removes the user and frees its userName", func(t *testing.T) {
		f := newFixture(t, newStore)
		f.createUsers(f.newUser("dave", nil), f.newUser("erin", nil))
		f.update(func(tx store.Tx) error { return tx.DeleteUser(f.ctx, f.id("dave")) })
		_, err := f.user(f.id("dave"))
		wantErr(t, "User after delete", err, store.ErrNotFound)
		if got, want := userNames(f.listUsers(store.Query{Limit: 10}).Users), []string{"erin"}; !equalStrings(got, want) {
			t.Errorf("ListUsers after delete = %q, want %q", got, want)
		}
		again := f.newUser("dave", nil)
		again.ID = f.id("dave2")
		f.createUsers(again)
	})

	t.Run("UserByUserName ignores case", func(t *testing.T) {
		f := newFixture(t, newStore)
		f.createUsers(f.newUser("Alice@Example.COM", nil), f.newUser("ÉLODIE", nil), f.newUser("alicia", nil),
			f.newUser("SAM@x.com", nil), f.newUser("ΣΟΦΊΑ", nil))
		for _, tc := range []struct{ query, want string }{
			{"alice@example.com", "Alice@Example.COM"},
			{"ALICE@EXAMPLE.COM", "Alice@Example.COM"},
			{"Alice@Example.COM", "Alice@Example.COM"},
			{"élodie", "ÉLODIE"},
			{"Élodie", "ÉLODIE"},
			// store.Fold: the long s folds with s, final sigma with sigma.
			{"ſam@x.com", "SAM@x.com"},
			{"σοφία", "ΣΟΦΊΑ"},
			{"ςοφία", "ΣΟΦΊΑ"},
		} {
			var got store.User
			f.view(func(r store.Reader) error {
				var err error
				got, err = r.UserByUserName(f.ctx, tc.query)
				return err
			})
			if got.UserName() != tc.want || got.ID != f.id(tc.want) {
				t.Errorf("UserByUserName(%q) = %q (id %q), want %q", tc.query, got.UserName(), got.ID, tc.want)
			}
		}
		for _, q := range []string{"alice", "alice@example.co", "elodie", ""} {
			err := f.s.View(f.ctx, f.tenant, func(r store.Reader) error {
				_, err := r.UserByUserName(f.ctx, q)
				return err
			})
			wantErr(t, "UserByUserName("+q+")", err, store.ErrNotFound)
		}
	})
}

func testGroups(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("create then get round-trips, ignoring Members", func(t *testing.T) {
		f := newFixture(t, newStore)
		f.createUsers(f.newUser("a", nil))
		g := &store.Group{
			ID:         f.id("g"),
			Attributes: store.Attributes{"displayName": "Engineering", "externalId": "okta-1", "urn:example:custom:2.0:Group": map[string]any{"project": "x"}},
			Members:    []store.Member{{Value: f.id("a"), Display: "a"}},
			Meta:       store.Meta{Created: at(1), LastModified: at(2), Version: 9},
		}
		f.update(func(tx store.Tx) error { return tx.CreateGroup(f.ctx, g) })
		if g.Meta.Version != 1 {
			t.Errorf("after CreateGroup g.Meta.Version = %d, want 1", g.Meta.Version)
		}
		want := store.Group{
			ID:         f.id("g"),
			Attributes: store.Attributes{"displayName": "Engineering", "externalId": "okta-1", "urn:example:custom:2.0:Group": map[string]any{"project": "x"}},
			Meta:       store.Meta{Created: at(1), LastModified: at(2), Version: 1},
		}
		got := f.mustGroup(g.ID, false)
		if got.Members != nil {
			t.Errorf("Group(withMembers=false).Members = %v, want nil", got.Members)
		}
		if diff := gocmp.Diff(want, normGroup(got), cmpOpts...); diff != "" {
			t.Errorf("Group (-want +got):\n%s", diff)
		}
		if got := f.mustGroup(g.ID, true); len(got.Members) != 0 {
			t.Errorf("Group(withMembers=true).Members = %v, want none (CreateGroup ignores Members)", got.Members)
		}
	})

	t.Run("update replaces attributes, bumps version, keeps created and members", func(t *testing.T) {
		f := newFixture(t, newStore)
		f.createUsers(f.newUser("a", nil))
		g := f.newGroup("Sales", store.Attributes{"externalId": "x"})
		g.Meta.Created = at(1)
		f.createGroups(g)
		f.addMembers(g.ID, at(2), store.Member{Value: f.id("a"), Display: "A"})
		next := store.Group{
			ID:         g.ID,
			Attributes: store.Attributes{"displayName": "Revenue"},
			Members:    []store.Member{}, // ignored
			Meta:       store.Meta{Created: at(50), LastModified: at(3), Version: 2},
		}
		f.update(func(tx store.Tx) error { return tx.UpdateGroup(f.ctx, &next) })
		if next.Meta.Version != 3 {
			t.Errorf("after UpdateGroup g.Meta.Version = %d, want 3", next.Meta.Version)
		}
		want := store.Group{
			ID:         g.ID,
			Attributes: store.Attributes{"displayName": "Revenue"},
			Members:    []store.Member{{Value: f.id("a"), Display: "A"}},
			Meta:       store.Meta{Created: at(1), LastModified: at(3), Version: 3},
		}
		if diff := gocmp.Diff(want, normGroup(f.mustGroup(g.ID, true)), cmpOpts...); diff != "" {
			t.Errorf("Group (-want +got):\n%s", diff)
		}

		stale := next
		stale.Meta.Version = 2
		err := f.s.Update(f.ctx, f.tenant, func(tx store.Tx) error { return tx.UpdateGroup(f.ctx, &stale) })
		wantErr(t, "UpdateGroup with a stale version", err, store.ErrVersionMismatch)
	})

	t.Run("delete removes the group and keeps its users", func(t *testing.T) {
		f := newFixture(t, newStore)
		f.createUsers(f.newUser("a", nil), f.newUser("b", nil))
		f.createGroups(f.newGroup("G", nil), f.newGroup("H", nil))
		f.addMembers(f.id("G"), at(1), store.Member{Value: f.id("a")}, store.Member{Value: f.id("b")})
		f.addMembers(f.id("H"), at(1), store.Member{Value: f.id("a")})
		f.update(func(tx store.Tx) error { return tx.DeleteGroup(f.ctx, f.id("G")) })
		_, err := f.group(f.id("G"), false)
		wantErr(t, "Group after delete", err, store.ErrNotFound)
		for _, name := range []string{"a", "b"} {
			f.mustUser(f.id(name))
		}
		if diff := gocmp.Diff([]store.GroupRef{{ID: f.id("H"), DisplayName: "H"}}, f.groupsOf(f.id("a")), cmpOpts...); diff != "" {
			t.Errorf("GroupsOf(a) (-want +got):\n%s", diff)
		}
		if got := f.groupsOf(f.id("b")); len(got) != 0 {
			t.Errorf("GroupsOf(b) = %v, want none", got)
		}
		// The displayName is free again.
		again := f.newGroup("G", nil)
		again.ID = f.id("G2")
		f.createGroups(again)
	})
}

func testUniqueness(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("userName", func(t *testing.T) {
		f := newFixture(t, newStore)
		f.createUsers(f.newUser("Alice@Example.com", nil), f.newUser("Ünal", nil), f.newUser("bob", nil))
		for _, tc := range []struct {
			name, userName string
			want           error
		}{
			{"same name conflicts", "Alice@Example.com", store.ErrConflict},
			{"other case conflicts", "alice@EXAMPLE.COM", store.ErrConflict},
			{"other non-ASCII case conflicts", "üNAL", store.ErrConflict},
			{"other name is fine", "Alice@Example.co", nil},
		} {
			u := f.newUser(tc.userName, nil)
			u.ID = f.id("new-" + tc.name)
			err := f.s.Update(f.ctx, f.tenant, func(tx store.Tx) error { return tx.CreateUser(f.ctx, u) })
			wantErr(t, "CreateUser "+tc.name, err, tc.want)
		}

		bob := f.mustUser(f.id("bob"))
		for _, tc := range []struct {
			name, userName string
			want           error
		}{
			{"rename to a taken name conflicts", "ALICE@example.com", store.ErrConflict},
			{"rename to own name in other case is fine", "BOB", nil},
			{"rename to a free name is fine", "robert", nil},
		} {
			bob.Attributes = store.Attributes{"userName": tc.userName}
			err := f.s.Update(f.ctx, f.tenant, func(tx store.Tx) error { return tx.UpdateUser(f.ctx, &bob) })
			wantErr(t, "UpdateUser "+tc.name, err, tc.want)
		}
		if u := f.mustUser(f.id("bob")); u.UserName() != "robert" {
			t.Errorf("bob's userName = %q, want robert", u.UserName())
		}
		// The old names are free, the new one is taken.
		free := f.newUser("bob", nil)
		free.ID = f.id("bob-again")
		f.createUsers(free)
		taken := f.newUser("Robert", nil)
		err := f.s.Update(f.ctx, f.tenant, func(tx store.Tx) error { return tx.CreateUser(f.ctx, taken) })
		wantErr(t, "CreateUser with bob's new name", err, store.ErrConflict)

		other := f.otherTenant()
		other.createUsers(other.newUser("alice@example.com", nil))
	})

	t.Run("displayName", func(t *testing.T) {
		f := newFixture(t, newStore)
		f.createGroups(f.newGroup("Engineering", nil), f.newGroup("Sales", nil))
		for _, tc := range []struct {
			name, displayName string
			want              error
		}{
			{"same name conflicts", "Engineering", store.ErrConflict},
			{"other case conflicts", "ENGINEERING", store.ErrConflict},
			{"other name is fine", "Engineering 2", nil},
		} {
			g := f.newGroup(tc.displayName, nil)
			g.ID = f.id("new-" + tc.name)
			err := f.s.Update(f.ctx, f.tenant, func(tx store.Tx) error { return tx.CreateGroup(f.ctx, g) })
			wantErr(t, "CreateGroup "+tc.name, err, tc.want)
		}
		sales := f.mustGroup(f.id("Sales"), false)
		for _, tc := range []struct {
			name, displayName string
			want              error
		}{
			{"rename to a taken name conflicts", "engineering", store.ErrConflict},
			{"rename to own name in other case is fine", "SALES", nil},
		} {
			sales.Attributes = store.Attributes{"displayName": tc.displayName}
			err := f.s.Update(f.ctx, f.tenant, func(tx store.Tx) error { return tx.UpdateGroup(f.ctx, &sales) })
			wantErr(t, "UpdateGroup "+tc.name, err, tc.want)
		}
		other := f.otherTenant()
		other.createGroups(other.newGroup("engineering", nil))
	})

	t.Run("ids", func(t *testing.T) {
		f := newFixture(t, newStore)
		f.createUsers(f.newUser("a", nil))
		f.createGroups(f.newGroup("g", nil))
		dupUser := f.newUser("other", nil)
		dupUser.ID = f.id("a")
		err := f.s.Update(f.ctx, f.tenant, func(tx store.Tx) error { return tx.CreateUser(f.ctx, dupUser) })
		wantErr(t, "CreateUser with a taken id", err, store.ErrConflict)
		dupGroup := f.newGroup("other", nil)
		dupGroup.ID = f.id("g")
		err = f.s.Update(f.ctx, f.tenant, func(tx store.Tx) error { return tx.CreateGroup(f.ctx, dupGroup) })
		wantErr(t, "CreateGroup with a taken id", err, store.ErrConflict)
		if got := f.listUsers(store.Query{Limit: 10}).Total; got != 1 {
			t.Errorf("users after conflicts = %d, want 1", got)
		}
		if got := f.listGroups(store.Query{Limit: 10}).Total; got != 1 {
			t.Errorf("groups after conflicts = %d, want 1", got)
		}
	})
}

func testNotFound(t *testing.T, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore)
	f.createUsers(f.newUser("a", nil))
	f.createGroups(f.newGroup("g", nil))
	missing := f.id("missing")
	u := store.User{ID: missing, Attributes: store.Attributes{"userName": "missing"}, Meta: store.Meta{Version: 1}}
	g := store.Group{ID: missing, Attributes: store.Attributes{"displayName": "missing"}, Meta: store.Meta{Version: 1}}
	reads := []struct {
		name string
		fn   func(r store.Reader) error
	}{
		{"User", func(r store.Reader) error { _, err := r.User(f.ctx, missing); return err }},
		{"UserByUserName", func(r store.Reader) error { _, err := r.UserByUserName(f.ctx, "missing"); return err }},
		{"Group", func(r store.Reader) error { _, err := r.Group(f.ctx, missing, false); return err }},
		{"Group with members", func(r store.Reader) error { _, err := r.Group(f.ctx, missing, true); return err }},
	}
	for _, tc := range reads {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, tc.name, f.s.View(f.ctx, f.tenant, tc.fn), store.ErrNotFound)
		})
	}
	writes := []struct {
		name string
		fn   func(tx store.Tx) error
	}{
		{"UpdateUser", func(tx store.Tx) error { return tx.UpdateUser(f.ctx, &u) }},
		{"DeleteUser", func(tx store.Tx) error { return tx.DeleteUser(f.ctx, missing) }},
		{"UpdateGroup", func(tx store.Tx) error { return tx.UpdateGroup(f.ctx, &g) }},
		{"DeleteGroup", func(tx store.Tx) error { return tx.DeleteGroup(f.ctx, missing) }},
		{"AddMembers", func(tx store.Tx) error {
			_, err := tx.AddMembers(f.ctx, missing, []store.Member{{Value: f.id("a")}}, at(1))
			return err
		}},
		{"RemoveMembers", func(tx store.Tx) error {
			_, err := tx.RemoveMembers(f.ctx, missing, []string{f.id("a")}, at(1))
			return err
		}},
		{"ReplaceMembers", func(tx store.Tx) error {
			_, err := tx.ReplaceMembers(f.ctx, missing, []store.Member{{Value: f.id("a")}}, at(1))
			return err
		}},
	}
	for _, tc := range writes {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, tc.name, f.s.Update(f.ctx, f.tenant, tc.fn), store.ErrNotFound)
		})
	}
	t.Run("GroupsOf an unknown user is empty", func(t *testing.T) {
		var refs []store.GroupRef
		f.view(func(r store.Reader) error {
			var err error
			refs, err = r.GroupsOf(f.ctx, missing)
			return err
		})
		if len(refs) != 0 {
			t.Errorf("GroupsOf(unknown) = %v, want empty", refs)
		}
	})
	t.Run("an empty tenant has nothing", func(t *testing.T) {
		e := f.otherTenant()
		if p := e.listUsers(store.Query{Limit: 10}); p.Total != 0 || len(p.Users) != 0 {
			t.Errorf("ListUsers = %+v, want empty", p)
		}
		if p := e.listGroups(store.Query{Limit: 10}); p.Total != 0 || len(p.Groups) != 0 {
			t.Errorf("ListGroups = %+v, want empty", p)
		}
	})
}

func equalStrings(a, b []string) bool {
	return gocmp.Equal(a, b, cmpOpts...)
}
