// Command customstore maps SCIM onto an existing app's own tables through
// the store.Store interface: the app's accounts, teams and team_members in
// SQLite (modernc.org/sqlite, pure Go), extended with a few SCIM columns.
//
//	go run ./examples/customstore [-addr 127.0.0.1:8082] [-db customstore.db]
//
// It creates the app's tables (as the app's own migration would, see
// appSchema), seeds org "acme" with two accounts the app created itself
// (the owner and Ada) and a team, and serves SCIM at
// http://ADDR/scim/v2 with a bearer token it prints. With
// Config.Users.LinkExisting, an IdP that provisions ada@acme.example adopts
// Ada's account (same id) instead of getting 409.
//
// # The adapter
//
// Store (store.go, reader.go, tx.go) implements store.Store, and
// store.DepartureRecorder, over the app's schema: the org is the SCIM
// tenant, each View is a read-only transaction and each Update a
// read-write one that starts with BEGIN IMMEDIATE. It passes the
// conformance suite store/storetest (customstore_test.go), except the
// optional event outbox (store.EventRecorder), which it does not
// implement.
//
// On every write it keeps the app's own columns (email, full_name, role,
// active; the team's name) in step with the SCIM attributes, so the rest
// of the app never reads SCIM JSON; the attributes themselves live in a
// scim_doc JSON column, and the management flags (scim_managed,
// scim_connection, scim_linked) and the version in columns.
//
// # The trade-off
//
// A custom adapter chooses how much of a SCIM filter it translates into
// SQL. This one pushes down only the cheap, common lookups that identity
// providers make on every request: id eq, userName eq (a case-folded
// column with a unique index), emails.value eq and emails[value eq …] (an
// index of every address in account_emails, since the app's one email
// column cannot answer for a user's other addresses), displayName eq,
// members.value eq, and Query.ManagedOnly. Everything else is evaluated
// with store.Eval over the candidate rows, decoded from scim_doc, and
// sorting and paging happen in Go with store.SortKey and
// store.CompareSortKeys (an unfiltered list in the default order pages in
// SQL). That is correct for every filter, and cheap for the ones that
// matter, but a rare filter such as title co "eng" reads the whole org.
// store/sql shows full pushdown: every filter and sort in SQL.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"flag"
	"log"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/scimkit/scim"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8082", "listen address")
	path := flag.String("db", "customstore.db", "SQLite file of the app")
	flag.Parse()

	ctx := context.Background()
	db, err := openDB(ctx, *path)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := seed(ctx, db, "acme", time.Now()); err != nil {
		log.Fatal(err)
	}
	token := "scim_" + rand.Text()
	tokens := scim.NewStaticTokens()
	tokens.Add("acme", token)
	h, err := newHandler(NewStore(db, roleAttribute), tokens, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", h))
	log.Printf("SCIM at http://%s/scim/v2 (org acme, token: %s)", *addr, token)
	// A server facing the internet needs timeouts: http.ListenAndServe has
	// none, and a client that trickles its headers or body would hold a
	// connection forever. The request deadline of the SCIM handler
	// (Limits.Timeout, 30 s) fits inside them.
	srv := &http.Server{
		Addr:              *addr,
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       40 * time.Second,
		WriteTimeout:      45 * time.Second,
		IdleTimeout:       30 * time.Second,
	}
	log.Fatal(srv.ListenAndServe())
}

// roleAttribute is the attribute the role travels in, as a top-level key
// of the User ("memberRole": "editor").
const roleAttribute = "memberRole"

// newHandler serves SCIM over st: the role travels in roleAttribute, the
// owner is protected, and existing accounts are adopted by email.
func newHandler(st *Store, auth scim.Authenticator, logger *slog.Logger) (*scim.Handler, error) {
	return scim.NewHandler(st, scim.RolePolicy{
		Attribute: roleAttribute,
		Values:    []string{"viewer", "editor", "admin", "owner"},
		Ceiling:   "admin",
		Default:   "viewer",
		Keep:      "default",
		Protected: []string{"owner"},
	}, scim.Config{Authenticator: auth, Logger: logger, Users: scim.UserRules{LinkExisting: true}})
}

// seed inserts, as the app itself would (no SCIM columns), the org's owner,
// one other account and a team, unless they exist.
func seed(ctx context.Context, db *sql.DB, org string, now time.Time) error {
	at := formatTime(now)
	_, err := db.ExecContext(ctx, `
		INSERT OR IGNORE INTO accounts (id, org_id, email, full_name, role, active, created_at, updated_at) VALUES
			('acc_owner', ?1, 'olivia@acme.example', 'Olivia Owner', 'owner', 1, ?2, ?2),
			('acc_ada', ?1, 'ada@acme.example', 'Ada L.', 'viewer', 1, ?2, ?2);
		INSERT OR IGNORE INTO teams (id, org_id, name, created_at, updated_at) VALUES
			('team_research', ?1, 'Research', ?2, ?2);
		INSERT OR IGNORE INTO team_members (team_id, account_id) VALUES ('team_research', 'acc_owner');`,
		org, at)
	return err
}
