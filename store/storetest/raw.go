package storetest

import (
	"encoding/json"
	"errors"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
)

// testRawUser checks store.RawUserReader, for adapters that have it: the
// bytes are json.Marshal's encoding of what User returns, and the rest of
// the user is User's.
func testRawUser(t *testing.T, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore)
	supported := false
	f.view(func(r store.Reader) error {
		_, supported = r.(store.RawUserReader)
		return nil
	})
	if !supported {
		t.Skip("the Reader does not implement store.RawUserReader")
	}
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
