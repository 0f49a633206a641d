package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"modernc.org/sqlite"

	"github.com/scimkit/scim/store"
)

// Store is a store.Store over the app's own tables (see appSchema): a SCIM
// user is a row of accounts, a group a row of teams, a membership a row of
// team_members, and a tenant is an org (org_id).
//
// Every write keeps the app's columns in step with the SCIM attributes:
// accounts.email from the primary (else first) email or the userName,
// full_name from name.formatted or givenName and familyName (or
// displayName), role from User.Role and active from active; teams.name from
// displayName. The rest of the app reads those columns only.
//
// Accounts and teams the app created itself, which SCIM never wrote
// (scim_doc NULL), are visible to SCIM as users with userName and email set
// to the account's email (so that Config.Users.LinkExisting can adopt them) and
// as groups named after the team. Their fold columns are empty, since the
// app's own code does not fill them, so every lookup takes them as
// candidates and compares them in Go; once SCIM writes them they are
// indexed like the rest.
//
// The app owns the role: User.Role is read from accounts.role, so a role the
// app changes itself shows in SCIM, also under the role attribute when
// NewStore is given its name. An app that changes an account SCIM wrote
// should increment its version, so that an IdP's stale ETag gets 412.
type Store struct {
	db *sql.DB
	// roleAttribute is RolePolicy.Attribute (a top-level attribute), or "".
	roleAttribute string
	// writeMu orders the writers of this process, which then never wait in
	// SQLite's busy handler, which polls with sleeps; BEGIN IMMEDIATE
	// orders them with other processes.
	writeMu sync.Mutex
}

var _ store.Store = (*Store)(nil)

// NewStore returns a Store over db, which must hold the tables of appSchema
// and be opened as openDB does: with _txlock=immediate, so that each
// Update starts by taking SQLite's write lock. roleAttribute names the
// handler's role attribute (RolePolicy.Attribute, when it is a top-level
// attribute): users read from the store carry the role column there too,
// as the handler writes it. "" leaves the attributes as written.
func NewStore(db *sql.DB, roleAttribute string) *Store {
	return &Store{db: db, roleAttribute: roleAttribute}
}

// View runs fn in a read-only transaction: in WAL mode, a snapshot.
func (s *Store) View(ctx context.Context, org string, fn func(store.Reader) error) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return dbErr("begin", err)
	}
	defer tx.Rollback()
	return fn(&reader{tx: tx, org: org, roleAttribute: s.roleAttribute})
}

// Update runs fn in a read-write transaction and commits when fn returns
// nil. The writers of every org run one after another, which is all the
// tenant lock the contract asks for: SQLite has one writer at a time
// anyway. In this process a mutex orders them; the transaction begins with
// BEGIN IMMEDIATE (the DSN's _txlock), so a writer of another process
// (the rest of the app) makes it wait for SQLite's lock, up to
// busy_timeout, before it reads anything, rather than fail on its first
// write. A writer that waited longer gets an error matching
// store.ErrUnavailable; Update does not retry.
func (s *Store) Update(ctx context.Context, org string, fn func(store.Tx) error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	sqlTx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return dbErr("begin", err)
	}
	committed := false
	defer func() {
		if !committed { // also when fn panics; the panic goes on
			sqlTx.Rollback()
		}
	}()
	if err := fn(&tx{reader: reader{tx: sqlTx, org: org, roleAttribute: s.roleAttribute}}); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		// database/sql rolls a transaction back on its own once its
		// context ends, and Commit then says only that the transaction is
		// done: the context's error is the one the caller can act on.
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("customstore: commit: %w", cerr)
		}
		return dbErr("commit", err)
	}
	committed = true
	return nil
}

