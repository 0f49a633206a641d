package sqlstore

import (
	"context"
	"database/sql"

	"github.com/scimkit/scim/store"
)

// Test-only access to internals, for the external tests and benchmarks.

// DBOf returns the *sql.DB behind s.
func DBOf(s *Store) *sql.DB { return s.db }

// EncodeDoc returns the doc and fdoc columns the adapter writes for attrs.
func EncodeDoc(attrs map[string]any) (doc, fdoc string, err error) {
	d, f, err := encodeDoc(attrs)
	return d, string(f), err
}

// Fold returns the folded form the adapter stores for userName and
// displayName lookups.
func Fold(s string) string { return fold(s) }

// ReadAllUsers reads every user of the tenant in one query, in seq order,
// decoding each row as a page does: the floor a paged walk is measured
// against.
func ReadAllUsers(ctx context.Context, s *Store, tenant string, fn func(store.User)) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	r := &reader{s: s, q: tx, tenant: tenant}
	rows, err := r.query(ctx, "read all", "SELECT "+userColumns+" FROM scim_users r WHERE r.tenant = ? ORDER BY r.seq", tenant)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		_, u, doc, err := scanUserRaw(rows)
		if err != nil {
			return err
		}
		if err := decodeDoc(&u, doc); err != nil {
			return err
		}
		fn(u)
	}
	return rows.Err()
}

// MigrateTo applies the migrations up to version, as an earlier version of
// the package would have, outside a transaction.
func MigrateTo(ctx context.Context, s *Store, version int) error {
	ms, err := loadMigrations(s.dialect)
	if err != nil {
		return err
	}
	var keep []migration
	for _, m := range ms {
		if m.version <= version {
			keep = append(keep, m)
		}
	}
	return s.applyMigrations(ctx, s.db, keep)
}
