package sqlstore

import "database/sql"

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
