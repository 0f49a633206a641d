package scim_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
	"github.com/scimkit/scim/store/memory"
)

// decodedOnly is a store whose Readers lack store.RawUserReader: the
// handler decodes the attributes and renders them as maps.
type decodedOnly struct{ store.Store }

func (s decodedOnly) View(ctx context.Context, tenant string, fn func(store.Reader) error) error {
	return s.Store.View(ctx, tenant, func(r store.Reader) error { return fn(plainReader{r}) })
}

// plainReader has only the methods of store.Reader.
type plainReader struct{ store.Reader }

// skewedRaw hands out the attributes in another form than the contract's
// (indented, so not compact): the handler must notice and decode them.
type skewedRaw struct{ store.Store }

func (s skewedRaw) View(ctx context.Context, tenant string, fn func(store.Reader) error) error {
	return s.Store.View(ctx, tenant, func(r store.Reader) error { return fn(skewedReader{r}) })
}

type skewedReader struct{ store.Reader }

func (r skewedReader) ListRawUsers(ctx context.Context, q store.Query) (store.UserPage, [][]byte, error) {
	page, err := r.ListUsers(ctx, q)
	if err != nil {
		return page, nil, err
	}
	raw := make([][]byte, len(page.Users))
	for i := range page.Users {
		if raw[i], err = json.MarshalIndent(page.Users[i].Attributes, "", "  "); err != nil {
			return page, nil, err
		}
		page.Users[i].Attributes = nil
	}
	return page, raw, nil
}

func (r skewedReader) RawUser(ctx context.Context, id string) (store.User, []byte, error) {
	u, err := r.User(ctx, id)
	if err != nil {
		return u, nil, err
	}
	b, err := json.MarshalIndent(u.Attributes, "", "  ")
	u.Attributes = nil
	return u, b, err
}

