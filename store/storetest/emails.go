package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
)

// emailList returns n email elements e<k>@<domain>, k from 0.
func emailList(domain string, n int) []any {
	out := make([]any, n)
	for k := range out {
		out[k] = map[string]any{"value": fmt.Sprintf("e%d@%s", k, domain), "type": "work"}
	}
	return out
}

// emailValues returns the values of emailList(domain, n).
func emailValues(domain string, n int) []string {
	out := make([]string, n)
	for k := range out {
		out[k] = fmt.Sprintf("e%d@%s", k, domain)
	}
	return out
}

// testManyEmails checks that a user's emails have no size limit of the
// adapter's own: a user with 20,000 of them round-trips, is found by any
// of them, and changes all of them in one update. (SQL engines cap the
// parameters of one statement at 32,766 or 65,535; an adapter writing
// one row per email must split its statements.)
func testManyEmails(t *testing.T, newStore func(t *testing.T) store.Store) {
	const n = 20000
	f := newFixture(t, newStore)
	u := f.newUser("many", store.Attributes{"emails": emailList("one.example", n)})
	f.createUsers(u)

	byEmail := func(email string) []string {
		t.Helper()
		return ids(f.listUsers(store.Query{Limit: 10, Filter: store.Compare{
			Path: store.Path{Name: "emails", Sub: "value"}, Op: store.Eq, Value: email}}).Users)
	}
	t.Run("round-trips", func(t *testing.T) {
		got := normUser(f.mustUser(u.ID))
		if diff := gocmp.Diff(normAttrs(u.Attributes), got.Attributes, cmpOpts...); diff != "" {
			t.Errorf("attributes (-want +got):\n%s", diff)
		}
	})
	t.Run("found by its first and last email", func(t *testing.T) {
		for _, e := range []string{"e0@one.example", fmt.Sprintf("E%d@ONE.example", n-1)} {
			if diff := gocmp.Diff([]string{u.ID}, byEmail(e)); diff != "" {
				t.Errorf("users with %s (-want +got):\n%s", e, diff)
			}
		}
	})
	t.Run("an update replaces every email", func(t *testing.T) {
		f.update(func(tx store.Tx) error {
			cur, err := tx.User(f.ctx, u.ID)
			if err != nil {
				return err
			}
			cur.Attributes["emails"] = emailList("two.example", n)
			return tx.UpdateUser(f.ctx, &cur)
		})
		if got := byEmail("e5@one.example"); len(got) != 0 {
			t.Errorf("users with an old email = %v, want none", got)
		}
		if diff := gocmp.Diff([]string{u.ID}, byEmail(fmt.Sprintf("e%d@two.example", n-1))); diff != "" {
			t.Errorf("users with a new email (-want +got):\n%s", diff)
		}
	})
}

// testUnmanagedByEmail checks store.UnmanagedEmailFinder, for adapters
// that have it.
func testUnmanagedByEmail(t *testing.T, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore)
	skipWithout[store.UnmanagedEmailFinder](t, f)
	find := func(f *fixture, emails ...string) (string, error) {
		t.Helper()
		var id string
		err := f.s.View(f.ctx, f.tenant, func(r store.Reader) error {
			u, err := r.(store.UnmanagedEmailFinder).UnmanagedUserByEmail(f.ctx, emails)
			id = u.ID
			return err
		})
		return id, err
	}
	email := func(vals ...any) store.Attributes {
		list := make([]any, len(vals))
		for i, v := range vals {
			if s, ok := v.(string); ok && s != "" && s[0] == '=' {
				list[i] = s[1:] // a bare string element
				continue
			}
			list[i] = map[string]any{"value": v}
		}
		return store.Attributes{"emails": list}
	}
	managed := func(u *store.User) *store.User {
		u.Managed, u.ManagedBy = true, "idp"
		return u
	}
	f.createUsers(
		managed(f.newUser("m1", email("shared@example.com", "m1@example.com"))),
		f.newUser("app1", email("Shared@Example.com", "app1@example.com")),
		f.newUser("app2", email("shared@example.com", "later@example.com")),
		f.newUser("app3", email("=bare@example.com")),
		managed(f.newUser("m2", email("only-managed@example.com"))),
	)
	other := f.otherTenant()
	other.createUsers(other.newUser("elsewhere", email("elsewhere@example.com")))

	tests := []struct {
		name   string
		emails []string
		want   string // name of the user, "" for ErrNotFound
	}{
		{"no emails", nil, ""},
		{"no user has them", []string{"nobody@example.com"}, ""},
		{"only a managed user has it", []string{"only-managed@example.com", "m1@example.com"}, ""},
		{"case-insensitive, the first created of those sharing it, never the managed one", []string{"SHARED@example.COM"}, "app1"},
		{"the earliest email of the list wins", []string{"nobody@example.com", "later@example.com", "app1@example.com"}, "app2"},
		{"a bare string element", []string{"Bare@example.com"}, "app3"},
		{"another tenant's user is not found", []string{"elsewhere@example.com"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := find(f, tt.emails...)
			if tt.want == "" {
				wantErr(t, "UnmanagedUserByEmail", err, store.ErrNotFound)
				return
			}
			wantErr(t, "UnmanagedUserByEmail", err, nil)
			if got != f.id(tt.want) {
				t.Errorf("UnmanagedUserByEmail = %q, want %q", got, f.id(tt.want))
			}
		})
	}
	t.Run("a user that becomes managed is no longer found", func(t *testing.T) {
		f.update(func(tx store.Tx) error {
			u, err := tx.User(f.ctx, f.id("app3"))
			if err != nil {
				return err
			}
			return tx.UpdateUser(f.ctx, managed(&u))
		})
		_, err := find(f, "bare@example.com")
		wantErr(t, "UnmanagedUserByEmail", err, store.ErrNotFound)
	})
	t.Run("two users sharing 5,000 emails", func(t *testing.T) {
		const n = 5000
		f := newFixture(t, newStore)
		emails := emailValues("five.example", n)
		a := managed(f.newUser("a", store.Attributes{"emails": emailList("five.example", n)}))
		b := managed(f.newUser("b", store.Attributes{"emails": emailList("five.example", n)}))
		f.createUsers(a, b)
		_, err := find(f, emails...)
		wantErr(t, "UnmanagedUserByEmail with both managed", err, store.ErrNotFound)
		c := f.newUser("c", email(emails[n-1]))
		f.createUsers(c)
		got, err := find(f, emails...)
		wantErr(t, "UnmanagedUserByEmail", err, nil)
		if got != c.ID {
			t.Errorf("UnmanagedUserByEmail = %q, want %q", got, c.ID)
		}
	})
}

