package scim_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
)

// TestLinkingCostFollowsTheRequest posts, with linking on, a user whose
// 1,000 emails all belong to a managed user created just before, and a
// user with 1,000 emails nobody has. Looking the shared ones up must cost
// about what looking the unshared ones up costs: before, each shared email
// decoded the managed user with its 1,000 emails (a million email values
// for one request, hundreds of times the unshared POST).
func TestLinkingCostFollowsTheRequest(t *testing.T) {
	const n = 1000
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			s := newTestServerWith(t, st.open(t), scim.Config{Users: scim.UserRules{LinkExisting: true}})
			post := func(userName, domain string) time.Duration {
				t.Helper()
				start := time.Now()
				s.must(http.StatusCreated, "POST", "/Users", emailsBody(userName, domain, n))
				return time.Since(start)
			}
			post("first@shared.example", "shared.example")
			// Best of three, against the machine's noise.
			var shared, unshared time.Duration
			for i := range 3 {
				u := post(fmt.Sprintf("new%d@x.example", i), fmt.Sprintf("new%d.example", i))
				sh := post(fmt.Sprintf("again%d@x.example", i), "shared.example")
				if i == 0 || u < unshared {
					unshared = u
				}
				if i == 0 || sh < shared {
					shared = sh
				}
			}
			t.Logf("POST with %d emails: shared with managed users %v, shared with nobody %v", n, shared, unshared)
			if shared > 10*unshared+100*time.Millisecond {
				t.Errorf("POST with %d shared emails took %v, with %d unshared %v: the lookups grow with the users sharing them", n, shared, n, unshared)
			}
		})
	}
}

// TestLinkingByTheLastOfManyEmails links an app user whose email is the
// last of 1,000 the identity provider sends, the other 999 belonging to
// managed users.
func TestLinkingByTheLastOfManyEmails(t *testing.T) {
	const n = 1000
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			ss := st.open(t)
			seeded := seedUser(t, ss, "acme", fmt.Sprintf("e%d@d.example", n-1), "viewer")
			s := newTestServerWith(t, ss, scim.Config{Users: scim.UserRules{LinkExisting: true}})
			s.must(http.StatusCreated, "POST", "/Users", emailsBody("managed@d.example", "d.example", n-1))
			r := s.must(http.StatusCreated, "POST", "/Users", emailsBody("idp@d.example", "d.example", n))
			if got := str(r.body, "id"); got != seeded {
				t.Errorf("POST linked %q, want the app user %q", got, seeded)
			}
		})
	}
}

// slowStore makes CreateUser a long store operation: after the write, it
// reads through the same Tx, as a long loop of a store would, until a
// read fails (or 10 s pass). It reports the first failure on failed and
// the result of each Update on updated.
type slowStore struct {
	store.Store
	started chan struct{} // closed when the first long operation starts
	once    sync.Once
	failed  chan error
	updated chan error
}

func newSlowStore(inner store.Store) *slowStore {
	return &slowStore{Store: inner, started: make(chan struct{}), failed: make(chan error, 10), updated: make(chan error, 10)}
}

func (s *slowStore) Update(ctx context.Context, tenant string, fn func(store.Tx) error) error {
	err := s.Store.Update(ctx, tenant, func(tx store.Tx) error { return fn(slowTx{tx, s}) })
	s.updated <- err
	return err
}

type slowTx struct {
	store.Tx
	s *slowStore
}

var errNeverStopped = errors.New("the long store operation was never stopped")

func (x slowTx) CreateUser(ctx context.Context, u *store.User) error {
	if err := x.Tx.CreateUser(ctx, u); err != nil {
		return err
	}
	x.s.once.Do(func() { close(x.s.started) })
	for start := time.Now(); time.Since(start) < 10*time.Second; {
		if _, err := x.Tx.ListUsers(ctx, store.Query{Limit: 1}); err != nil {
			x.s.failed <- err
			return err
		}
	}
	x.s.failed <- errNeverStopped
	return nil
}

// TestDeadlineReachesTheStore runs a POST whose store work outlasts
// Limits.Timeout: the answer is 503, soon after the deadline, and the user
// the request had written is gone.
func TestDeadlineReachesTheStore(t *testing.T) {
	const timeout = 300 * time.Millisecond
	for _, st := range isolationStores {
		t.Run(st.name, func(t *testing.T) {
			inner := st.open(t)
			slow := newSlowStore(inner)
			s := newTestServerWith(t, slow, scim.Config{Limits: scim.Limits{Timeout: timeout}})
			start := time.Now()
			r := s.do("POST", "/Users", `{"userName":"late@x.example"}`)
			elapsed := time.Since(start)
			if r.status != http.StatusServiceUnavailable {
				t.Errorf("status %d, want 503: %s", r.status, r.raw)
			}
			if elapsed > timeout+2*time.Second {
				t.Errorf("answered after %v, deadline %v", elapsed, timeout)
			}
			if err := <-slow.failed; !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("the store's read failed with %v, want context.DeadlineExceeded", err)
			}
			checkNoUser(t, inner, "late@x.example")
		})
	}
}

// TestDisconnectCancelsStoreWork drops the connection of a POST while its
// store work runs: the work stops with context.Canceled, the Update
// returns it, and nothing is written.
func TestDisconnectCancelsStoreWork(t *testing.T) {
	for _, st := range isolationStores {
		t.Run(st.name, func(t *testing.T) {
			inner := st.open(t)
			slow := newSlowStore(inner)
			s := newTestServerWith(t, slow, scim.Config{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, "POST", s.base+"/Users", strings.NewReader(`{"userName":"gone@x.example"}`))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+tokenAcme)
			req.Header.Set("Content-Type", "application/scim+json")
			done := make(chan error, 1)
			go func() {
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					resp.Body.Close()
				}
				done <- err
			}()
			select {
			case <-slow.started:
			case <-time.After(10 * time.Second):
				t.Fatal("the store work never started")
			}
			cancel()
			<-done
			for _, what := range []struct {
				name string
				ch   chan error
			}{{"the store's read", slow.failed}, {"Update", slow.updated}} {
				select {
				case err := <-what.ch:
					if !errors.Is(err, context.Canceled) {
						t.Errorf("%s returned %v, want context.Canceled", what.name, err)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("%s did not stop within 5 s of the disconnect", what.name)
				}
			}
			checkNoUser(t, inner, "gone@x.example")
		})
	}
}

// checkNoUser fails unless the store holds no user of tenant acme with
// the userName.
func checkNoUser(t *testing.T, st store.Store, userName string) {
	t.Helper()
	err := st.View(context.Background(), "acme", func(r store.Reader) error {
		_, err := r.UserByUserName(context.Background(), userName)
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("user %s after the request: %v, want store.ErrNotFound (nothing written)", userName, err)
	}
}
