package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
)

// TestDemoCrashKeepsAcknowledgedWrites runs the demo server on SQLite and,
// when SCIM_TEST_POSTGRES_DSN is set, on PostgreSQL; drives a write storm
// from several clients (user creations, membership adds, deactivations,
// deletions); kills the process with SIGKILL in the middle of it; starts
// it again on the same database; and checks that every write answered
// with a 2xx is there and that no membership points at a missing user.
func TestDemoCrashKeepsAcknowledgedWrites(t *testing.T) {
	t.Parallel()
	for _, eng := range []struct {
		name string
		db   func(t *testing.T) string // the -db argument
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "crash.db") }},
		{"postgres", crashPostgresDB},
	} {
		t.Run(eng.name, func(t *testing.T) {
			testCrash(t, eng.db(t))
		})
	}
}

// crashPostgresDB returns SCIM_TEST_POSTGRES_DSN with its search_path set
// to a new schema, dropped when the test ends, so that runs don't collide.
func crashPostgresDB(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("SCIM_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("SCIM_TEST_POSTGRES_DSN is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	var b [6]byte
	rand.Read(b[:])
	schema := "scimcrash_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() { admin.Exec("DROP SCHEMA " + schema + " CASCADE") })
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// acks records the writes the server acknowledged with a 2xx.
type acks struct {
	mu       sync.Mutex
	n        int
	users    map[string]string // id → userName
	members  map[string]bool   // ids added to the group
	inactive map[string]bool   // ids deactivated
	deleted  map[string]bool   // ids deleted
	// Writes sent but not acknowledged when the server died may or may
	// not have committed.
	maybeInactive, maybeDeleted map[string]bool
	unexpected                  []string // answers that were neither 2xx nor a transport error
	threshold                   int      // acks after which killNow is closed
	killNow                     chan struct{}
}

func (a *acks) add(record func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	record()
	a.n++
	if a.n == a.threshold {
		close(a.killNow)
	}
}

// try records a write about to be sent.
func (a *acks) try(m map[string]bool, id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	m[id] = true
}

func (a *acks) fail(format string, args ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.unexpected = append(a.unexpected, fmt.Sprintf(format, args...))
}

func testCrash(t *testing.T, db string) {
	const token = "tok"
	cfg := demoConfig{args: []string{"-db", db, "-token", token}, dir: t.TempDir()}
	d := startDemo(t, cfg)
	gid := decode[scimGroup](t, d.call(t, "POST", "/Groups", token,
		`{"displayName":"Storm","members":[]}`).want(t, http.StatusCreated)).ID

	const workers, perWorker = 8, 300
	a := &acks{users: map[string]string{}, members: map[string]bool{}, inactive: map[string]bool{},
		deleted:       map[string]bool{},
		maybeInactive: map[string]bool{}, maybeDeleted: map[string]bool{}, threshold: 150, killNow: make(chan struct{})}
	client := &http.Client{Timeout: 10 * time.Second}
	// call sends one request; err is a transport error (the server is gone).
	call := func(method, path, body string) (int, []byte, error) {
		req, err := http.NewRequest(method, d.base+path, strings.NewReader(body))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	patchOp := func(ops string) string {
		return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + ops + `]}`
	}

	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				userName := fmt.Sprintf("w%d-u%03d@storm.example", w, i)
				status, body, err := call("POST", "/Users", userJSON(userName))
				if err != nil {
					return
				}
				if status != http.StatusCreated {
					a.fail("POST %s: %d %s", userName, status, body)
					continue
				}
				var u scimUser
				if err := json.Unmarshal(body, &u); err != nil || u.ID == "" {
					a.fail("POST %s: %d %s", userName, status, body)
					continue
				}
				a.add(func() { a.users[u.ID] = userName })

				status, body, err = call("PATCH", "/Groups/"+gid, patchOp(`{"op":"add","path":"members","value":[{"value":"`+u.ID+`"}]}`))
				if err != nil {
					return
				}
				if status/100 != 2 {
					a.fail("PATCH group add %s: %d %s", u.ID, status, body)
					continue
				}
				a.add(func() { a.members[u.ID] = true })

				switch i % 4 {
				case 1:
					a.try(a.maybeInactive, u.ID)
					status, body, err = call("PATCH", "/Users/"+u.ID, patchOp(`{"op":"replace","value":{"active":false}}`))
					if err != nil {
						return
					}
					if status/100 != 2 {
						a.fail("PATCH deactivate %s: %d %s", u.ID, status, body)
						continue
					}
					a.add(func() { a.inactive[u.ID] = true })
				case 3:
					a.try(a.maybeDeleted, u.ID)
					status, body, err = call("DELETE", "/Users/"+u.ID, "")
					if err != nil {
						return
					}
					if status/100 != 2 {
						a.fail("DELETE %s: %d %s", u.ID, status, body)
						continue
					}
					a.add(func() { a.deleted[u.ID] = true })
				}
			}
		}()
	}
	allDone := make(chan struct{})
	go func() {
		wg.Wait()
		close(allDone)
	}()
	select {
	case <-a.killNow:
	case <-allDone:
		t.Fatalf("the storm ended after %d acknowledged writes, before the kill", a.n)
	}
	if err := d.cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	select {
	case <-d.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("server still running 10s after SIGKILL")
	}
	<-allDone // every client stops at its first transport error
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, u := range a.unexpected {
		t.Errorf("during the storm: %s", u)
	}
	t.Logf("acknowledged before the kill: %d users, %d member adds, %d deactivations, %d deletions",
		len(a.users), len(a.members), len(a.inactive), len(a.deleted))

	d = startDemo(t, cfg)
	for id, userName := range a.users {
		r := d.call(t, "GET", "/Users/"+id, token, "")
		if a.deleted[id] || (a.maybeDeleted[id] && r.status == http.StatusNotFound) {
			r.want(t, http.StatusNotFound)
			continue
		}
		got := decode[scimUser](t, r.want(t, http.StatusOK))
		type state struct {
			UserName string
			Active   bool
		}
		want := state{userName, !a.inactive[id]}
		if a.maybeInactive[id] && !a.inactive[id] {
			want.Active = got.Active // the deactivation was cut: either way
		}
		if diff := cmp.Diff(want, state{got.UserName, got.Active}); diff != "" {
			t.Errorf("user %s after the restart (-want +got):\n%s", id, diff)
		}
	}
	g := decode[scimGroup](t, d.call(t, "GET", "/Groups/"+gid, token, "").want(t, http.StatusOK))
	var got []string
	for _, m := range g.Members {
		got = append(got, m.Value)
	}
	var missing []string
	for id := range a.members {
		if !a.deleted[id] && !a.maybeDeleted[id] && !slices.Contains(got, id) {
			missing = append(missing, id)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("acknowledged members missing after the restart: %v", missing)
	}
	// No membership points at a missing user, through the API and in the
	// database itself.
	for _, id := range got {
		if r := d.call(t, "GET", "/Users/"+id, token, ""); r.status != http.StatusOK {
			t.Errorf("member %s of the group: GET answers %d", id, r.status)
		}
	}
	checkNoDanglingMembers(t, db)
}

// checkNoDanglingMembers reads every group of the demo's tenant straight
// from the database and checks that each member is a user.
func checkNoDanglingMembers(t *testing.T, db string) {
	t.Helper()
	ctx := context.Background()
	st, closeStore, err := openStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	var dangling []string
	members := 0
	err = st.View(ctx, defaultTenant, func(r store.Reader) error {
		page, err := r.ListGroups(ctx, store.Query{Limit: 1000, WithMembers: true})
		if err != nil {
			return err
		}
		for _, g := range page.Groups {
			for _, m := range g.Members {
				members++
				if _, err := r.User(ctx, m.Value); err != nil {
					dangling = append(dangling, g.DisplayName()+" → "+m.Value+": "+err.Error())
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if members == 0 {
		t.Errorf("the database holds no membership at all")
	}
	if diff := cmp.Diff([]string(nil), dangling); diff != "" {
		t.Errorf("memberships pointing at missing users (-want +got):\n%s", diff)
	}
}
