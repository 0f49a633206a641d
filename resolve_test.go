package scim_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
)

// seedAppUser stores an app user as an app keeps one created before SCIM:
// an email and a name, no userName, not managed.
func seedAppUser(t *testing.T, st store.Store, id string, attrs store.Attributes) {
	t.Helper()
	err := st.Update(context.Background(), "acme", func(tx store.Tx) error {
		return tx.CreateUser(context.Background(), &store.User{ID: id, Role: "viewer", Attributes: attrs})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func emailAttrs(email string) store.Attributes {
	return store.Attributes{"displayName": "App User", "emails": []any{map[string]any{"value": email}}}
}

// byEmployeeNumber is a resolver adopting the app user whose
// employeeNumber (enterprise extension) is the POST's.
func byEmployeeNumber(ctx context.Context, r store.Reader, proposed store.User) (string, error) {
	const ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	m, _ := proposed.Attributes[ext].(map[string]any)
	n, _ := m["employeeNumber"].(string)
	if n == "" {
		return "", nil
	}
	page, err := r.ListUsers(ctx, store.Query{Limit: 2, Filter: store.Compare{
		Path: store.Path{URN: ext, Name: "employeeNumber"}, Op: store.Eq, Value: n}})
	if err != nil {
		return "", err
	}
	switch len(page.Users) {
	case 0:
		return "", nil
	case 1:
		return page.Users[0].ID, nil
	}
	return "", &scim.Error{Status: http.StatusConflict, ScimType: scim.ScimTypeUniqueness,
		Detail: "several app users have employee number " + n}
}

// TestResolve covers UserRules.Resolve: the user it chooses is adopted
// under the same rules as a link, in the documented order, and its errors
// answer as documented.
func TestResolve(t *testing.T) {
	const ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	post := func(userName, employee, email string) string {
		body := fmt.Sprintf(`{"userName":%q,"%s":{"employeeNumber":%q}`, userName, ext, employee)
		if email != "" {
			body += fmt.Sprintf(`,"emails":[{"value":%q}]`, email)
		}
		return body + "}"
	}
	tests := []struct {
		name    string
		link    bool
		resolve func(context.Context, store.Reader, store.User) (string, error)
		body    string
		status  int
		wantID  string // "new": a user was created
		detail  string
	}{
		{"adopts the chosen user", false, byEmployeeNumber, post("jo.doe", "E1", ""), 201, "app-jo", ""},
		{"chooses none: creates", false, byEmployeeNumber, post("jo.doe", "E9", ""), 201, "new", ""},
		{"before the email lookup", true, byEmployeeNumber, post("jo.doe", "E1", "kim@acme.test"), 201, "app-jo", ""},
		{"none chosen: the email lookup links", true, byEmployeeNumber, post("jo.doe", "E9", "kim@acme.test"), 201, "app-kim", ""},
		{"after the userName: the same userName links", true, byEmployeeNumber, post("kim@acme.test", "E1", ""), 201, "app-kim", ""},
		{"its SCIM error answers", false, byEmployeeNumber, post("jo.doe", "E2", ""), 409, "", "several app users have employee number E2"},
		{"its other errors are internal", false, func(context.Context, store.Reader, store.User) (string, error) {
			return "", fmt.Errorf("directory: %w", store.ErrNotFound)
		}, post("jo.doe", "E1", ""), 500, "", "internal error"},
		{"a user of no tenant of ours is internal", false, func(context.Context, store.Reader, store.User) (string, error) {
			return "app-elsewhere", nil
		}, post("jo.doe", "E1", ""), 500, "", "internal error"},
		{"a managed user conflicts", false, func(context.Context, store.Reader, store.User) (string, error) {
			return "managed", nil
		}, post("jo.doe", "E1", ""), 409, "", "the app matched this user to user managed, which is already provisioned"},
		{"the owner keeps their role", false, func(context.Context, store.Reader, store.User) (string, error) {
			return "app-boss", nil
		}, `{"userName":"jo.doe","memberRole":"viewer"}`, 403, "", `user app-boss has the protected role "owner" and cannot be given another role through SCIM`},
	}
	for _, st := range stores {
		for _, tc := range tests {
			t.Run(st.name+"/"+tc.name, func(t *testing.T) {
				ss := st.open(t)
				a := emailAttrs("jo@acme.test")
				a[ext] = map[string]any{"employeeNumber": "E1"}
				seedAppUser(t, ss, "app-jo", a)
				seedUser(t, ss, "acme", "kim@acme.test", "viewer")
				seedUser(t, ss, "acme", "boss@acme.test", "owner")
				for _, id := range []string{"app-e2a", "app-e2b"} {
					seedAppUser(t, ss, id, store.Attributes{ext: map[string]any{"employeeNumber": "E2"}})
				}
				err := ss.Update(context.Background(), "other", func(tx store.Tx) error {
					return tx.CreateUser(context.Background(), &store.User{ID: "app-elsewhere", Attributes: emailAttrs("x@other.test")})
				})
				if err != nil {
					t.Fatal(err)
				}
				var admitted []scim.ChangeKind
				s := newTestServerPolicy(t, ss, ownerPolicy(), scim.Config{Users: scim.UserRules{LinkExisting: tc.link, Resolve: tc.resolve},
					Admit: func(_ context.Context, _ store.Reader, c scim.Change) error {
						admitted = append(admitted, c.Kind)
						return nil
					}})
				err = ss.Update(context.Background(), "acme", func(tx store.Tx) error {
					return tx.CreateUser(context.Background(), &store.User{ID: "managed", Managed: true, ManagedBy: "acme",
						Attributes: store.Attributes{"userName": "managed@acme.test"}})
				})
				if err != nil {
					t.Fatal(err)
				}
				before := snapshot(t, ss, "acme")
				r := s.must(tc.status, "POST", "/Users", tc.body)
				if tc.status != http.StatusCreated {
					if str(r.body, "detail") != tc.detail {
						t.Errorf("detail %q, want %q", str(r.body, "detail"), tc.detail)
					}
					if diff := cmp.Diff(before, snapshot(t, ss, "acme")); diff != "" {
						t.Errorf("a refused POST changed the tenant:\n%s", diff)
					}
					return
				}
				got, wantKind := str(r.body, "id"), scim.UserLink
				if tc.wantID == "new" {
					if got != "id-0001" {
						t.Errorf("POST answered user %q, want a new one", got)
					}
					wantKind = scim.UserCreate
				} else if got != tc.wantID {
					t.Errorf("POST adopted %q, want %q", got, tc.wantID)
				}
				if diff := cmp.Diff([]scim.ChangeKind{wantKind}, admitted); diff != "" {
					t.Errorf("changes admitted (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestLinkAppUserWithoutUserName links app users created before SCIM,
// which have an email and no userName, by the POST's email or by its
// userName when that is an email address; and finds an app user behind
// managed users sharing the address on a store without
// store.UnmanagedEmailFinder.
func TestLinkAppUserWithoutUserName(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"by email, userName alike", `{"userName":"ann@acme.test","emails":[{"value":"ann@acme.test"}]}`},
		{"by email, another userName", `{"userName":"ann.b","emails":[{"value":"Ann@Acme.test"}]}`},
		{"by the userName, no emails sent", `{"userName":"ANN@acme.test"}`},
	}
	for _, st := range stores {
		for _, finder := range []bool{true, false} {
			for _, tc := range tests {
				t.Run(fmt.Sprintf("%s/finder %v/%s", st.name, finder, tc.name), func(t *testing.T) {
					ss := st.open(t)
					if !finder {
						ss = plainStore{st: ss} // no UnmanagedEmailFinder
					}
					s := newTestServerWith(t, ss, scim.Config{Users: scim.UserRules{LinkExisting: true}})
					for i := range 3 { // managed users with the address, created first
						s.must(http.StatusCreated, "POST", "/Users", fmt.Sprintf(`{"userName":"m%d","emails":[{"value":"ann@acme.test"}]}`, i))
					}
					seedAppUser(t, ss, "app-ann", emailAttrs("ann@acme.test"))
					r := s.must(http.StatusCreated, "POST", "/Users", tc.body)
					if got := str(r.body, "id"); got != "app-ann" {
						t.Errorf("POST answered %q, want the app user app-ann", got)
					}
					list := s.must(http.StatusOK, "GET", "/Users?count=0", "")
					if list.body["totalResults"] != float64(4) {
						t.Errorf("users: %v, want 4 (no duplicate)", list.body["totalResults"])
					}
				})
			}
		}
	}
}
