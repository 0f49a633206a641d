package storetest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/scimkit/scim/store"
	"github.com/scimkit/scim/store/memory"
	"github.com/scimkit/scim/store/storetest"
)

// missesAppUsers is an adapter with the bug the AppUsers clause is for:
// like an adapter over the app's tables that indexes only the addresses
// SCIM wrote, its email lookups miss the users SCIM never wrote (here,
// those without a userName), so that linking by email creates a second
// user. Its Reader has no store.UnmanagedEmailFinder.
type missesAppUsers struct {
	store.Store
	broken bool
}

type missingReader struct {
	store.Reader
	broken bool
}

type missingTx struct {
	store.Tx
	broken bool
}

func (s missesAppUsers) View(ctx context.Context, tenant string, fn func(store.Reader) error) error {
	return s.Store.View(ctx, tenant, func(r store.Reader) error { return fn(missingReader{r, s.broken}) })
}

func (s missesAppUsers) Update(ctx context.Context, tenant string, fn func(store.Tx) error) error {
	return s.Store.Update(ctx, tenant, func(tx store.Tx) error {
		return fn(missingTx{tx, s.broken})
	})
}

func (r missingReader) ListUsers(ctx context.Context, q store.Query) (store.UserPage, error) {
	return listMissing(ctx, r.Reader, q, r.broken)
}

func (t missingTx) ListUsers(ctx context.Context, q store.Query) (store.UserPage, error) {
	return listMissing(ctx, t.Tx, q, t.broken)
}

func listMissing(ctx context.Context, r store.Reader, q store.Query, broken bool) (store.UserPage, error) {
	page, err := r.ListUsers(ctx, q)
	if err != nil || !broken || !namesEmails(q.Filter) {
		return page, err
	}
	kept := page.Users[:0]
	for _, u := range page.Users {
		if u.UserName() != "" {
			kept = append(kept, u)
		} else {
			page.Total--
		}
	}
	page.Users = kept
	return page, nil
}

func namesEmails(f store.Filter) bool {
	switch f := f.(type) {
	case store.Compare:
		return f.Path.Name == "emails"
	case store.ValuePath:
		return f.Path.Name == "emails"
	}
	return false
}

// TestAppUsersCatchesAnAdapterMissingAppUsers runs the suite's AppUsers
// clause, in a child process, on an adapter that misses app users in its
// email lookups: the clause must fail there, naming the lookup, and pass
// on the same adapter without the bug.
func TestAppUsersCatchesAnAdapterMissingAppUsers(t *testing.T) {
	if mode := os.Getenv("STORETEST_CHILD"); mode != "" {
		storetest.Run(t, func(t *testing.T) store.Store { return missesAppUsers{memory.New(), mode == "broken"} })
		return
	}
	run := func(mode string) (string, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestAppUsersCatchesAnAdapterMissingAppUsers$/^AppUsers$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "STORETEST_CHILD="+mode)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("broken")
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("the suite on the broken adapter: %v, want a failing run:\n%s", err, out)
	}
	for _, want := range []string{"--- FAIL: TestAppUsersCatchesAnAdapterMissingAppUsers/AppUsers/found_by_its_email_address", "emails.value eq the address"} {
		if !strings.Contains(out, want) {
			t.Errorf("the failing run does not say %q:\n%s", want, out)
		}
	}
	if out, err := run("fixed"); err != nil || !strings.Contains(out, "--- PASS: TestAppUsersCatchesAnAdapterMissingAppUsers/AppUsers") {
		t.Errorf("the suite on the adapter without the bug: %v\n%s", err, out)
	}
}
