package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"time"
)

// appSchema is the app's own migration: the tables it had before SCIM
// (accounts, teams, team_members) and what it added for SCIM, marked
// "SCIM:". Every SCIM column is written by the adapter only; the rest of
// the app reads the app columns and never the JSON.
const appSchema = `
CREATE TABLE IF NOT EXISTS accounts (
	id         TEXT PRIMARY KEY,
	org_id     TEXT NOT NULL,
	email      TEXT NOT NULL,
	full_name  TEXT NOT NULL DEFAULT '',
	role       TEXT NOT NULL DEFAULT 'viewer',
	active     INTEGER NOT NULL DEFAULT 1,
	created_at TEXT NOT NULL, -- RFC 3339, UTC
	updated_at TEXT NOT NULL,

	-- SCIM: the attributes the IdP sent, as JSON; NULL for an account the
	-- app created that SCIM never wrote (the adapter then derives its
	-- SCIM view from the columns above).
	scim_doc           TEXT,
	scim_username_fold TEXT, -- the case-folded userName, for lookups and uniqueness
	scim_managed       INTEGER NOT NULL DEFAULT 0,
	scim_connection    TEXT NOT NULL DEFAULT '',
	scim_linked        INTEGER NOT NULL DEFAULT 0,
	version            INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS accounts_org ON accounts (org_id, created_at, id);
CREATE UNIQUE INDEX IF NOT EXISTS accounts_username ON accounts (org_id, scim_username_fold);
CREATE INDEX IF NOT EXISTS accounts_managed ON accounts (org_id, created_at, id) WHERE scim_managed = 1;
CREATE INDEX IF NOT EXISTS accounts_app_only ON accounts (org_id) WHERE scim_doc IS NULL;

-- SCIM: a user may carry several email addresses and the app models one,
-- so every address is indexed here (case-folded) for emails.value lookups.
CREATE TABLE IF NOT EXISTS account_emails (
	org_id     TEXT NOT NULL,
	email_fold TEXT NOT NULL,
	account_id TEXT NOT NULL REFERENCES accounts (id),
	PRIMARY KEY (org_id, email_fold, account_id)
);
CREATE INDEX IF NOT EXISTS account_emails_account ON account_emails (account_id);

CREATE TABLE IF NOT EXISTS teams (
	id         TEXT PRIMARY KEY,
	org_id     TEXT NOT NULL,
	name       TEXT NOT NULL,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,

	scim_doc       TEXT, -- SCIM: as for accounts
	scim_name_fold TEXT, -- SCIM: the case-folded name, unique per org
	-- SCIM: store.Group.AppOwned. Teams the app makes itself are app-owned;
	-- the adapter writes 0 for the teams an IdP pushes.
	scim_app_owned INTEGER NOT NULL DEFAULT 1,
	version        INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS teams_org ON teams (org_id, created_at, id);
CREATE UNIQUE INDEX IF NOT EXISTS teams_name ON teams (org_id, scim_name_fold);
CREATE INDEX IF NOT EXISTS teams_app_only ON teams (org_id) WHERE scim_doc IS NULL;

CREATE TABLE IF NOT EXISTS team_members (
	team_id      TEXT NOT NULL REFERENCES teams (id),
	account_id   TEXT NOT NULL REFERENCES accounts (id),
	scim_display TEXT NOT NULL DEFAULT '', -- SCIM: the member's display as the IdP sent it
	PRIMARY KEY (team_id, account_id)
);
CREATE INDEX IF NOT EXISTS team_members_account ON team_members (account_id);

-- SCIM: who was deprovisioned with which role, for RolePolicy's
-- ReprovisionPrevious (store.DepartureRecorder).
CREATE TABLE IF NOT EXISTS scim_departures (
	org_id        TEXT NOT NULL,
	username_fold TEXT NOT NULL,
	username      TEXT NOT NULL,
	role          TEXT NOT NULL,
	departed_at   TEXT NOT NULL,
	PRIMARY KEY (org_id, username_fold)
);
`

// openDB opens (creating when missing) the app's SQLite database at path
// and applies appSchema.
//
// _txlock=immediate makes every read-write transaction start with BEGIN
// IMMEDIATE: it takes SQLite's write lock at once, so concurrent Updates
// run one after another (waiting up to busy_timeout) instead of failing
// when two of them read and then try to write. Read-only transactions stay
// deferred and, in WAL mode, read a snapshot without blocking writers.
func openDB(ctx context.Context, path string) (*sql.DB, error) {
	q := url.Values{}
	q.Set("_txlock", "immediate")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)") // safe with WAL; syncs at checkpoints
	q.Add("_pragma", "foreign_keys(1)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, appSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("creating the app's tables: %w", err)
	}
	return db, nil
}

// timeLayout is how the app stores times: RFC 3339 in UTC with a fixed
// number of fractional digits, so that text order is time order.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }
