package scim_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
	"github.com/scimkit/scim/store/memory"
	sqlstore "github.com/scimkit/scim/store/sql"
)

// sharedDB is a database two Handler instances share, each through a pool
// of its own, as two instances of an app do. db is nil for the memory
// store, which two handlers share in one process.
type sharedDB struct {
	a, b    store.Store
	db      *sql.DB
	dialect sqlstore.Dialect
}

// sharedDBs are the databases the data lifecycle tests run on: the memory
// store, one SQLite file, and PostgreSQL and MySQL when their DSNs are set.
var sharedDBs = []struct {
	name string
	open func(t *testing.T) sharedDB
}{
	{"memory", func(t *testing.T) sharedDB {
		st := memory.New()
		return sharedDB{a: st, b: st}
	}},
	{"sqlite", func(t *testing.T) sharedDB {
		dsn := "file:" + filepath.Join(t.TempDir(), "scim.db") + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
		return openShared(t, "sqlite", dsn, sqlstore.SQLite)
	}},
	{"postgres", func(t *testing.T) sharedDB { return openShared(t, "pgx", postgresTestDSN(t), sqlstore.Postgres) }},
	{"mysql", func(t *testing.T) sharedDB { return openShared(t, "mysql", mysqlTestDSN(t), sqlstore.MySQL) }},
}