// testContext checks that a store stops when the context of a call ends:
// the call returns the context's error, and an Update whose context ended
// leaves nothing of its writes.
func testContext(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("a read on an ended context returns its error", func(t *testing.T) {
		f := newFixture(t, newStore)
		f.createUsers(f.newUser("u", nil))
		ctx, cancel := context.WithCancel(f.ctx)
		err := f.s.View(ctx, f.tenant, func(r store.Reader) error {
			cancel()
			_, err := r.ListUsers(ctx, store.Query{Limit: 10})
			return err
		})
		wantErr(t, "View", err, context.Canceled)
	})
	t.Run("an Update whose context ends inside fn writes nothing", func(t *testing.T) {
		for _, goOn := range []bool{false, true} {
			t.Run(fmt.Sprintf("fn writes again: %v", goOn), func(t *testing.T) {
				f := newFixture(t, newStore)
				f.createUsers(f.newUser("before", nil))
				want := f.snapshot()
				ctx, cancel := context.WithCancel(f.ctx)
				defer cancel()
				err := f.s.Update(ctx, f.tenant, func(tx store.Tx) error {
					if err := tx.CreateUser(ctx, f.newUser("first", nil)); err != nil {
						return err
					}
					cancel()
					if !goOn {
						return nil // the commit must not happen either
					}
					err := tx.CreateUser(ctx, f.newUser("second", nil))
					if !errors.Is(err, context.Canceled) {
						t.Errorf("CreateUser on an ended context: %v, want %v", err, context.Canceled)
					}
					return err
				})
				wantErr(t, "Update", err, context.Canceled)
				if diff := gocmp.Diff(want, f.snapshot(), cmpOpts...); diff != "" {
					t.Errorf("tenant after the Update (-want +got):\n%s", diff)
				}
			})
		}
	})
}

// testManyMemberIDs checks that membership writes take lists of any
// length: 70,000 ids, of which 1,000 are users and the rest unknown, more
// than a SQL statement may bind (65,535 parameters at most).
func testManyMemberIDs(t *testing.T, newStore func(t *testing.T) store.Store) {
	const users, total = 1000, 70000
	f := newFixture(t, newStore)
	g := f.newGroup("big", nil)
	f.createGroups(g)
	list := make([]*store.User, users)
	for i := range list {
		list[i] = f.newUser(fmt.Sprintf("u%d", i), nil)
	}
	f.createUsers(list...)
	members := make([]store.Member, total)
	ids := make([]string, total)
	for i := range members {
		ids[i] = f.id(fmt.Sprintf("unknown%d", i))
		if i < users {
			ids[i] = list[i].ID
		}
		members[i] = store.Member{Value: ids[i]}
	}
	count := func(c store.MemberChange) [5]int {
		return [5]int{len(c.Added), len(c.Removed), len(c.Unchanged), len(c.NotMembers), len(c.Skipped)}
	}
	// Unknown ids are Skipped by AddMembers and ReplaceMembers; RemoveMembers
	// may report them in NotMembers or Skipped (see the package doc).
	c := f.addMembers(g.ID, at(1), members...)
	if diff := gocmp.Diff([5]int{users, 0, 0, 0, total - users}, count(c)); diff != "" {
		t.Errorf("AddMembers: added, removed, unchanged, not members, skipped (-want +got):\n%s", diff)
	}
	c = f.membership(func(tx store.Tx) (store.MemberChange, error) {
		return tx.ReplaceMembers(f.ctx, g.ID, members, at(2))
	})
	if diff := gocmp.Diff([5]int{0, 0, users, 0, total - users}, count(c)); diff != "" {
		t.Errorf("ReplaceMembers: added, removed, unchanged, not members, skipped (-want +got):\n%s", diff)
	}
	c = f.membership(func(tx store.Tx) (store.MemberChange, error) {
		return tx.RemoveMembers(f.ctx, g.ID, ids, at(3))
	})
	if got := count(c); got[1] != users || got[3]+got[4] != total-users {
		t.Errorf("RemoveMembers: added, removed, unchanged, not members, skipped = %v, want %d removed, %d not members or skipped", got, users, total-users)
	}
	if got := f.members(g.ID); len(got) != 0 {
		t.Errorf("members after removing all: %d, want 0", len(got))
	}
}
