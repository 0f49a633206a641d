package scim_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
	sqlstore "github.com/scimkit/scim/store/sql"
)

// isolationStores are the stores the tenant isolation matrix runs on: the
// memory store, SQLite, and PostgreSQL and MySQL when their DSNs are set.
var isolationStores = []struct {
	name string
	open func(t *testing.T) store.Store
}{
	{"memory", stores[0].open},
	{"sqlite", openSQLiteStore},
	{"postgres", func(t *testing.T) store.Store {
		db, err := sql.Open("pgx", postgresTestDSN(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return migratedStore(t, db, sqlstore.Postgres)
	}},
	{"mysql", openMySQLStore},
}

// openMySQLStore gives the test its own database on the server named by
// SCIM_TEST_MYSQL_DSN, dropped when the test ends.
func openMySQLStore(t *testing.T) store.Store {
	t.Helper()
	db, err := sql.Open("mysql", mysqlTestDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return migratedStore(t, db, sqlstore.MySQL)
}

// mysqlTestDSN returns a DSN of a new database on the server named by
// SCIM_TEST_MYSQL_DSN, dropped when the test ends; it skips without the
// variable.
func mysqlTestDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("SCIM_TEST_MYSQL_DSN")
	if dsn == "" {
		t.Skip("SCIM_TEST_MYSQL_DSN is not set (e.g. root@tcp(127.0.0.1:3306)/test)")
	}
	admin, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	var b [6]byte
	rand.Read(b[:])
	name := "scimtest_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4"); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() { admin.Exec("DROP DATABASE " + name) })
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DBName = name
	cfg.ParseTime = true
	return cfg.FormatDSN()
}

// TestTenantIsolation proves that a token of tenant acme (A) can read,
// list, filter, change, delete, link or add as a group member nothing of
// tenant other (B), on every endpoint and every store. After each request
// B's data, read through the store, is exactly as before, and the answer
// names none of B's data that the request did not name itself.
func TestTenantIsolation(t *testing.T) {
	for _, st := range isolationStores {
		t.Run(st.name, func(t *testing.T) {
			testTenantIsolation(t, st.open(t))
		})
	}
}