// dbErr wraps an error of the database: a lock wait that ran out matches
// store.ErrUnavailable (the handler answers 503 and the IdP retries), a
// unique index store.ErrConflict.
func dbErr(op string, err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch {
		case se.Code()&0xff == 5 || se.Code()&0xff == 6: // SQLITE_BUSY, SQLITE_LOCKED
			return fmt.Errorf("customstore: %s: %w (%w)", op, store.ErrUnavailable, err)
		case se.Code() == 2067 || se.Code() == 1555: // SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY
			return fmt.Errorf("customstore: %s: %w (%w)", op, store.ErrConflict, err)
		}
	}
	return fmt.Errorf("customstore: %s: %w", op, err)
}

func notFound(kind, id string) error {
	return fmt.Errorf("customstore: %s %q: %w", kind, id, store.ErrNotFound)
}

// fold returns the key under which a case-insensitive string is indexed:
// store.Fold, the definition Eval and every adapter share. It runs in Go
// because SQLite's lower() and NOCASE only know ASCII. The *_fold columns
// hold its results: an app upgrading to a version of scimkit whose Fold
// differs recomputes them, as sqlstore's migration 0005 does.
func fold(s string) string { return store.Fold(s) }

// nullFold is fold(s) as a column value: NULL for "", which unique indexes
// do not hold to uniqueness (a user without a userName).
func nullFold(s string) sql.NullString {
	return sql.NullString{String: fold(s), Valid: s != ""}
}

func encodeDoc(a store.Attributes) (string, error) {
	if a == nil {
		a = store.Attributes{}
	}
	b, err := json.Marshal(a)
	if err != nil {
		return "", fmt.Errorf("customstore: encoding attributes: %w", err)
	}
	return string(b), nil
}

func decodeDoc(s string) (store.Attributes, error) {
	a := store.Attributes{}
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		return nil, fmt.Errorf("customstore: decoding scim_doc: %w", err)
	}
	return a, nil
}

// appAccount is what the app's own columns of accounts say about a user.
type appAccount struct {
	email, fullName, role string
	active                bool
}

// appColumns derives the app's columns from a SCIM user.
func appColumns(u *store.User) appAccount {
	return appAccount{email: appEmail(u), fullName: fullName(u.Attributes), role: u.Role, active: u.Active()}
}

// appEmail is the primary email address, else the first, else the
// userName.
func appEmail(u *store.User) string {
	list, _ := u.Attributes["emails"].([]any)
	first := ""
	for _, el := range list {
		m, _ := el.(map[string]any)
		v, _ := m["value"].(string)
		if v == "" {
			continue
		}
		if m["primary"] == true {
			return v
		}
		if first == "" {
			first = v
		}
	}
	if first != "" {
		return first
	}
	return u.UserName()
}

// fullName is name.formatted, else givenName and familyName, else
// displayName.
func fullName(a store.Attributes) string {
	name, _ := a["name"].(map[string]any)
	if f, _ := name["formatted"].(string); strings.TrimSpace(f) != "" {
		return strings.TrimSpace(f)
	}
	given, _ := name["givenName"].(string)
	family, _ := name["familyName"].(string)
	if s := strings.TrimSpace(given + " " + family); s != "" {
		return s
	}
	display, _ := a["displayName"].(string)
	return strings.TrimSpace(display)
}

// emailKeys returns the case-folded values of the user's emails, once
// each: every string an emails.value eq filter can match (an element's
// value, or a bare string element).
func emailKeys(a store.Attributes) []string {
	list, _ := a["emails"].([]any)
	var out []string
	seen := map[string]bool{}
	for _, el := range list {
		v, ok := el.(string)
		if m, isMap := el.(map[string]any); isMap {
			v, ok = m["value"].(string)
		}
		if k := fold(v); ok && v != "" && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// appOnlyUser is the SCIM view of an account the app created and SCIM
// never wrote.
func appOnlyUser(a appAccount) store.Attributes {
	attrs := store.Attributes{"userName": a.email, "active": a.active}
	if a.email != "" {
		attrs["emails"] = []any{map[string]any{"value": a.email, "type": "work", "primary": true}}
	}
	if a.fullName != "" {
		attrs["displayName"] = a.fullName
		attrs["name"] = map[string]any{"formatted": a.fullName}
	}
	return attrs
}
