package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	_ "modernc.org/sqlite"

	"github.com/scimkit/scim/store"
)

func openGroupCommitStore(t *testing.T) *Store {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "gc.db")+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := New(db, SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// holdLeader starts a write of tenant "a" (creating user a0) that runs
// until release is called, so that the writes that follow queue behind
// its batch; leaderErr waits for it and returns its error.
func holdLeader(ctx context.Context, s *Store) (release func(), leaderErr func() error) {
	gate, started := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Update(ctx, "a", createFn("a0", func() error { close(started); <-gate; return nil }))
	}()
	<-started
	return func() { close(gate) }, func() error { return <-done }
}

// queued waits until n writes wait behind the running batch.
func queued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.writes.mu.Lock()
		got := len(s.writes.waiting)
		s.writes.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func createFn(name string, then func() error) func(store.Tx) error {
	return func(tx store.Tx) error {
		u := &store.User{ID: name, Attributes: store.Attributes{"userName": name}}
		if err := tx.CreateUser(context.Background(), u); err != nil {
			return err
		}
		if then != nil {
			return then()
		}
		return nil
	}
}

func userNames(t *testing.T, s *Store, tenant string) []string {
	t.Helper()
	var out []string
	err := s.View(context.Background(), tenant, func(r store.Reader) error {
		page, err := r.ListUsers(context.Background(), store.Query{Limit: 100})
		for _, u := range page.Users {
			out = append(out, u.Attributes["userName"].(string))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// TestGroupCommit queues writes behind a running one, so that they run as
// one batch, and checks that each write's outcome is its own: a refused
// write leaves nothing and the others commit; a panicking write panics in
// its own goroutine and the others commit; a write whose context ended
// while it waited is not run; writes of several tenants stay apart.
func TestGroupCommit(t *testing.T) {
	refused := errors.New("refused")
	type write struct {
		tenant string
		name   string
		then   func() error // after creating the user; nil: succeed
		panics bool
		cancel bool // its context ends while it waits
	}
	tests := []struct {
		name    string
		writes  []write
		want    map[string][]string // tenant → userNames stored
		batched bool                // the writes ran as one batch
	}{
		{"all succeed", []write{{tenant: "a", name: "a1"}, {tenant: "a", name: "a2"}, {tenant: "a", name: "a3"}},
			map[string][]string{"a": {"a0", "a1", "a2", "a3"}}, true},
		{"one refused", []write{{tenant: "a", name: "a1"}, {tenant: "a", name: "a2", then: func() error { return refused }}, {tenant: "a", name: "a3"}},
			map[string][]string{"a": {"a0", "a1", "a3"}}, true},
		{"a conflict", []write{{tenant: "a", name: "a1"}, {tenant: "a", name: "a1"}, {tenant: "a", name: "a3"}},
			map[string][]string{"a": {"a0", "a1", "a3"}}, true},
		{"one panics", []write{{tenant: "a", name: "a1"}, {tenant: "a", name: "a2", panics: true}, {tenant: "a", name: "a3"}},
			map[string][]string{"a": {"a0", "a1", "a3"}}, true},
		{"one cancelled while waiting", []write{{tenant: "a", name: "a1"}, {tenant: "a", name: "a2", cancel: true}, {tenant: "a", name: "a3"}},
			map[string][]string{"a": {"a0", "a1", "a3"}}, true},
		{"two tenants", []write{{tenant: "a", name: "a1"}, {tenant: "b", name: "b1"}, {tenant: "b", name: "b2", then: func() error { return refused }}},
			map[string][]string{"a": {"a0", "a1"}, "b": {"b1"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openGroupCommitStore(t)
			ctx := context.Background()
			release, leaderErr := holdLeader(ctx, s)

			type outcome struct {
				err      error
				panicked any
			}
			outcomes := make([]outcome, len(tt.writes))
			var wg sync.WaitGroup
			var cancels []context.CancelFunc
			for i, w := range tt.writes {
				wctx, cancel := context.WithCancel(ctx)
				if w.cancel {
					cancels = append(cancels, cancel)
				} else {
					defer cancel()
				}
				then := w.then
				if w.panics {
					then = func() error { panic(fmt.Sprintf("write %d", i)) }
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() { outcomes[i].panicked = recover() }()
					outcomes[i].err = s.Update(wctx, w.tenant, createFn(w.name, then))
				}()
				queued(t, s, i+1) // in this order
			}
			for _, c := range cancels {
				c()
			}
			release()
			wg.Wait()
			if err := leaderErr(); err != nil {
				t.Fatalf("leading write: %v", err)
			}

			for i, w := range tt.writes {
				o := outcomes[i]
				switch {
				case w.panics:
					if want := fmt.Sprintf("write %d", i); o.panicked != want {
						t.Errorf("write %d (%s): panicked with %v, want %q", i, w.name, o.panicked, want)
					}
				case w.cancel:
					if !errors.Is(o.err, context.Canceled) {
						t.Errorf("write %d (%s): %v, want context.Canceled", i, w.name, o.err)
					}
				case w.then != nil:
					if !errors.Is(o.err, refused) {
						t.Errorf("write %d (%s): %v, want the refusal", i, w.name, o.err)
					}
				case i > 0 && tt.writes[i-1].name == w.name:
					if !errors.Is(o.err, store.ErrConflict) {
						t.Errorf("write %d (%s): %v, want store.ErrConflict", i, w.name, o.err)
					}
				default:
					if o.err != nil || o.panicked != nil {
						t.Errorf("write %d (%s): %v, panic %v", i, w.name, o.err, o.panicked)
					}
				}
			}
			for tenant, want := range tt.want {
				if diff := cmp.Diff(want, userNames(t, s, tenant)); diff != "" {
					t.Errorf("users of %s (-want +got):\n%s", tenant, diff)
				}
			}
			if got := s.writes.batched.Load() > 0; got != tt.batched {
				t.Errorf("writes ran in a batch: %v, want %v", got, tt.batched)
			}
			// The queue is free again.
			if err := s.Update(ctx, "a", createFn("after", nil)); err != nil {
				t.Fatalf("a write after the batch: %v", err)
			}
		})
	}
}

// TestGroupCommitWriteContextEnds queues a write between two others, as one
// batch, and ends its context while its fn runs: its statements stop (even
// those fn runs on a context of its own), nothing of it is committed, its
// Update returns the context's error, and the writes around it commit.
func TestGroupCommitWriteContextEnds(t *testing.T) {
	never := errors.New("the write's statements never stopped")
	tests := []struct {
		name    string
		timeout time.Duration // 0: fn cancels the context itself
		fn      func(cancel context.CancelFunc) func(store.Tx) error
		want    error
	}{
		{"cancelled, then fn returns nil", 0, func(cancel context.CancelFunc) func(store.Tx) error {
			return createFn("a2", func() error { cancel(); return nil })
		}, context.Canceled},
		{"cancelled, then fn writes again", 0, func(cancel context.CancelFunc) func(store.Tx) error {
			return func(tx store.Tx) error {
				if err := createFn("a2", nil)(tx); err != nil {
					return err
				}
				cancel()
				return createFn("a2b", nil)(tx)
			}
		}, context.Canceled},
		{"deadline inside a long loop of statements", 300 * time.Millisecond, func(context.CancelFunc) func(store.Tx) error {
			return func(tx store.Tx) error {
				if err := createFn("a2", nil)(tx); err != nil {
					return err
				}
				for start := time.Now(); time.Since(start) < 10*time.Second; {
					if _, err := tx.ListUsers(context.Background(), store.Query{Limit: 10}); err != nil {
						return err
					}
				}
				return never
			}
		}, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openGroupCommitStore(t)
			ctx := context.Background()
			release, leaderErr := holdLeader(ctx, s)

			wctx, cancel := context.WithCancel(ctx)
			if tt.timeout > 0 {
				wctx, cancel = context.WithTimeout(ctx, tt.timeout)
			}
			defer cancel()
			errs := make([]error, 3)
			fns := []func(store.Tx) error{createFn("a1", nil), tt.fn(cancel), createFn("a3", nil)}
			ctxs := []context.Context{ctx, wctx, ctx}
			var wg sync.WaitGroup
			for i := range fns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = s.Update(ctxs[i], "a", fns[i])
				}()
				queued(t, s, i+1)
			}
			start := time.Now()
			release()
			wg.Wait()
			elapsed := time.Since(start)
			if err := leaderErr(); err != nil {
				t.Fatalf("leading write: %v", err)
			}
			if diff := cmp.Diff([]error{nil, tt.want, nil}, errs, cmp.Comparer(func(a, b error) bool { return errors.Is(b, a) })); diff != "" {
				t.Errorf("Update results (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"a0", "a1", "a3"}, userNames(t, s, "a")); diff != "" {
				t.Errorf("users (-want +got):\n%s", diff)
			}
			if tt.timeout > 0 && elapsed > tt.timeout+2*time.Second {
				t.Errorf("the batch took %v, past its write's %v deadline", elapsed, tt.timeout)
			}
			if s.writes.batched.Load() == 0 {
				t.Error("the writes did not run as one batch")
			}
		})
	}
}
