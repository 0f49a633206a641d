package scim_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
	sqlstore "github.com/scimkit/scim/store/sql"
)

// refuseKind is an admission hook that refuses changes of one kind once
// armed, and remembers every change it saw.
type refuseKind struct {
	kind  scim.ChangeKind
	armed atomic.Bool
	mu    sync.Mutex
	seen  []scim.Change
}

func (a *refuseKind) admit(_ context.Context, _ store.Reader, c scim.Change) error {
	a.mu.Lock()
	a.seen = append(a.seen, c)
	a.mu.Unlock()
	if a.armed.Load() && c.Kind == a.kind {
		return &scim.Error{Status: http.StatusForbidden, Detail: "the app refuses " + string(c.Kind)}
	}
	return nil
}

// TestAdmitRefusesEachKind arms a hook refusing one kind of change and
// sends the request that makes it: 403 with the hook's detail, nothing
// changed, and a change.refused event naming the kind.
func TestAdmitRefusesEachKind(t *testing.T) {
	const patchOp = `"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]`
	tests := []struct {
		kind   scim.ChangeKind
		method string
		path   string // {u1} {u2} {g1} are replaced by the ids of the setup
		body   string
	}{
		{scim.UserCreate, "POST", "/Users", `{"userName":"new@acme.test"}`},
		{scim.UserLink, "POST", "/Users", `{"userName":"ann@acme.test"}`},
		{scim.UserLink, "PATCH", "/Users/app-ann", `{` + patchOp + `,"Operations":[{"op":"replace","path":"displayName","value":"Ann"}]}`},
		{scim.UserUpdate, "PATCH", "/Users/{u1}", `{` + patchOp + `,"Operations":[{"op":"replace","path":"displayName","value":"U"}]}`},
		{scim.UserUpdate, "PUT", "/Users/{u1}", `{"userName":"u1@acme.test","memberRole":"admin"}`},
		{scim.UserDeactivate, "PATCH", "/Users/{u1}", `{` + patchOp + `,"Operations":[{"op":"replace","value":{"active":false}}]}`},
		{scim.UserReactivate, "PUT", "/Users/{u2}", `{"userName":"u2@acme.test","active":true}`},
		{scim.UserDelete, "DELETE", "/Users/{u1}", ``},
		{scim.GroupCreate, "POST", "/Groups", `{"displayName":"New"}`},
		{scim.GroupRename, "PATCH", "/Groups/{g1}", `{` + patchOp + `,"Operations":[{"op":"replace","value":{"id":"{g1}","displayName":"Renamed"}}]}`},
		{scim.GroupUpdate, "PUT", "/Groups/{g1}", `{"displayName":"Team","externalId":"e1"}`},
		{scim.GroupDelete, "DELETE", "/Groups/{g1}", ``},
		{scim.GroupMembers, "PATCH", "/Groups/{g1}", `{` + patchOp + `,"Operations":[{"op":"add","path":"members","value":[{"value":"{u2}"}]}]}`},
		{scim.GroupMembers, "PATCH", "/Groups/{g1}", `{` + patchOp + `,"Operations":[{"op":"remove","path":"members[value eq \"{u1}\"]"}]}`},
		{scim.GroupMembers, "POST", "/Groups", `{"displayName":"With members","members":[{"value":"{u1}"}]}`},
		// A batch is one request: the rename before the refused membership
		// change does not apply either.
		{scim.GroupMembers, "PATCH", "/Groups/{g1}", `{` + patchOp + `,"Operations":[{"op":"replace","value":{"displayName":"Renamed"}},` +
			`{"op":"add","path":"members","value":[{"value":"{u2}"},{"value":"ghost"}]}]}`},
	}
	for _, st := range stores {
		for _, tc := range tests {
			t.Run(st.name+"/"+string(tc.kind)+"/"+tc.method, func(t *testing.T) {
				ss := st.open(t)
				seedUser(t, ss, "acme", "ann@acme.test", "viewer")
				hook := &refuseKind{kind: tc.kind}
				var log eventLog
				s := newTestServerWith(t, ss, scim.Config{Admit: hook.admit, OnEvent: log.add,
					Users: scim.UserRules{LinkExisting: true}})
				u1 := str(s.must(http.StatusCreated, "POST", "/Users", `{"userName":"u1@acme.test"}`).body, "id")
				u2 := str(s.must(http.StatusCreated, "POST", "/Users", `{"userName":"u2@acme.test","active":false}`).body, "id")
				g1 := str(s.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"Team","members":[{"value":"`+u1+`"}]}`).body, "id")
				ids := strings.NewReplacer("{u1}", u1, "{u2}", u2, "{g1}", g1)
				before := snapshot(t, ss, "acme")
				log.take()
				hook.armed.Store(true)

				r := s.must(http.StatusForbidden, tc.method, ids.Replace(tc.path), ids.Replace(tc.body))
				if got, want := str(r.body, "detail"), "the app refuses "+string(tc.kind); got != want {
					t.Errorf("detail %q, want %q", got, want)
				}
				if diff := cmp.Diff(before, snapshot(t, ss, "acme")); diff != "" {
					t.Errorf("a refused change changed the tenant (-before +after):\n%s", diff)
				}
				log.mu.Lock()
				events := log.events
				log.mu.Unlock()
				if len(events) != 1 || events[0].Type != store.ChangeRefused ||
					!strings.HasPrefix(events[0].Detail, string(tc.kind)) || !strings.Contains(events[0].Detail, " refused: the app refuses") ||
					(tc.kind == scim.GroupMembers) != (len(events[0].Members) > 0) {
					t.Errorf("events after the refusal: %+v, want one change.refused naming %s (and the members of a membership change)", events, tc.kind)
				}
			})
		}
	}
}

// TestAdmitSeesTheChange checks what the hook is told about a few
// changes, and that it reads the tenant with the change applied.
func TestAdmitSeesTheChange(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			type seen struct {
				Kind                scim.ChangeKind
				Tenant, Client      string
				Before, After       string // userName, active
				Group               string // before → after
				Added, Removed      []string
				Activates           bool
				NewValues           []string
				ActiveUsersInTheTx  int
				ActiveUsersSeenByID bool
			}
			var mu sync.Mutex
			var got []seen
			admit := func(ctx context.Context, r store.Reader, c scim.Change) error {
				page, err := r.ListUsers(ctx, store.Query{Filter: store.Compare{Path: store.Path{Name: "active"}, Op: store.Eq, Value: true}})
				if err != nil {
					return err
				}
				desc := func(u *store.User) string {
					if u == nil {
						return ""
					}
					return fmt.Sprintf("%s %v", u.UserName(), u.Active())
				}
				s := seen{Kind: c.Kind, Tenant: c.Tenant, Client: c.Client, Before: desc(c.Before), After: desc(c.After),
					Added: c.Added, Removed: c.Removed, Activates: c.Activates(), NewValues: c.NewValues(), ActiveUsersInTheTx: page.Total}
				if c.GroupBefore != nil || c.GroupAfter != nil {
					name := func(g *store.Group) string {
						if g == nil {
							return ""
						}
						return g.DisplayName()
					}
					s.Group = name(c.GroupBefore) + " → " + name(c.GroupAfter)
				}
				mu.Lock()
				got = append(got, s)
				mu.Unlock()
				return nil
			}
			s := newTestServerWith(t, st.open(t), scim.Config{Admit: admit})
			okta := "User-Agent: Okta SCIM Client 1.0"
			id := str(s.must(http.StatusCreated, "POST", "/Users", `{"userName":"a@acme.test","emails":[{"value":"a@mail.acme.test"}]}`, okta).body, "id")
			s.must(http.StatusOK, "PATCH", "/Users/"+id, `{"Operations":[{"op":"replace","value":{"active":false}}]}`, okta)
			s.must(http.StatusOK, "PATCH", "/Users/"+id, `{"Operations":[{"op":"replace","value":{"active":true}},{"op":"add","path":"emails","value":[{"value":"b@acme.test"}]}]}`, okta)
			gid := str(s.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"T","members":[{"value":"`+id+`"}]}`, okta).body, "id")
			s.must(http.StatusNoContent, "PATCH", "/Groups/"+gid, `{"Operations":[{"op":"replace","value":{"displayName":"T2"}},{"op":"remove","path":"members","value":[{"value":"`+id+`"}]}]}`, okta)
			s.must(http.StatusNoContent, "DELETE", "/Users/"+id, "", okta)
			want := []seen{
				{Kind: scim.UserCreate, After: "a@acme.test true", Activates: true, NewValues: []string{"a@acme.test", "a@mail.acme.test"}, ActiveUsersInTheTx: 1},
				{Kind: scim.UserDeactivate, Before: "a@acme.test true", After: "a@acme.test false"},
				{Kind: scim.UserReactivate, Before: "a@acme.test false", After: "a@acme.test true", Activates: true, NewValues: []string{"b@acme.test"}, ActiveUsersInTheTx: 1},
				{Kind: scim.GroupCreate, Group: " → T", ActiveUsersInTheTx: 1},
				{Kind: scim.GroupMembers, Added: []string{id}, ActiveUsersInTheTx: 1},
				{Kind: scim.GroupRename, Group: "T → T2", ActiveUsersInTheTx: 1},
				{Kind: scim.GroupMembers, Removed: []string{id}, ActiveUsersInTheTx: 1},
				{Kind: scim.UserDelete, Before: "a@acme.test true"},
			}
			for i := range want {
				want[i].Tenant, want[i].Client = "acme", "okta"
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("changes seen by Admit (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAdmitErrors checks the errors that are not refusals: 500 "internal
// error" (even for a store error the hook wraps), its text logged, never
// sent; and the order with the handler's own checks.
func TestAdmitErrors(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name+"/internal", func(t *testing.T) {
			for _, hookErr := range []error{errors.New("seat service said: token xyz expired"), fmt.Errorf("lookup: %w", store.ErrNotFound)} {
				var logs bytes.Buffer
				ss := st.open(t)
				s := newTestServerWith(t, ss, scim.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil)),
					Admit: func(context.Context, store.Reader, scim.Change) error { return hookErr }})
				before := snapshot(t, ss, "acme")
				r := s.must(http.StatusInternalServerError, "POST", "/Users", `{"userName":"x@acme.test"}`)
				if str(r.body, "detail") != "internal error" || strings.Contains(r.raw, "lookup") || strings.Contains(r.raw, "xyz") {
					t.Errorf("answer to a failing hook: %s", r.raw)
				}
				if !strings.Contains(logs.String(), hookErr.Error()) {
					t.Errorf("the hook's error is not logged: %s", logs.String())
				}
				if diff := cmp.Diff(before, snapshot(t, ss, "acme")); diff != "" {
					t.Errorf("a failing hook changed the tenant:\n%s", diff)
				}
			}
		})
		t.Run(st.name+"/the owner's protection and the guard come first", func(t *testing.T) {
			ss := st.open(t)
			owner := seedUser(t, ss, "acme", "boss@acme.test", "owner")
			var calls atomic.Int64
			var log eventLog
			h, err := scim.NewHandler(ss, ownerPolicy(), scim.Config{Authenticator: tokensFor(), Logger: discardLogger(), OnEvent: log.add,
				Users: scim.UserRules{LinkExisting: true},
				Admit: func(context.Context, store.Reader, scim.Change) error { calls.Add(1); return nil }})
			if err != nil {
				t.Fatal(err)
			}
			s := &testServer{t: t, store: ss}
			s.srv = newHTTPServer(t, h)
			s.base = s.srv.URL
			s.must(http.StatusForbidden, "DELETE", "/Users/"+owner, "")
			s.must(http.StatusForbidden, "PATCH", "/Users/"+owner, `{"Operations":[{"op":"replace","value":{"active":false}}]}`)
			if calls.Load() != 0 {
				t.Errorf("Admit was asked %d times about refused changes of the owner", calls.Load())
			}
			if diff := cmp.Diff([]string{"user.protected_refused", "user.protected_refused"}, log.take()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAdmitAndTheGuard checks the order with the deprovisioning guard: a
// deactivation Admit refuses is not counted by the guard, and a
// deactivation the guard holds never reaches Admit.
func TestAdmitAndTheGuard(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			var mu sync.Mutex
			var asked []string
			s := newTestServerWith(t, st.open(t), scim.Config{
				DeprovisionGuard: scim.DeprovisionGuard{MaxShare: 0.01, MinCount: 1},
				Admit: func(_ context.Context, _ store.Reader, c scim.Change) error {
					if c.Kind != scim.UserDeactivate {
						return nil
					}
					mu.Lock()
					defer mu.Unlock()
					asked = append(asked, c.Before.UserName())
					if c.Before.UserName() == "a@acme.test" {
						return &scim.Error{Status: http.StatusForbidden, Detail: "a stays"}
					}
					return nil
				}})
			deactivate := `{"Operations":[{"op":"replace","value":{"active":false}}]}`
			ids := map[string]string{}
			for _, n := range []string{"a", "b", "c"} {
				ids[n] = str(s.must(http.StatusCreated, "POST", "/Users", `{"userName":"`+n+`@acme.test"}`).body, "id")
			}
			s.must(http.StatusForbidden, "PATCH", "/Users/"+ids["a"], deactivate)
			s.must(http.StatusOK, "PATCH", "/Users/"+ids["b"], deactivate)                 // the guard's one allowed
			s.must(http.StatusServiceUnavailable, "PATCH", "/Users/"+ids["c"], deactivate) // held
			if diff := cmp.Diff([]string{"a@acme.test", "b@acme.test"}, asked); diff != "" {
				t.Errorf("deactivations Admit was asked about (-want +got):\n%s", diff)
			}
		})
	}
}

// seatLimit is the demo's seat rule: at most n active users.
func seatLimit(n int) func(context.Context, store.Reader, scim.Change) error {
	return func(ctx context.Context, r store.Reader, c scim.Change) error {
		if !c.Activates() {
			return nil
		}
		page, err := r.ListUsers(ctx, store.Query{Filter: store.Compare{Path: store.Path{Name: "active"}, Op: store.Eq, Value: true}})
		if err != nil {
			return err
		}
		if page.Total > n {
			return &scim.Error{Status: http.StatusForbidden, Detail: fmt.Sprintf("all %d seats are taken", n)}
		}
		return nil
	}
}

// TestAdmitSeatLimitTwoHandlers runs a seat limit on two handlers over one
// database (a SQLite file, PostgreSQL), 12 POSTs at once alternating
// between them: exactly the limit are created, the rest get 403, because
// the hook counts inside the write's transaction.
func TestAdmitSeatLimitTwoHandlers(t *testing.T) {
	const limit, posts = 5, 12
	engines := []struct {
		name string
		open func(t *testing.T) func() store.Store
	}{
		{"sqlite", func(t *testing.T) func() store.Store {
			path := filepath.Join(t.TempDir(), "scim.db")
			return func() store.Store {
				db, err := sql.Open("sqlite", "file:"+sqliteURIPath(path)+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				return migratedStore(t, db, sqlstore.SQLite)
			}
		}},
		{"postgres", func(t *testing.T) func() store.Store {
			dsn := postgresTestDSN(t)
			return func() store.Store {
				db, err := sql.Open("pgx", dsn)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				return migratedStore(t, db, sqlstore.Postgres)
			}
		}},
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			open := e.open(t)
			var servers []*testServer
			for i := range 2 {
				var n atomic.Int64
				servers = append(servers, newTestServerWith(t, open(), scim.Config{Admit: seatLimit(limit),
					NewID: func() string { return fmt.Sprintf("h%d-%04d", i, n.Add(1)) }}))
			}
			var wg sync.WaitGroup
			statuses := make([]int, posts)
			for i := range posts {
				wg.Go(func() {
					statuses[i] = servers[i%2].do("POST", "/Users", fmt.Sprintf(`{"userName":"u%02d@acme.test"}`, i)).status
				})
			}
			wg.Wait()
			count := map[int]int{}
			for _, st := range statuses {
				count[st]++
			}
			if diff := cmp.Diff(map[int]int{201: limit, 403: posts - limit}, count); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			list := servers[0].must(http.StatusOK, "GET", "/Users?filter=active+eq+true&count=0", "")
			if list.body["totalResults"] != float64(limit) {
				t.Errorf("active users: %v, want %d", list.body["totalResults"], limit)
			}
		})
	}
}

// TestAdmitGetsTheRequestBody: the hook sees the body as the IdP sent it,
// undeclared attributes included (the handler drops them), and no body for
// a DELETE.
func TestAdmitGetsTheRequestBody(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			var mu sync.Mutex
			got := map[scim.ChangeKind]any{}
			admit := func(_ context.Context, _ store.Reader, c scim.Change) error {
				var v any = "no body"
				if c.Request != nil {
					var doc map[string]any
					if err := json.Unmarshal(c.Request, &doc); err != nil {
						return err
					}
					v = doc["costCenterCode"]
				}
				mu.Lock()
				got[c.Kind] = v
				mu.Unlock()
				return nil
			}
			s := newTestServerWith(t, st.open(t), scim.Config{Admit: admit})
			body := s.must(http.StatusCreated, "POST", "/Users", `{"userName":"b@acme.test","costCenterCode":"X9"}`).body
			if _, ok := body["costCenterCode"]; ok {
				t.Error("the handler returned an undeclared attribute")
			}
			s.must(http.StatusNoContent, "DELETE", "/Users/"+str(body, "id"), "")
			want := map[scim.ChangeKind]any{scim.UserCreate: "X9", scim.UserDelete: "no body"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("what Admit saw of the request (-want +got):\n%s", diff)
			}
		})
	}
}
