package scim_test

import (
	"database/sql"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	_ "github.com/jackc/pgx/v5/stdlib"

	sqlstore "github.com/scimkit/scim/store/sql"
)

// TestTwoHandlersOnePostgresLoseNoMember runs two handlers, each with its
// own *sql.DB pool on one PostgreSQL database, as two instances of an app
// behind a load balancer would. 16 clients patch one group's membership at
// once through real HTTP, alternating between the instances: each adds
// its own users in several requests, re-adds its neighbour's (Okta resends
// members), and removes some of its own again. No member may be lost or
// duplicated, and every request must succeed.
func TestTwoHandlersOnePostgresLoseNoMember(t *testing.T) {
	dsn := postgresTestDSN(t)
	var servers []*testServer
	for range 2 {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		servers = append(servers, newSQLTestServer(t, migratedStore(t, db, sqlstore.Postgres)))
	}

	const clients, perClient, batch = 16, 12, 4
	ids := make([][]string, clients)
	for c := range clients {
		for i := range perClient {
			r := servers[(c+i)%2].must(http.StatusCreated, "POST", "/Users", oktaUser(fmt.Sprintf("c%02d-u%02d@example.com", c, i), "C", fmt.Sprint(c)))
			ids[c] = append(ids[c], str(r.body, "id"))
		}
	}
	g := servers[0].must(http.StatusCreated, "POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Everyone","members":[]}`)
	gid := str(g.body, "id")

	patch := func(op, path string, values []string) string {
		var vs []string
		for _, v := range values {
			vs = append(vs, fmt.Sprintf(`{"value":%q}`, v))
		}
		return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"` + op + `","path":"` + path + `","value":[` + strings.Join(vs, ",") + `]}]}`
	}
	var wg sync.WaitGroup
	errs := make(chan string, clients*perClient)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			send := func(n int, body string) {
				// do calls t.Fatalf on transport errors only; statuses are
				// checked here, off the test goroutine.
				r := servers[(c+n)%2].do("PATCH", "/Groups/"+gid, body)
				if r.status != http.StatusNoContent && r.status != http.StatusOK {
					errs <- fmt.Sprintf("client %d: PATCH: status %d: %s", c, r.status, r.raw)
				}
			}
			n := 0
			for i := 0; i < perClient; i += batch {
				send(n, patch("add", "members", ids[c][i:i+batch]))
				n++
				neighbour := ids[(c+1)%clients]
				send(n, patch("add", "members", neighbour[i:i+batch]))
				n++
			}
			// Remove the first two of its own, Entra style (value list).
			send(n, patch("remove", "members", ids[c][:2]))
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}

	// Every user except the first two of each client, whose removal came
	// after the client's own adds; a neighbour may have re-added them,
	// though, since its adds ran concurrently. So those two are either
	// members or not, the rest must all be members, once.
	must := map[string]bool{}
	optional := map[string]bool{}
	for c := range clients {
		for i, id := range ids[c] {
			if i < 2 {
				optional[id] = true
			} else {
				must[id] = true
			}
		}
	}
	for _, s := range servers {
		got := memberIDs(s.must(http.StatusOK, "GET", "/Groups/"+gid, "").body)
		seen := map[string]int{}
		var missing, extra, twice []string
		for _, id := range got {
			seen[id]++
			if seen[id] == 2 {
				twice = append(twice, id)
			}
			if !must[id] && !optional[id] {
				extra = append(extra, id)
			}
		}
		for id := range must {
			if seen[id] == 0 {
				missing = append(missing, id)
			}
		}
		sort.Strings(missing)
		type problems struct{ Missing, Extra, Twice []string }
		if diff := cmp.Diff(problems{}, problems{missing, extra, twice}); diff != "" {
			t.Errorf("%s: membership (-want +got):\n%s", s.base, diff)
		}
		list := s.must(http.StatusOK, "GET", "/Groups?filter="+filterQuery(`displayName eq "Everyone"`), "")
		if n := len(memberIDs(resources(t, list)[0])); n != len(got) {
			t.Errorf("%s: the list shows %d members, GET %d", s.base, n, len(got))
		}
	}
}