// TestGetUserFromEncodedAttributes checks that GET /Users/{id} answers the
// same bytes whether the store hands out the attributes encoded (copied into
// the response), decoded, or encoded in an unexpected form (decoded after
// all), under every kind of role policy.
func TestGetUserFromEncodedAttributes(t *testing.T) {
	policies := map[string]scim.RolePolicy{
		"none":                    {},
		"attribute and extension": demoPolicy,
		"roles":                   {Attribute: "roles", Values: []string{"viewer", "admin"}, Default: "viewer"},
		"roles and extension": {Attribute: "roles", Values: []string{"viewer", "admin"}, Default: "viewer",
			ExtensionURN: demoPolicy.ExtensionURN},
		"attribute only": {Attribute: "seatType", Values: []string{"Employee", "Contractor"}, Default: "Employee"},
		// The role sorts before "managed" in the extension, and needs escaping.
		"attribute before managed": {Attribute: "accessLevel", Values: []string{"R&D <all>", "basic"}, Default: "R&D <all>",
			ExtensionURN: demoPolicy.ExtensionURN},
	}
	users := map[string]string{
		"okta": `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"okta@example.com",
			"name":{"givenName":"Ada","familyName":"Lovelace"},"emails":[{"primary":true,"value":"okta@example.com","type":"work"}],
			"displayName":"Ada <Lovelace> & Co","locale":"en-US","externalId":"00u1","active":true,"password":"x","groups":[]}`,
		"enterprise": `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
			"userName":"ent@example.com","active":true,"roles":[{"value":"admin","primary":true}],"userType":"Contractor",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D","employeeNumber":"42","manager":{"value":"boss"}}}`,
		"own extension": `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","` + demoPolicy.ExtensionURN + `"],
			"userName":"ext@example.com","memberRole":"admin",
			"` + demoPolicy.ExtensionURN + `":{"memberRole":"data_owner"}}`,
		"bare": `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bare"}`,
	}
	ctx := context.Background()
	for name, policy := range policies {
		t.Run(name, func(t *testing.T) {
			st := memory.New()
			cfg := scim.Config{BaseURL: "https://app.example.com/scim/v2"}
			servers := map[string]*testServer{
				"encoded": newTestServerPolicy(t, st, policy, cfg),
				"decoded": newTestServerPolicy(t, decodedOnly{st}, policy, cfg),
				"skewed":  newTestServerPolicy(t, skewedRaw{st}, policy, cfg),
			}
			src := servers["encoded"]
			ids := map[string]string{}
			for label, body := range users {
				ids[label] = str(src.must(201, "POST", "/Users", body).body, "id")
			}
			group := str(src.must(201, "POST", "/Groups", `{"displayName":"Engineering & <Ops>"}`).body, "id")
			src.must(201, "POST", "/Groups", `{"displayName":"Two","members":[{"value":"`+ids["okta"]+`"}]}`)
			src.must(204, "PATCH", "/Groups/"+group, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
				"Operations":[{"op":"add","path":"members","value":[{"value":"`+ids["okta"]+`"},{"value":"`+ids["enterprise"]+`"}]}]}`,
				"Prefer: return=minimal")
			// An app's own row, written straight to the store, holding
			// attributes by the names the handler adds.
			now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
			appUser := store.User{ID: "app-1", Role: "admin", Meta: store.Meta{Created: now, LastModified: now},
				Attributes: store.Attributes{"userName": "app@example.com", "id": "stale", "schemas": []any{"x"},
					"meta": map[string]any{"version": "old"}, "groups": []any{"stored"}, "roles": []any{"stored"},
					"~last": true, "Zfirst": "upper case sorts first"}}
			if err := st.Update(ctx, "acme", func(tx store.Tx) error { return tx.CreateUser(ctx, &appUser) }); err != nil {
				t.Fatal(err)
			}
			ids["app"] = appUser.ID

			// Lists: every user, pages, a lookup.
			lists := []string{"/Users", "/Users?startIndex=2&count=2", "/Users?count=0",
				"/Users?filter=" + filterQuery(`userName eq "ent@example.com"`)}
			for _, path := range lists {
				want := servers["decoded"].must(200, "GET", path, "")
				for _, side := range []string{"encoded", "skewed"} {
					got := servers[side].must(200, "GET", path, "")
					if diff := cmp.Diff(want.raw, got.raw); diff != "" {
						t.Errorf("GET %s from %s attributes (-decoded +%s):\n%s", path, side, side, diff)
					}
				}
			}
			for label, id := range ids {
				want := servers["decoded"].must(200, "GET", "/Users/"+id, "")
				for _, side := range []string{"encoded", "skewed"} {
					got := servers[side].must(200, "GET", "/Users/"+id, "")
					if diff := cmp.Diff(want.raw, got.raw); diff != "" {
						t.Errorf("GET %s user from %s attributes (-decoded +%s):\n%s", label, side, side, diff)
					}
					for _, h := range []string{"ETag", "Content-Type", "Content-Length"} {
						if w, g := want.header.Get(h), got.header.Get(h); w != g {
							t.Errorf("GET %s user from %s attributes: %s %q, want %q", label, side, h, g, w)
						}
					}
				}
			}
		})
	}
}

// listRawOnly is a store whose Readers answer ListUsers with an error:
// only a list that goes through store.RawUserLister succeeds.
type listRawOnly struct{ store.Store }

func (s listRawOnly) View(ctx context.Context, tenant string, fn func(store.Reader) error) error {
	return s.Store.View(ctx, tenant, func(r store.Reader) error { return fn(listRawOnlyReader{r}) })
}

type listRawOnlyReader struct{ store.Reader }

var errListUsers = errors.New("ListUsers called")

func (r listRawOnlyReader) ListUsers(context.Context, store.Query) (store.UserPage, error) {
	return store.UserPage{}, errListUsers
}

func (r listRawOnlyReader) ListRawUsers(ctx context.Context, q store.Query) (store.UserPage, [][]byte, error) {
	return r.Reader.(store.RawUserLister).ListRawUsers(ctx, q)
}

// TestListUsesEncodedAttributes: a list without a projection takes the
// encoded path (TestGetUserFromEncodedAttributes checks its bytes); with
// one, the decoded path.
func TestListUsesEncodedAttributes(t *testing.T) {
	st := memory.New()
	s := newTestServerPolicy(t, listRawOnly{st}, demoPolicy, scim.Config{})
	s.must(201, "POST", "/Users", `{"userName":"l@example.com"}`)
	tests := []struct {
		path string
		want int
	}{
		{"/Users", 200},
		{"/Users?filter=" + filterQuery(`userName eq "l@example.com"`), 200},
		{"/Users?startIndex=1&count=1", 200},
		{"/Users?attributes=userName", 500},
		{"/Users?excludedAttributes=emails", 500},
	}
	for _, tt := range tests {
		if got := s.do("GET", tt.path, "").status; got != tt.want {
			t.Errorf("GET %s: %d, want %d", tt.path, got, tt.want)
		}
	}
}
