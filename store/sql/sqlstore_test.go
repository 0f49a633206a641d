package sqlstore_test

import (
	"testing"

	"github.com/scimkit/scim/store"
	"github.com/scimkit/scim/store/storetest"
)

// TestConformance runs the storage conformance suite on SQLite always and
// on PostgreSQL and MySQL when SCIM_TEST_POSTGRES_DSN and
// SCIM_TEST_MYSQL_DSN name a server.
func TestConformance(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			st := e.open(t) // skips when the engine's DSN is unset
			powers, err := storetest.Powers(t.Context(), st)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range powers {
				if !p.Has {
					t.Errorf("the SQL store lacks %s (on its %s): clauses %v would skip", p.Name, p.On, p.Clauses)
				}
			}
			storetest.Run(t, func(t *testing.T) store.Store { return e.open(t) })
		})
	}
}
