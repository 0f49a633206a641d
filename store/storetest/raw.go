package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
)

// testRawUser checks store.RawUserReader, for adapters that have it: the
// bytes are json.Marshal's encoding of what User returns, and the rest of
// the user is User's.
func testRawUser(t *testing.T, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore)
	skipWithout[store.RawUserReader](t, f)
	raw := func(r store.Reader, id string) (store.User, []byte, error) {
		return r.(store.RawUserReader).RawUser(f.ctx, id)
	}

	rich := f.newUser("rich", store.Attributes{
		"displayName": "Zoë <Admin> & \"Co\"\u2028",
		"name":        map[string]any{"givenName": "Zoë", "familyName": "O'Brien"},
		"emails": []any{
			map[string]any{"value": "zoe@example.com", "type": "work", "primary": true},
			map[string]any{"value": "z@example.org", "type": "home", "primary": false},
		},
		"active":          true,
		"x-score":         1.5e21,
		"x-small":         0.000001,
		"x-null":          nil,
		"x-empty":         []any{},
		"AUpperCaseFirst": "sorts before lower case",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{
			"department": "R&D", "manager": map[string]any{"value": "boss"},
		},
	})
	rich.Role, rich.Managed, rich.ManagedBy = "admin", true, "okta"
	bare := f.newUser("bare", nil)
	f.createUsers(rich, bare)

	t.Run("the attributes are json.Marshal's bytes of User's, the rest is User's", func(t *testing.T) {
		for _, id := range []string{rich.ID, bare.ID} {
			f.view(func(r store.Reader) error {
				want, err := r.User(f.ctx, id)
				if err != nil {
					return err
				}
				got, b, err := raw(r, id)
				if err != nil {
					return err
				}
				wantJSON, err := json.Marshal(want.Attributes)
				if err != nil {
					return err
				}
				if diff := gocmp.Diff(string(wantJSON), string(b)); diff != "" {
					t.Errorf("RawUser(%s) bytes (-want +got):\n%s", id, diff)
				}
				if got.Attributes != nil {
					t.Errorf("RawUser(%s).Attributes = %v, want nil", id, got.Attributes)
				}
				want.Attributes = nil
				if diff := gocmp.Diff(want, got); diff != "" {
					t.Errorf("RawUser(%s) user (-want +got):\n%s", id, diff)
				}
				return nil
			})
		}
	})

	t.Run("unknown ids and other tenants' users are not found", func(t *testing.T) {
		other := f.otherTenant()
		other.createUsers(other.newUser("theirs", nil))
		for _, id := range []string{"nobody", other.id("theirs")} {
			f.view(func(r store.Reader) error {
				_, _, err := raw(r, id)
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("RawUser(%q) error = %v, want store.ErrNotFound", id, err)
				}
				return nil
			})
		}
	})

	t.Run("bytes handed out survive a change; a transaction sees its own", func(t *testing.T) {
		var before []byte
		f.view(func(r store.Reader) error {
			var err error
			_, before, err = raw(r, bare.ID)
			return err
		})
		kept := string(before)
		changed := f.mustUser(bare.ID)
		changed.Attributes["displayName"] = "Changed"
		var inTx []byte
		f.update(func(tx store.Tx) error {
			if err := tx.UpdateUser(f.ctx, &changed); err != nil {
				return err
			}
			var err error
			_, inTx, err = raw(tx, bare.ID)
			return err
		})
		want, _ := json.Marshal(changed.Attributes)
		if diff := gocmp.Diff(string(want), string(inTx)); diff != "" {
			t.Errorf("RawUser in the updating transaction (-want +got):\n%s", diff)
		}
		if string(before) != kept {
			t.Errorf("bytes handed out before the change became %s, were %s", before, kept)
		}
	})
}

// testRawUserList checks store.RawUserLister, for adapters that have it:
// every page, filtered, sorted or not, is ListUsers' page with the
// attributes as RawUser hands them out.
func testRawUserList(t *testing.T, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore)
	skipWithout[store.RawUserLister](t, f)
	var users []*store.User
	for i := range 7 {
		u := f.newUser(fmt.Sprintf("list%d", i), store.Attributes{
			"displayName": fmt.Sprintf("User <%d> & \"Co\"", i),
			"emails":      []any{map[string]any{"value": fmt.Sprintf("u%d@example.com", i), "primary": true}},
			"active":      i%2 == 0,
			"x-score":     float64(i) * 1.5e20,
		})
		u.Role, u.Managed = "viewer", i != 3
		users = append(users, u)
	}
	users = append(users, f.newUser("listbare", nil))
	f.createUsers(users...)
	active := ci(path("active", ""), store.Eq, true)
	queries := map[string]store.Query{
		"everyone":              {Limit: 100},
		"a page":                {Offset: 2, Limit: 3},
		"past the end":          {Offset: 50, Limit: 10},
		"no users, the total":   {Limit: 0},
		"filtered":              {Filter: active, Limit: 100},
		"sorted, descending":    {SortBy: store.Path{Name: "userName"}, Descending: true, Limit: 5},
		"managed only":          {ManagedOnly: true, Limit: 100},
		"filtered, second page": {Filter: active, Offset: 1, Limit: 2},
	}
	for name, q := range queries {
		t.Run(name, func(t *testing.T) {
			f.view(func(r store.Reader) error {
				want, err := r.ListUsers(f.ctx, q)
				if err != nil {
					return err
				}
				got, raw, err := r.(store.RawUserLister).ListRawUsers(f.ctx, q)
				if err != nil {
					return err
				}
				if len(raw) != len(got.Users) {
					t.Fatalf("ListRawUsers: %d users, %d encodings", len(got.Users), len(raw))
				}
				for i := range got.Users {
					if got.Users[i].Attributes != nil {
						t.Errorf("ListRawUsers user %d: Attributes = %v, want nil", i, got.Users[i].Attributes)
					}
					if i >= len(want.Users) {
						continue
					}
					wantJSON, err := json.Marshal(want.Users[i].Attributes)
					if err != nil {
						return err
					}
					if len(want.Users[i].Attributes) == 0 {
						wantJSON = nil // no attributes: empty or nil
					}
					if len(raw[i]) == 0 {
						raw[i] = nil
					}
					if diff := gocmp.Diff(string(wantJSON), string(raw[i])); diff != "" {
						t.Errorf("ListRawUsers user %d (%s) bytes (-ListUsers +ListRawUsers):\n%s", i, want.Users[i].ID, diff)
					}
					want.Users[i].Attributes = nil
				}
				if diff := gocmp.Diff(want, got); diff != "" {
					t.Errorf("ListRawUsers page (-ListUsers +ListRawUsers):\n%s", diff)
				}
				return nil
			})
		})
	}
}