func openShared(t *testing.T, driver, dsn string, d sqlstore.Dialect) sharedDB {
	t.Helper()
	var pools []*sql.DB
	var stores []store.Store
	for range 2 {
		db, err := sql.Open(driver, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		pools = append(pools, db)
		stores = append(stores, migratedStore(t, db, d))
	}
	return sharedDB{a: stores[0], b: stores[1], db: pools[0], dialect: d}
}

// lifecycleClock is a clock the test moves.
type lifecycleClock struct{ ns atomic.Int64 }

func newLifecycleClock() *lifecycleClock {
	c := &lifecycleClock{}
	c.ns.Store(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *lifecycleClock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *lifecycleClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// instance is one Handler over a store, behind a real HTTP server, with the
// tenants' static tokens and tokens stored in the store.
type instance struct {
	*testServer
	h      *scim.Handler
	tokens *scim.Tokens
}

func newInstance(t *testing.T, st store.Store, clock *lifecycleClock, ret scim.Retention) *instance {
	t.Helper()
	tokens, err := scim.NewTokens(st.(store.TokenStore), scim.TokensConfig{Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	var ids atomic.Int64
	prefix := fmt.Sprintf("%p-", tokens) // ids unique to the instance, as UUIDs are
	s, h := newTestHandler(t, st, demoPolicy, scim.Config{Authenticator: tokens, Now: clock.now, Retention: ret,
		NewID: func() string { return fmt.Sprintf("%sid-%04d", prefix, ids.Add(1)) }})
	return &instance{testServer: s, h: h, tokens: tokens}
}

// onSharedDBs runs test on every shared database, with two instances over
// it that share a clock.
func onSharedDBs(t *testing.T, ret scim.Retention, test func(t *testing.T, sd sharedDB, clock *lifecycleClock, a, b *instance)) {
	for _, sdb := range sharedDBs {
		t.Run(sdb.name, func(t *testing.T) {
			sd := sdb.open(t)
			clock := newLifecycleClock()
			test(t, sd, clock, newInstance(t, sd.a, clock, ret), newInstance(t, sd.b, clock, ret))
		})
	}
}

// personalUser is a user body whose every personal value contains mark.
func personalUser(mark string) string {
	return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + mark + `@example.com",
		"externalId":"ext-` + mark + `","displayName":"` + mark + ` Display","name":{"givenName":"` + mark + `","familyName":"Family"},
		"emails":[{"value":"` + mark + `.mail@example.com","type":"work","primary":true}],"memberRole":"admin"}`
}

// allEvents reads every event of the tenant.
func allEvents(t *testing.T, st store.Store, tenant string) []store.Event {
	t.Helper()
	evs, err := st.(store.EventLog).Events(t.Context(), tenant, 0, 100000)
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	return evs
}

// mentions reports whether an event holds s in any of its users' or
// groups' attributes or its detail.
func mentions(e store.Event, s string) bool {
	return strings.Contains(strings.ToLower(fmt.Sprintf("%+v %+v %+v %+v %s", e.Before, e.After, e.GroupBefore, e.GroupAfter, e.Detail)), strings.ToLower(s))
}

// tables returns the columns of every table of the database.
func tables(t *testing.T, sd sharedDB) map[string][]string {
	t.Helper()
	var q string
	switch sd.dialect {
	case sqlstore.SQLite:
		q = `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table'`
	case sqlstore.Postgres:
		q = `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()`
	default:
		q = `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = DATABASE()`
	}
	rows, err := sd.db.QueryContext(t.Context(), q)
	if err != nil {
		t.Fatalf("catalog: %v", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var table, column string
		if err := rows.Scan(&table, &column); err != nil {
			t.Fatal(err)
		}
		out[table] = append(out[table], strings.ToLower(column))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 8 {
		t.Fatalf("the catalog lists %d tables, want the store's", len(out))
	}
	return out
}

// tenantRows counts, per table with a tenant column (scim_tenants: name),
// the rows of tenant.
func tenantRows(t *testing.T, sd sharedDB, tenant string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for table, cols := range tables(t, sd) {
		col := ""
		switch {
		case slices.Contains(cols, "tenant"):
			col = "tenant"
		case table == "scim_tenants":
			col = "name"
		default:
			continue
		}
		q := "SELECT COUNT(*) FROM " + table + " WHERE " + col + " = ?"
		if sd.dialect == sqlstore.Postgres {
			q = strings.Replace(q, "?", "$1", 1)
		}
		var n int
		if err := sd.db.QueryRowContext(t.Context(), q, tenant).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		out[table] = n
	}
	return out
}

// rowsMentioning returns "table.column" for every value in the database
// that contains s, compared without case.
func rowsMentioning(t *testing.T, sd sharedDB, s string) []string {
	t.Helper()
	var out []string
	needle := []byte(strings.ToLower(s))
	for table, cols := range tables(t, sd) {
		rows, err := sd.db.QueryContext(t.Context(), "SELECT * FROM "+table)
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		names, _ := rows.Columns()
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("scan %s: %v", table, err)
			}
			for i, v := range vals {
				if bytes.Contains(bytes.ToLower(v), needle) {
					out = append(out, table+"."+names[i])
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestEraseUserAcrossHandlers: a user provisioned and updated through one
// instance and deleted through the other is erased through the first; the
// second then finds nothing left to erase, its outbox keeps the events
// without personal data, and on SQL no table holds any of the user's
// values anywhere.
func TestEraseUserAcrossHandlers(t *testing.T) {
	onSharedDBs(t, scim.Retention{}, func(t *testing.T, sd sharedDB, clock *lifecycleClock, a, b *instance) {
		const mark = "zoe-erasable"
		id := str(a.must(http.StatusCreated, "POST", "/Users", personalUser(mark)).body, "id")
		b.must(http.StatusOK, "PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations":[{"op":"replace","path":"name.familyName","value":"`+mark+`-Renamed"}]}`)
		keep := str(a.must(http.StatusCreated, "POST", "/Users", personalUser("kept-user")).body, "id")
		// A refusal on the user's path, whose error quotes a userName.
		a.must(http.StatusConflict, "PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations":[{"op":"replace","path":"userName","value":"kept-user@example.com"}]}`)
		journalErrors := func() (n int) {
			list, err := a.h.Journal(t.Context(), "acme")
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range list {
				if e.Path == "/Users/"+id && e.Error != "" {
					n++
				}
			}
			return n
		}
		if journalErrors() != 1 {
			t.Fatalf("the journal has %d errors on the user's path, want 1", journalErrors())
		}

		if _, err := a.h.EraseUser(t.Context(), "acme", id); !errors.Is(err, scim.ErrUserExists) {
			t.Fatalf("EraseUser of an existing user: %v, want ErrUserExists", err)
		}
		b.must(http.StatusNoContent, "DELETE", "/Users/"+id, "")
		// B writes its journal within a fraction of a second; the erasure
		// comes later.
		if err := b.h.Close(t.Context()); err != nil {
			t.Fatal(err)
		}

		if sd.db != nil && len(rowsMentioning(t, sd, mark)) == 0 {
			t.Fatal("before erasure no table mentions the user: the test would prove nothing")
		}
		n, err := a.h.EraseUser(t.Context(), "acme", id)
		if err != nil || n == 0 {
			t.Fatalf("EraseUser = %d, %v; want records changed", n, err)
		}
		if n, err := b.h.EraseUser(t.Context(), "acme", id); n != 0 || err != nil {
			t.Errorf("EraseUser through the other instance = %d, %v; want 0, nil", n, err)
		}

		if n := journalErrors(); n != 0 {
			t.Errorf("after erasure the journal keeps %d errors on the user's path", n)
		}
		var types []store.EventType
		for _, e := range allEvents(t, sd.b, "acme") {
			if mentions(e, mark) {
				t.Errorf("event %d (%s) still holds the user's data", e.Seq, e.Type)
			}
			if e.UserID == id {
				types = append(types, e.Type)
			}
			if e.UserID == keep && !mentions(e, "kept-user") {
				t.Errorf("event %d of another user lost its data", e.Seq)
			}
		}
		want := []store.EventType{store.UserProvisioned, store.UserUpdated, store.UserDeprovisioned}
		if diff := cmp.Diff(want, types); diff != "" {
			t.Errorf("the erased user's events (-want +got):\n%s", diff)
		}
		if sd.db != nil {
			if got := rowsMentioning(t, sd, mark); len(got) != 0 {
				t.Errorf("after erasure these columns still hold %q: %v", mark, got)
			}
			if got := rowsMentioning(t, sd, "kept-user"); len(got) == 0 {
				t.Error("the other user's data is gone too")
			}
		}
	})
}

// TestRetainErasesAndPrunes: Config.Retention applied by Retain on a
// moving clock: nothing before its time, the departed user's data after
// EraseAfter, old events after EventAge, and the outbox capped at
// MaxEvents.
func TestRetainErasesAndPrunes(t *testing.T) {
	onSharedDBs(t, scim.Retention{EraseAfter: 24 * time.Hour, EventAge: 72 * time.Hour}, func(t *testing.T, sd sharedDB, clock *lifecycleClock, a, b *instance) {
		id := str(a.must(http.StatusCreated, "POST", "/Users", personalUser("leaver")).body, "id")
		a.must(http.StatusCreated, "POST", "/Users", personalUser("stayer"))
		b.must(http.StatusNoContent, "DELETE", "/Users/"+id, "")
		b.must(http.StatusCreated, "POST", "/Users", personalUser("stayer2"), "Authorization: Bearer "+tokenOther)

		retain := func(h *scim.Handler) scim.RetainReport {
			t.Helper()
			rep, err := h.Retain(t.Context())
			if err != nil {
				t.Fatalf("Retain: %v", err)
			}
			return rep
		}
		erased := func() bool {
			for _, e := range allEvents(t, sd.a, "acme") {
				if e.UserID == id && !store.Erased(e) {
					return false
				}
			}
			return true
		}

		clock.advance(23 * time.Hour)
		if rep := retain(a.h); rep.UsersErased != 0 || rep.EventsDeleted != 0 || erased() {
			t.Errorf("Retain a day too early: %+v, erased %v; want nothing done", rep, erased())
		}
		clock.advance(2 * time.Hour)
		if diff := cmp.Diff(scim.RetainReport{Tenants: 2, UsersErased: 1}, retain(b.h)); diff != "" {
			t.Errorf("Retain after EraseAfter (-want +got):\n%s", diff)
		}
		if !erased() {
			t.Error("the departed user's events still hold personal data")
		}
		if rep := retain(a.h); rep.UsersErased != 0 {
			t.Errorf("a second pass erased %d users again", rep.UsersErased)
		}
		a.must(http.StatusCreated, "POST", "/Users", personalUser("late"))
		clock.advance(48 * time.Hour)
		if rep := retain(a.h); rep.EventsDeleted != 4 {
			t.Errorf("Retain after EventAge deleted %d events, want the 4 older than 72 hours", rep.EventsDeleted)
		}
		evs := allEvents(t, sd.b, "acme")
		if len(evs) != 1 || !mentions(evs[0], "late") {
			t.Errorf("events kept: %d, want the newest only", len(evs))
		}

		capped := newInstance(t, sd.a, clock, scim.Retention{MaxEvents: 2})
		for i := range 3 {
			capped.must(http.StatusCreated, "POST", "/Users", personalUser(fmt.Sprintf("more%d", i)))
		}
		retain(capped.h)
		if got := len(allEvents(t, sd.b, "acme")); got != 2 {
			t.Errorf("events after MaxEvents 2: %d", got)
		}
	})
}

// TestDeleteTenantLeavesNoRow: after DeleteTenant through one instance, no
// row of the tenant remains in any table of the database that has a tenant
// column (found in the catalog, so that a table added later is checked
// too), the other tenant keeps all of its rows, and the other instance
// refuses the deleted tenant's stored token.
func TestDeleteTenantLeavesNoRow(t *testing.T) {
	onSharedDBs(t, scim.Retention{}, func(t *testing.T, sd sharedDB, clock *lifecycleClock, a, b *instance) {
		secrets := map[string]string{}
		for _, tc := range []struct{ tenant, token string }{{"acme", tokenAcme}, {"other", tokenOther}} {
			auth := "Authorization: Bearer " + tc.token
			u1 := str(a.must(http.StatusCreated, "POST", "/Users", personalUser(tc.tenant+"-one"), auth).body, "id")
			u2 := str(a.must(http.StatusCreated, "POST", "/Users", personalUser(tc.tenant+"-two"), auth).body, "id")
			a.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"Team","members":[{"value":"`+u1+`"},{"value":"`+u2+`"}]}`, auth)
			b.must(http.StatusNoContent, "DELETE", "/Users/"+u2, "", auth) // a departure
			secret, _, err := a.tokens.Create(t.Context(), tc.tenant, "Okta", time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			secrets[tc.tenant] = secret
		}
		// Both instances write their journals now: entries still buffered
		// when the tenant goes would be written after it (the README says
		// to disconnect first when requests may still come).
		for _, in := range []*instance{a, b} {
			if err := in.h.Close(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		var before map[string]int
		if sd.db != nil {
			before = tenantRows(t, sd, "other")
		}
		otherUsers := b.must(http.StatusOK, "GET", "/Users", "", "Authorization: Bearer "+tokenOther).raw

		if err := a.h.DeleteTenant(t.Context(), "acme"); err != nil {
			t.Fatalf("DeleteTenant: %v", err)
		}
		if sd.db != nil {
			for table, n := range tenantRows(t, sd, "acme") {
				if n != 0 {
					t.Errorf("%s holds %d rows of the deleted tenant", table, n)
				}
			}
			// The other tenant's journal only grows (its requests go on).
			after := tenantRows(t, sd, "other")
			if after["scim_journal"] < before["scim_journal"] {
				t.Errorf("the other tenant's journal lost rows: %d before, %d after", before["scim_journal"], after["scim_journal"])
			}
			delete(after, "scim_journal")
			delete(before, "scim_journal")
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("rows of the other tenant (-before +after):\n%s", diff)
			}
			for _, table := range []string{"scim_users", "scim_groups", "scim_members", "scim_emails", "scim_events", "scim_departures", "scim_tokens", "scim_tenants"} {
				if before[table] == 0 {
					t.Errorf("the other tenant had no row in %s: the test would prove nothing there", table)
				}
			}
		}
		b.must(http.StatusUnauthorized, "GET", "/Users", "", "Authorization: Bearer "+secrets["acme"])
		b.must(http.StatusOK, "GET", "/Users", "", "Authorization: Bearer "+secrets["other"])
		if got := b.must(http.StatusOK, "GET", "/Users", "", "Authorization: Bearer "+tokenOther).raw; got != otherUsers {
			t.Errorf("the other tenant's users changed:\n%s\nwant\n%s", got, otherUsers)
		}
		if got := b.must(http.StatusOK, "GET", "/Users", "").body["totalResults"]; got != float64(0) {
			t.Errorf("the deleted tenant lists %v users, want 0", got)
		}
		// The journal holds only the GETs made since the deletion.
		list, err := a.h.Journal(t.Context(), "acme")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range list {
			if e.Method != http.MethodGet {
				t.Errorf("the journal still holds a request from before the deletion: %s %s", e.Method, e.Path)
			}
		}
	})
}

// TestDisconnectTenant: after DisconnectTenant through one instance the
// tenant's users are app users again (seen through the other instance),
// its stored tokens get 401, its groups and memberships stay, an event
// records it, and the other tenant is untouched.
func TestDisconnectTenant(t *testing.T) {
	onSharedDBs(t, scim.Retention{}, func(t *testing.T, sd sharedDB, clock *lifecycleClock, a, b *instance) {
		var ids []string
		for i := range 3 {
			ids = append(ids, str(a.must(http.StatusCreated, "POST", "/Users", personalUser(fmt.Sprintf("u%d", i))).body, "id"))
		}
		g := a.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"Team","members":[{"value":"`+ids[0]+`"}]}`)
		otherID := str(a.must(http.StatusCreated, "POST", "/Users", personalUser("o"), "Authorization: Bearer "+tokenOther).body, "id")
		secret, _, err := a.tokens.Create(t.Context(), "acme", "Okta", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		b.must(http.StatusOK, "GET", "/Users", "", "Authorization: Bearer "+secret)

		got, err := a.h.DisconnectTenant(t.Context(), "acme")
		if err != nil {
			t.Fatalf("DisconnectTenant: %v", err)
		}
		if diff := cmp.Diff(scim.Disconnection{Users: 3, Tokens: 1}, got); diff != "" {
			t.Errorf("DisconnectTenant (-want +got):\n%s", diff)
		}
		b.must(http.StatusUnauthorized, "GET", "/Users", "", "Authorization: Bearer "+secret)
		for _, id := range ids {
			if managed, err := b.h.Managed(t.Context(), "acme", id); err != nil || managed {
				t.Errorf("Managed(%s) = %v, %v; want false", id, managed, err)
			}
		}
		if managed, err := b.h.Managed(t.Context(), "other", otherID); err != nil || !managed {
			t.Errorf("Managed of the other tenant's user = %v, %v; want true", managed, err)
		}
		if diff := cmp.Diff(g.body["members"], a.must(http.StatusOK, "GET", "/Groups/"+str(g.body, "id"), "").body["members"]); diff != "" {
			t.Errorf("the group's members (-before +after):\n%s", diff)
		}
		evs := allEvents(t, sd.b, "acme")
		if last := evs[len(evs)-1]; last.Type != store.TenantDisconnected {
			t.Errorf("last event %s, want %s", last.Type, store.TenantDisconnected)
		}
		if again, err := b.h.DisconnectTenant(t.Context(), "acme"); err != nil || again != (scim.Disconnection{}) {
			t.Errorf("DisconnectTenant again = %+v, %v; want nothing to do", again, err)
		}
	})
}

// TestLifecycleWithoutPowers: a store without the lifecycle powers gets
// errors.ErrUnsupported, not a silent success, and negative retention
// settings are refused.
func TestLifecycleWithoutPowers(t *testing.T) {
	_, h := newTestHandler(t, bareStore{memory.New()}, demoPolicy, scim.Config{Retention: scim.Retention{EventAge: time.Hour}})
	ctx := t.Context()
	for name, err := range map[string]error{
		"EraseUser":    second(h.EraseUser(ctx, "acme", "x")),
		"DeleteTenant": h.DeleteTenant(ctx, "acme"),
		"Retain":       second(h.Retain(ctx)),
		"PruneEvents":  second(h.PruneEvents(ctx, "acme", store.EventPrune{UpTo: 1})),
	} {
		if !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("%s: %v, want errors.ErrUnsupported", name, err)
		}
	}
	for _, r := range []scim.Retention{{EventAge: -1}, {MaxEvents: -1}, {EraseAfter: -1}} {
		_, err := scim.NewHandler(memory.New(), demoPolicy, scim.Config{Authenticator: scim.NewStaticTokens(), Retention: r})
		if !errors.Is(err, scim.ErrInvalidConfig) {
			t.Errorf("NewHandler with %+v: %v, want ErrInvalidConfig", r, err)
		}
	}
}

// bareStore is a Store with none of the optional powers.
type bareStore struct{ s store.Store }

func (b bareStore) View(ctx context.Context, tenant string, fn func(store.Reader) error) error {
	return b.s.View(ctx, tenant, fn)
}

func (b bareStore) Update(ctx context.Context, tenant string, fn func(store.Tx) error) error {
	return b.s.Update(ctx, tenant, fn)
}

func second[T any](_ T, err error) error { return err }