func testTenantIsolation(t *testing.T, st store.Store) {
	s := newTestServerWith(t, st, scim.Config{Users: scim.UserRules{LinkExisting: true}})
	b := "Authorization: Bearer " + tokenOther
	const patchOp = `"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]`

	// B: a provisioned user in a group, and an app user that provisioning
	// would link by email.
	bob := str(s.must(http.StatusCreated, "POST", "/Users", `{"userName":"bob@b.test","externalId":"ext-bob",
		"displayName":"Bob Other","emails":[{"value":"bob.mail@b.test","type":"work","primary":true}]}`, b).body, "id")
	bTeam := str(s.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"B Team","externalId":"ext-bteam",
		"members":[{"value":"`+bob+`"}]}`, b).body, "id")
	linkme := seedUser(t, st, "other", "linkme@b.test", "viewer")
	// A: a user and a group.
	ada := str(s.must(http.StatusCreated, "POST", "/Users", `{"userName":"ada@a.test","emails":[{"value":"ada@a.test"}]}`).body, "id")
	aTeam := str(s.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"A Team","members":[{"value":"`+ada+`"}]}`).body, "id")

	// What an answer to A must not contain unless the request did.
	secretsOfB := []string{bob, bTeam, linkme, "bob@b.test", "ext-bob", "Bob Other", "bob.mail@b.test",
		"B Team", "ext-bteam", "linkme@b.test"}
	idsOfB := []string{bob, bTeam, linkme}

	// membersOfA returns the members of A's groups, from the store.
	membersOfA := func(t *testing.T) []string {
		t.Helper()
		var out []string
		err := st.View(context.Background(), "acme", func(r store.Reader) error {
			page, err := r.ListGroups(context.Background(), store.Query{Limit: 1000, WithMembers: true})
			for _, g := range page.Groups {
				for _, m := range g.Members {
					out = append(out, m.Value)
				}
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	emptyList := func(t *testing.T, r response) {
		t.Helper()
		if got := r.body["totalResults"]; got != float64(0) || len(resources(t, r)) != 0 {
			t.Errorf("totalResults %v, want an empty list: %s", got, r.raw)
		}
	}
	listsNoneOfB := func(t *testing.T, r response) {
		t.Helper()
		for _, res := range resources(t, r) {
			if slices.Contains(idsOfB, str(res, "id")) {
				t.Errorf("listed B's %s: %s", str(res, "id"), r.raw)
			}
		}
	}
	newResourceOfA := func(t *testing.T, r response) {
		t.Helper()
		if id := str(r.body, "id"); id == "" || slices.Contains(idsOfB, id) {
			t.Errorf("answered with id %q, want a new resource of A: %s", id, r.raw)
		}
	}
	noMemberOfB := func(t *testing.T, _ response) {
		t.Helper()
		for _, m := range membersOfA(t) {
			if slices.Contains(idsOfB, m) {
				t.Errorf("B's user %s became a member of a group of A", m)
			}
		}
	}
	users := func(f string) string { return "/Users?filter=" + filterQuery(f) }
	groups := func(f string) string { return "/Groups?filter=" + filterQuery(f) }
	search := func(f string) string {
		return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":` + mustJSON(t, f) + `}`
	}
	replaceBob := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"` + bob + `","userName":"bob@b.test","displayName":"Taken Over","active":false}`
	deactivate := `{` + patchOp + `,"Operations":[{"op":"replace","value":{"active":false}}]}`

	tests := []struct {
		name         string
		method, path string
		body         string
		wantStatus   int
		check        func(t *testing.T, r response)
	}{
		{"read B's user", "GET", "/Users/" + bob, "", 404, nil},
		{"read B's app user", "GET", "/Users/" + linkme, "", 404, nil},
		{"replace B's user", "PUT", "/Users/" + bob, replaceBob, 404, nil},
		{"patch B's user", "PATCH", "/Users/" + bob, deactivate, 404, nil},
		{"patch B's app user (would link it)", "PATCH", "/Users/" + linkme, deactivate, 404, nil},
		{"delete B's user", "DELETE", "/Users/" + bob, "", 404, nil},
		{"read B's group", "GET", "/Groups/" + bTeam, "", 404, nil},
		{"replace B's group", "PUT", "/Groups/" + bTeam, `{"displayName":"B Team","members":[{"value":"` + ada + `"}]}`, 404, nil},
		{"patch B's group members", "PATCH", "/Groups/" + bTeam, `{` + patchOp + `,"Operations":[{"op":"add","path":"members","value":[{"value":"` + ada + `"}]}]}`, 404, nil},
		{"empty B's group", "PATCH", "/Groups/" + bTeam, `{` + patchOp + `,"Operations":[{"op":"replace","path":"members","value":[]}]}`, 404, nil},
		{"rename B's group", "PATCH", "/Groups/" + bTeam, `{` + patchOp + `,"Operations":[{"op":"replace","value":{"displayName":"Mine"}}]}`, 404, nil},
		{"delete B's group", "DELETE", "/Groups/" + bTeam, "", 404, nil},

		{"list users", "GET", "/Users", "", 200, listsNoneOfB},
		{"list groups", "GET", "/Groups", "", 200, listsNoneOfB},
		{"filter users by id", "GET", users(`id eq "` + bob + `"`), "", 200, emptyList},
		{"filter users by userName", "GET", users(`userName eq "BOB@b.test"`), "", 200, emptyList},
		{"filter users by userName prefix", "GET", users(`userName sw "bob"`), "", 200, emptyList},
		{"filter users by externalId", "GET", users(`externalId eq "ext-bob"`), "", 200, emptyList},
		{"filter users by email", "GET", users(`emails[type eq "work"].value eq "bob.mail@b.test"`), "", 200, emptyList},
		{"filter users by emails", "GET", users(`emails co "b.test"`), "", 200, emptyList},
		{"filter users by displayName", "GET", users(`displayName eq "Bob Other"`), "", 200, emptyList},
		{"filter app users by userName", "GET", users(`userName eq "linkme@b.test"`), "", 200, emptyList},
		{"filter users by B's group", "GET", users(`groups.value eq "` + bTeam + `"`), "", 200, emptyList},
		{"filter users, any", "GET", users(`userName pr`), "", 200, listsNoneOfB},
		{"filter groups by id", "GET", groups(`id eq "` + bTeam + `"`), "", 200, emptyList},
		{"filter groups by displayName", "GET", groups(`displayName eq "b team"`) + "&excludedAttributes=members", "", 200, emptyList},
		{"filter groups by externalId", "GET", groups(`externalId eq "ext-bteam"`), "", 200, emptyList},
		{"filter groups by member", "GET", groups(`members[value eq "` + bob + `"]`), "", 200, emptyList},
		{"filter groups by members.value", "GET", groups(`members.value eq "` + bob + `"`), "", 200, emptyList},
		{"search users by userName", "POST", "/Users/.search", search(`userName eq "bob@b.test"`), 200, emptyList},
		{"search users by id", "POST", "/Users/.search", search(`id eq "` + bob + `" or id eq "` + linkme + `"`), 200, emptyList},
		{"search users, all", "POST", "/Users/.search", search(`active pr or not (active pr)`), 200, listsNoneOfB},
		{"search groups by displayName", "POST", "/Groups/.search", search(`displayName eq "B Team"`), 200, emptyList},
		{"search groups by member", "POST", "/Groups/.search", search(`members.value eq "` + bob + `"`), 200, emptyList},
		{"search the root, all", "POST", "/.search", `{}`, 200, listsNoneOfB},
		{"search the root by id", "POST", "/.search", search(`id eq "` + bob + `" or id eq "` + bTeam + `"`), 200, emptyList},
		{"search the root by member", "POST", "/.search", search(`members.value eq "` + bob + `"`), 200, emptyList},

		{"add B's user to A's group", "PATCH", "/Groups/" + aTeam, `{` + patchOp + `,"Operations":[{"op":"add","path":"members","value":[{"value":"` + bob + `"},{"value":"` + linkme + `"}]}]}`, 204, noMemberOfB},
		{"replace A's group members with B's", "PATCH", "/Groups/" + aTeam, `{` + patchOp + `,"Operations":[{"op":"replace","path":"members","value":[{"value":"` + bob + `"},{"value":"` + ada + `"}]}]}`, 204, noMemberOfB},
		{"remove B's user from A's group", "PATCH", "/Groups/" + aTeam, `{` + patchOp + `,"Operations":[{"op":"remove","path":"members[value eq \"` + bob + `\"]"}]}`, 204, noMemberOfB},
		{"PUT A's group with B's members", "PUT", "/Groups/" + aTeam, `{"displayName":"A Team","members":[{"value":"` + ada + `"},{"value":"` + bob + `"},{"value":"` + linkme + `"}]}`, 200, noMemberOfB},
		{"create a group of A with B's members", "POST", "/Groups", `{"displayName":"A Two","members":[{"value":"` + bob + `"}]}`, 201, noMemberOfB},
		{"create A's group named as B's", "POST", "/Groups", `{"displayName":"B Team"}`, 201, newResourceOfA},
		{"link B's app user by userName", "POST", "/Users", `{"userName":"linkme@b.test","emails":[{"value":"linkme@b.test","type":"work"}]}`, 201, newResourceOfA},
		{"link B's app user by email", "POST", "/Users", `{"userName":"someone@a.test","emails":[{"value":"linkme@b.test","type":"work","primary":true}]}`, 201, newResourceOfA},
		{"create A's user named as B's", "POST", "/Users", `{"userName":"bob@b.test","externalId":"ext-bob"}`, 201, newResourceOfA},
		{"make B's user A's manager", "PATCH", "/Users/" + ada, `{` + patchOp + `,"Operations":[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"` + bob + `"}]}`, 200, nil},
		{"delete A's user", "DELETE", "/Users/" + ada, "", 204, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			beforeB := snapshot(t, st, "other")
			beforeA := snapshot(t, st, "acme")
			r := s.do(tc.method, tc.path, tc.body)
			if r.status != tc.wantStatus {
				t.Fatalf("status %d, want %d\n%s", r.status, tc.wantStatus, r.raw)
			}
			if diff := cmp.Diff(beforeB, snapshot(t, st, "other")); diff != "" {
				t.Errorf("B's data changed (-before +after):\n%s", diff)
			}
			if tc.wantStatus == http.StatusNotFound {
				if diff := cmp.Diff(beforeA, snapshot(t, st, "acme")); diff != "" {
					t.Errorf("A's data changed on a 404 (-before +after):\n%s", diff)
				}
			}
			sent := tc.path + tc.body
			for _, secret := range secretsOfB {
				if strings.Contains(r.raw, secret) && !strings.Contains(sent, secret) && !strings.Contains(sent, filterQuery(secret)) {
					t.Errorf("the answer names B's %q: %s", secret, r.raw)
				}
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
	// B still sees all of its own, through the API too.
	s.must(http.StatusOK, "GET", "/Users/"+bob, "", b)
	if got := memberIDs(s.must(http.StatusOK, "GET", "/Groups/"+bTeam, "", b).body); !cmp.Equal(got, []string{bob}) {
		t.Errorf("B's group members %v, want [%s]", got, bob)
	}
}
