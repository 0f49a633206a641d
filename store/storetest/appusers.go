package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
)

// Options are the settings of RunWith.
type Options struct {
	// SeedAppUser stores u in the tenant of s the way the app itself
	// creates users, outside SCIM: for an adapter over the app's own
	// tables, a row written by the app's own code, with none of the
	// adapter's SCIM columns. nil stores, through Tx.CreateUser, a user
	// that is not managed and has the email as its only address, the name
	// as its displayName and no userName: what an app keeps of a user
	// created before SCIM.
	SeedAppUser func(ctx context.Context, s store.Store, tenant string, u AppUser) error
}

// AppUser is a user as an app knows one that SCIM never wrote: an id, an
// email address and a name.
type AppUser struct {
	// ID is the user's id in the app, as the adapter's User returns it.
	ID string
	// Email is the user's one e-mail address, by which linking finds it.
	Email string
	// Name is the user's display name in the app.
	Name string
	// Created is when the app created the user (UTC, microseconds).
	Created time.Time
}

// seedAppUser stores u with opts.SeedAppUser, or as a user without
// userName through CreateUser.
func (f *fixture) seedAppUser(opts Options, u AppUser) {
	f.t.Helper()
	if opts.SeedAppUser != nil {
		if err := opts.SeedAppUser(f.ctx, f.s, f.tenant, u); err != nil {
			f.t.Fatalf("SeedAppUser: %v", err)
		}
		return
	}
	f.createUsers(&store.User{ID: u.ID, Attributes: store.Attributes{
		"displayName": u.Name,
		"emails":      []any{map[string]any{"value": u.Email}},
	}, Meta: store.Meta{Created: u.Created, LastModified: u.Created}})
}

// testAppUsers checks what linking an app user created before SCIM needs
// of a store (Config.Users.LinkExisting in the handler): such a user,
// without a userName, is read as not managed, is found by its email
// address like any user (the handler's lookup when the Reader has no
// store.UnmanagedEmailFinder) and by UnmanagedUserByEmail, and, once an
// update has made it managed under the IdP's userName, is the same user,
// found by that userName and by the address, and counted once. An adapter
// that indexes only the addresses SCIM wrote fails here: the handler would
// create a second user instead of linking.
func testAppUsers(t *testing.T, newStore func(t *testing.T) store.Store, opts Options) {
	f := newFixture(t, newStore)
	const email = "Ann.Lee@Example.com"
	// A managed user sharing the address, created first: the lookup must
	// not stop at it.
	managed := f.newUser("managed", store.Attributes{"emails": []any{map[string]any{"value": "ann.lee@example.com"}}})
	managed.Managed, managed.ManagedBy = true, "idp"
	f.createUsers(managed)
	ann, bob := f.id("ann"), f.id("bob")
	f.seedAppUser(opts, AppUser{ID: ann, Email: email, Name: "Ann Lee", Created: at(1)})
	f.seedAppUser(opts, AppUser{ID: bob, Email: "bob@example.com", Name: "Bob", Created: at(2)})

	byEmail := func(address string) []string {
		t.Helper()
		got := ids(f.listUsers(store.Query{Limit: 10, Filter: store.Compare{
			Path: store.Path{Name: "emails", Sub: "value"}, Op: store.Eq, Value: address}}).Users)
		slices.Sort(got)
		return got
	}
	byValuePath := func(address string) []string {
		t.Helper()
		got := ids(f.listUsers(store.Query{Limit: 10, Filter: store.ValuePath{Path: store.Path{Name: "emails"},
			Filter: store.Compare{Path: store.Path{Name: "value"}, Op: store.Eq, Value: address}}}).Users)
		slices.Sort(got)
		return got
	}
	sorted := func(s ...string) []string { slices.Sort(s); return s }
	finder := func() (string, bool, error) {
		var id string
		var err error
		has := false
		f.view(func(r store.Reader) error {
			fi, ok := r.(store.UnmanagedEmailFinder)
			if !ok {
				return nil
			}
			has = true
			var u store.User
			u, err = fi.UnmanagedUserByEmail(f.ctx, []string{"ANN.LEE@example.com"})
			id = u.ID
			return nil
		})
		return id, has, err
	}

	t.Run("read as not managed", func(t *testing.T) {
		u := f.mustUser(ann)
		if u.ID != ann || u.Managed || u.Linked {
			t.Errorf("User(%q): id %q, managed %v, linked %v; want the user, not managed", ann, u.ID, u.Managed, u.Linked)
		}
		if got := ids(f.listUsers(store.Query{Limit: 10, ManagedOnly: true}).Users); slices.Contains(got, ann) {
			t.Errorf("ManagedOnly lists the app user: %v", got)
		}
		if got := f.listUsers(store.Query{}).Total; got != 3 {
			t.Errorf("users: %d, want 3", got)
		}
	})
	t.Run("found by its email address", func(t *testing.T) {
		if diff := gocmp.Diff(sorted(ann, managed.ID), byEmail("ANN.LEE@example.COM")); diff != "" {
			t.Errorf("users with emails.value eq the address (-want +got):\n%s", diff)
		}
		if diff := gocmp.Diff(sorted(ann, managed.ID), byValuePath("ann.lee@example.com")); diff != "" {
			t.Errorf("users with emails[value eq the address] (-want +got):\n%s", diff)
		}
		if id, has, err := finder(); has && (err != nil || id != ann) {
			t.Errorf("UnmanagedUserByEmail = %q, %v; want %q", id, err, ann)
		}
	})
	t.Run("linked: managed, under the IdP's userName, still one user", func(t *testing.T) {
		f.update(func(tx store.Tx) error {
			u, err := tx.User(f.ctx, ann)
			if err != nil {
				return err
			}
			u.Attributes = store.Attributes{"userName": "ann.lee", "displayName": "Ann Lee", "active": true,
				"emails": []any{map[string]any{"value": email, "type": "work", "primary": true}}}
			u.Managed, u.ManagedBy, u.Linked = true, "idp", true
			u.Meta.LastModified = at(3)
			return tx.UpdateUser(f.ctx, &u)
		})
		u := f.mustUser(ann)
		if !u.Managed || !u.Linked || u.ManagedBy != "idp" || u.UserName() != "ann.lee" {
			t.Errorf("after linking: managed %v, linked %v, by %q, userName %q", u.Managed, u.Linked, u.ManagedBy, u.UserName())
		}
		var byName store.User
		f.view(func(r store.Reader) error {
			var err error
			byName, err = r.UserByUserName(f.ctx, "ANN.LEE")
			return err
		})
		if byName.ID != ann {
			t.Errorf("UserByUserName(ANN.LEE) = %q, want %q", byName.ID, ann)
		}
		if diff := gocmp.Diff(sorted(ann, managed.ID), byEmail(email)); diff != "" {
			t.Errorf("users with the address after linking (-want +got):\n%s", diff)
		}
		if got := ids(f.listUsers(store.Query{Limit: 10, ManagedOnly: true}).Users); !slices.Contains(got, ann) {
			t.Errorf("ManagedOnly after linking: %v, want it to hold %q", got, ann)
		}
		if got := f.listUsers(store.Query{}).Total; got != 3 {
			t.Errorf("users after linking: %d, want 3", got)
		}
		if id, has, err := finder(); has && err == nil {
			t.Errorf("UnmanagedUserByEmail after linking = %q, want ErrNotFound", id)
		}
	})
}
