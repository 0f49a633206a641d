package storetest

import (
	"errors"
	"slices"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
)

// testUserFields checks the fields of store.User beyond Attributes: Role,
// Managed, ManagedBy and Linked round-trip, and Query.ManagedOnly selects
// on Managed.
func testUserFields(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("create then get, by userName and list round-trip", func(t *testing.T) {
		f := newFixture(t, newStore)
		u := f.newUser("adopted", nil)
		u.Role, u.Managed, u.ManagedBy, u.Linked = "admin", true, "okta-main", true
		plain := f.newUser("plain", nil)
		f.update(func(tx store.Tx) error {
			for _, u := range []*store.User{u, plain} {
				if err := tx.CreateUser(f.ctx, u); err != nil {
					return err
				}
			}
			got, err := tx.User(f.ctx, u.ID)
			if err != nil {
				return err
			}
			checkFields(t, "User inside the Tx", u, got)
			return nil
		})
		for _, want := range []*store.User{u, plain} {
			checkFields(t, "User", want, f.mustUser(want.ID))
			var byName store.User
			f.view(func(r store.Reader) error {
				var err error
				byName, err = r.UserByUserName(f.ctx, want.UserName())
				return err
			})
			checkFields(t, "UserByUserName", want, byName)
			one := f.listUsers(store.Query{Filter: exact(path("id", ""), store.Eq, want.ID), Limit: 10})
			if len(one.Users) != 1 {
				t.Fatalf("ListUsers by id %s: %d users, want 1", want.ID, len(one.Users))
			}
			checkFields(t, "ListUsers by id", want, one.Users[0])
		}
		all := f.listUsers(store.Query{SortBy: path("userName", ""), Limit: 10})
		if len(all.Users) != 2 {
			t.Fatalf("ListUsers: %d users, want 2", len(all.Users))
		}
		checkFields(t, "ListUsers", u, all.Users[0])
		checkFields(t, "ListUsers", plain, all.Users[1])
	})

	t.Run("update replaces every field", func(t *testing.T) {
		f := newFixture(t, newStore)
		u := f.newUser("bob", nil)
		f.createUsers(u)
		steps := []struct {
			name      string
			role      string
			managed   bool
			managedBy string
			linked    bool
		}{
			{"set all", "admin", true, "okta-main", true},
			{"change role and connection", "viewer", true, "entra", true},
			{"clear all", "", false, "", false},
			{"set some", "member", true, "", false},
		}
		for _, s := range steps {
			next := f.mustUser(u.ID)
			next.Role, next.Managed, next.ManagedBy, next.Linked = s.role, s.managed, s.managedBy, s.linked
			f.update(func(tx store.Tx) error { return tx.UpdateUser(f.ctx, &next) })
			checkFields(t, "after "+s.name, &next, f.mustUser(u.ID))
		}
	})

	t.Run("a rolled-back update keeps the fields", func(t *testing.T) {
		f := newFixture(t, newStore)
		u := f.newUser("carol", nil)
		u.Role, u.Managed, u.ManagedBy, u.Linked = "admin", true, "okta-main", true
		f.createUsers(u)
		err := f.s.Update(f.ctx, f.tenant, func(tx store.Tx) error {
			next, err := tx.User(f.ctx, u.ID)
			if err != nil {
				return err
			}
			next.Role, next.Managed, next.ManagedBy, next.Linked = "viewer", false, "", false
			if err := tx.UpdateUser(f.ctx, &next); err != nil {
				return err
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("Update returned %v, want fn's error", err)
		}
		checkFields(t, "after the roll-back", u, f.mustUser(u.ID))
		if p := f.listUsers(store.Query{ManagedOnly: true, Limit: 10}); p.Total != 1 {
			t.Errorf("ManagedOnly after the roll-back: Total %d, want 1", p.Total)
		}
	})

	t.Run("ManagedOnly", func(t *testing.T) { testManagedOnly(t, newStore) })
}

// checkFields compares the fields of store.User beyond Attributes.
func checkFields(t *testing.T, what string, want *store.User, got store.User) {
	t.Helper()
	type fields struct {
		ID, Role, ManagedBy string
		Managed, Linked     bool
	}
	w := fields{want.ID, want.Role, want.ManagedBy, want.Managed, want.Linked}
	g := fields{got.ID, got.Role, got.ManagedBy, got.Managed, got.Linked}
	if diff := gocmp.Diff(w, g); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

func testManagedOnly(t *testing.T, newStore func(t *testing.T) store.Store) {
	// Managed: m1…m5, not managed: p1…p4, interleaved; title eng for p1,
	// m2, m3, m4, m5 and ops for the others.
	f := newFixture(t, newStore)
	var users []*store.User
	for i, name := range []string{"p1", "m1", "m2", "p2", "m3", "p3", "m4", "p4", "m5"} {
		title := "eng"
		if i%2 == 1 {
			title = "ops"
		}
		u := f.newUser(name, store.Attributes{"title": title})
		u.Managed = name[0] == 'm'
		u.Meta.Created = at(i)
		users = append(users, u)
	}
	f.createUsers(users...)
	byName := path("userName", "")
	titleEng := ci(path("title", ""), store.Eq, "eng")
	tests := []struct {
		name  string
		q     store.Query
		want  []string // in order
		total int
	}{
		{"all", store.Query{ManagedOnly: true, SortBy: byName, Limit: 100}, []string{"m1", "m2", "m3", "m4", "m5"}, 5},
		{"without ManagedOnly", store.Query{SortBy: byName, Limit: 100}, []string{"m1", "m2", "m3", "m4", "m5", "p1", "p2", "p3", "p4"}, 9},
		{"total only", store.Query{ManagedOnly: true}, nil, 5},
		{"page", store.Query{ManagedOnly: true, SortBy: byName, Offset: 1, Limit: 2}, []string{"m2", "m3"}, 5},
		{"last page", store.Query{ManagedOnly: true, SortBy: byName, Offset: 4, Limit: 2}, []string{"m5"}, 5},
		{"past the end", store.Query{ManagedOnly: true, SortBy: byName, Offset: 5, Limit: 2}, nil, 5},
		{"descending page", store.Query{ManagedOnly: true, SortBy: byName, Descending: true, Offset: 1, Limit: 3}, []string{"m4", "m3", "m2"}, 5},
		{"sorted by created", store.Query{ManagedOnly: true, SortBy: path("meta", "created"), Limit: 100}, []string{"m1", "m2", "m3", "m4", "m5"}, 5},
		{"scanned filter", store.Query{ManagedOnly: true, Filter: titleEng, SortBy: byName, Limit: 100}, []string{"m2", "m3", "m4", "m5"}, 4},
		{"scanned filter, paged", store.Query{ManagedOnly: true, Filter: titleEng, SortBy: byName, Offset: 1, Limit: 2}, []string{"m3", "m4"}, 4},
		{"scanned filter, unsorted total only", store.Query{ManagedOnly: true, Filter: titleEng}, nil, 4},
		{"scanned filter without ManagedOnly", store.Query{Filter: titleEng, SortBy: byName, Limit: 100}, []string{"m2", "m3", "m4", "m5", "p1"}, 5},
		{"indexed filter on a managed user", store.Query{ManagedOnly: true, Filter: ci(byName, store.Eq, "M3"), Limit: 100}, []string{"m3"}, 1},
		{"indexed filter on another user", store.Query{ManagedOnly: true, Filter: ci(byName, store.Eq, "p3"), Limit: 100}, nil, 0},
		{"or of indexed filters", store.Query{ManagedOnly: true, Filter: or(ci(byName, store.Eq, "p1"), ci(byName, store.Eq, "m1")), Limit: 100}, []string{"m1"}, 1},
		{"not", store.Query{ManagedOnly: true, Filter: not(ci(byName, store.Sw, "m")), Limit: 100}, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := f.listUsers(tc.q)
			if diff := gocmp.Diff(tc.want, userNames(p.Users), cmpOpts...); diff != "" {
				t.Errorf("ListUsers (-want +got):\n%s", diff)
			}
			if p.Total != tc.total {
				t.Errorf("Total = %d, want %d", p.Total, tc.total)
			}
		})
	}
	t.Run("unsorted pages cover the managed users once", func(t *testing.T) {
		var got []string
		for off := 0; off < 10; off += 2 {
			p := f.listUsers(store.Query{ManagedOnly: true, Offset: off, Limit: 2})
			if p.Total != 5 {
				t.Errorf("offset %d: Total = %d, want 5", off, p.Total)
			}
			got = append(got, userNames(p.Users)...)
		}
		slices.Sort(got)
		if diff := gocmp.Diff([]string{"m1", "m2", "m3", "m4", "m5"}, got, cmpOpts...); diff != "" {
			t.Errorf("pages (-want +got):\n%s", diff)
		}
	})

	t.Run("follows updates, deletes and the Tx's own writes", func(t *testing.T) {
		f := newFixture(t, newStore)
		f.createUsers(f.newUser("a", nil), f.newUser("b", nil))
		managed := func(q store.Query) []string {
			q.ManagedOnly, q.SortBy, q.Limit = true, path("userName", ""), 100
			return userNames(f.listUsers(q).Users)
		}
		f.update(func(tx store.Tx) error {
			for _, name := range []string{"a", "b"} {
				u, err := tx.User(f.ctx, f.id(name))
				if err != nil {
					return err
				}
				u.Managed = true
				if err := tx.UpdateUser(f.ctx, &u); err != nil {
					return err
				}
			}
			c := f.newUser("c", nil)
			c.Managed = true
			if err := tx.CreateUser(f.ctx, c); err != nil {
				return err
			}
			p, err := tx.ListUsers(f.ctx, store.Query{ManagedOnly: true, SortBy: path("userName", ""), Limit: 100})
			if err != nil {
				return err
			}
			if diff := gocmp.Diff([]string{"a", "b", "c"}, userNames(p.Users), cmpOpts...); diff != "" {
				t.Errorf("ListUsers inside the Tx (-want +got):\n%s", diff)
			}
			return nil
		})
		if diff := gocmp.Diff([]string{"a", "b", "c"}, managed(store.Query{}), cmpOpts...); diff != "" {
			t.Errorf("after managing a and b (-want +got):\n%s", diff)
		}
		b := f.mustUser(f.id("b"))
		b.Managed = false
		f.update(func(tx store.Tx) error {
			if err := tx.UpdateUser(f.ctx, &b); err != nil {
				return err
			}
			return tx.DeleteUser(f.ctx, f.id("c"))
		})
		if diff := gocmp.Diff([]string{"a"}, managed(store.Query{}), cmpOpts...); diff != "" {
			t.Errorf("after un-managing b and deleting c (-want +got):\n%s", diff)
		}
		if diff := gocmp.Diff([]string(nil), managed(store.Query{Filter: ci(path("userName", ""), store.Eq, "b")}), cmpOpts...); diff != "" {
			t.Errorf("b by userName (-want +got):\n%s", diff)
		}
	})
}
