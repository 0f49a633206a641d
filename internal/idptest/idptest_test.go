package idptest_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/internal/idptest"
	"github.com/scimkit/scim/store"
	"github.com/scimkit/scim/store/memory"
	sqlstore "github.com/scimkit/scim/store/sql"
)

const token = "scim_idptest_secret"

// policy is the demo server's role policy: the role travels in memberRole.
var policy = scim.RolePolicy{
	Attribute:    "memberRole",
	ExtensionURN: "urn:ietf:params:scim:schemas:extension:scimkit:2.0:User",
	Values:       []string{"viewer", "experiment_editor", "data_owner", "admin"},
	Default:      "viewer",
	Keep:         "default",
}

// stores are the adapters every scenario runs against.
var stores = []struct {
	name string
	open func(t *testing.T) store.Store
}{
	{"memory", func(t *testing.T) store.Store { return memory.New() }},
	{"sqlite", openSQLite},
}

func openSQLite(t *testing.T) store.Store {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "scim.db")+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// serve mounts a handler over st under /scim/v2, as an app would, and
// returns its absolute URL.
func serve(t *testing.T, st store.Store, events *idptest.Events) string {
	t.Helper()
	tokens := scim.NewStaticTokens()
	tokens.Add("acme", token)
	cfg := scim.Config{
		Authenticator: tokens,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if events != nil {
		cfg.OnEvent = events.Record
	}
	h, err := scim.NewHandler(st, policy, cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", h))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/scim/v2"
}

// TestReplay replays every scenario under testdata against every store,
// each on a fresh one.
func TestReplay(t *testing.T) {
	scenarios, err := idptest.Load("testdata")
	if err != nil {
		t.Fatal(err)
	}
	if len(scenarios) == 0 {
		t.Fatal("no scenarios under testdata")
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			for _, sc := range scenarios {
				t.Run(sc.Name, func(t *testing.T) {
					t.Parallel()
					events := &idptest.Events{}
					idptest.Run(t, sc, serve(t, st.open(t), events), token, events)
				})
			}
		})
	}
}
