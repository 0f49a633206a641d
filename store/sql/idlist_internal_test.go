package sqlstore

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
)

// An or of case-exact id eq clauses (a membership batch's check) becomes
// one IN list, which the engines answer from the (tenant, id) index.
func TestIDListBecomesIn(t *testing.T) {
	id := func(v string) store.Filter {
		return store.Compare{Path: store.Path{Name: "id"}, Op: store.Eq, Value: v, CaseExact: true}
	}
	tests := []struct {
		name string
		d    Dialect
		f    store.Filter
		want string
		args []any
	}{
		{"SQLite", SQLite, store.Or{Left: id("a"), Right: store.Or{Left: id("b"), Right: id("c")}}, "(r.id IN (?, ?, ?))", []any{"a", "b", "c"}},
		{"PostgreSQL", Postgres, store.Or{Left: id("a"), Right: id("b")}, "(r.id IN ($1::text, $2::text))", []any{"a", "b"}},
		{"MySQL", MySQL, store.Or{Left: id("a"), Right: id("b")}, "(r.id IN (CAST(? AS BINARY), CAST(? AS BINARY)))", []any{"a", "b"}},
		{"a case-insensitive id stays an or", SQLite,
			store.Or{Left: id("a"), Right: store.Compare{Path: store.Path{Name: "id"}, Op: store.Eq, Value: "B"}},
			"((r.id IS NOT NULL AND r.id = ?) OR (lower(r.id) IS NOT NULL AND lower(r.id) = ?))", []any{"a", "b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &builder{d: tc.d}
			got, err := b.where(users, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("where = %s, want %s", got, tc.want)
			}
			if diff := cmp.Diff(tc.args, b.args); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
		})
	}
}
