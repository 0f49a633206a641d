package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/scimkit/scim/store"
)

var _ store.TokenStore = (*Store)(nil)

const tokenColumns = "tenant, id, connection_name, name, prefix, digest, created, expires, revoked, last_used"

// CreateToken implements store.TokenStore. It is one INSERT: the primary
// key (tenant, id) and the unique index on digest catch duplicates, which
// come back as store.ErrConflict.
func (s *Store) CreateToken(ctx context.Context, t store.Token) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	r := s.tokenReader()
	_, err := r.q.ExecContext(ctx, r.rebind("INSERT INTO scim_tokens ("+tokenColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
		t.Tenant, t.ID, t.Connection, t.Name, t.Prefix, t.Digest,
		t.Created.UnixNano(), nanos(t.Expires), nanos(t.Revoked), nanos(t.LastUsed))
	if isUniqueViolation(err) {
		return fmt.Errorf("sqlstore: token %s: %w", t.ID, store.ErrConflict)
	}
	return s.wrap("create token", err)
}

// TokenByDigest implements store.TokenStore with one index hit.
func (s *Store) TokenByDigest(ctx context.Context, digest string) (store.Token, error) {
	if err := s.ready(ctx); err != nil {
		return store.Token{}, err
	}
	r := s.tokenReader()
	t, err := scanToken(r.q.QueryRowContext(ctx, r.rebind("SELECT "+tokenColumns+" FROM scim_tokens WHERE digest = ?"), digest))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Token{}, store.ErrNotFound
	}
	return t, s.wrap("read token", err)
}

// Tokens implements store.TokenStore.
func (s *Store) Tokens(ctx context.Context, tenant string) ([]store.Token, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	r := s.tokenReader()
	rows, err := r.query(ctx, "list tokens", "SELECT "+tokenColumns+" FROM scim_tokens WHERE tenant = ? ORDER BY created DESC, id DESC", tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, s.wrap("list tokens", err)
		}
		out = append(out, t)
	}
	return out, s.wrap("list tokens", rows.Err())
}

// RevokeToken implements store.TokenStore.
func (s *Store) RevokeToken(ctx context.Context, tenant, id string, at time.Time) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	r := s.tokenReader()
	n := at.UnixNano()
	if _, err := r.exec(ctx, "revoke token", "UPDATE scim_tokens SET revoked = ? WHERE tenant = ? AND id = ? AND (revoked IS NULL OR revoked > ?)", n, tenant, id, n); err != nil {
		return err
	}
	// Rows affected cannot tell "unknown" from "already revoked earlier"
	// (and MySQL counts changed rows only), so ask.
	var one int
	err := r.q.QueryRowContext(ctx, r.rebind("SELECT 1 FROM scim_tokens WHERE tenant = ? AND id = ?"), tenant, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlstore: token %s: %w", id, store.ErrNotFound)
	}
	return s.wrap("revoke token", err)
}

// TouchToken implements store.TokenStore.
func (s *Store) TouchToken(ctx context.Context, tenant, id string, at time.Time) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	r := s.tokenReader()
	n := at.UnixNano()
	_, err := r.exec(ctx, "touch token", "UPDATE scim_tokens SET last_used = ? WHERE tenant = ? AND id = ? AND (last_used IS NULL OR last_used < ?)", n, tenant, id, n)
	return err
}

// tokenReader runs token statements on the pool, outside any transaction:
// each is a single statement.
func (s *Store) tokenReader() *reader { return &reader{s: s, q: s.db} }

func scanToken(sc scanner) (store.Token, error) {
	var (
		t                          store.Token
		created                    int64
		expires, revoked, lastUsed *int64
	)
	err := sc.Scan(&t.Tenant, &t.ID, &t.Connection, &t.Name, &t.Prefix, &t.Digest, &created, &expires, &revoked, &lastUsed)
	if err != nil {
		return store.Token{}, err
	}
	t.Created = time.Unix(0, created).UTC()
	t.Expires, t.Revoked, t.LastUsed = fromNanos(expires), fromNanos(revoked), fromNanos(lastUsed)
	return t, nil
}

// isUniqueViolation reports a duplicate key: PostgreSQL's 23505, MySQL's
// 1062, SQLite's SQLITE_CONSTRAINT_UNIQUE or _PRIMARYKEY.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	if sqlState(err) == "23505" || mysqlNumber(err) == 1062 {
		return true
	}
	switch sqliteCode(err) {
	case 2067, 1555:
		return true
	}
	return false
}
