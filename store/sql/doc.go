// Package sqlstore is a store.Store on database/sql for SQLite, PostgreSQL
// and MySQL/MariaDB.
//
// The package imports no driver: the application opens a *sql.DB with the
// driver of its choice and names the dialect,
//
//	db, err := sql.Open("sqlite", "file:scim.db?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=temp_store(MEMORY)")
//	s, err := sqlstore.New(db, sqlstore.SQLite)
//	err = s.Migrate(ctx)
//
// with the drivers modernc.org/sqlite ("sqlite"), github.com/jackc/pgx/v5/stdlib
// ("pgx") or github.com/go-sql-driver/mysql ("mysql").
//
// On SQLite, also keep idle connections for as many requests as run at
// once, for example db.SetMaxIdleConns(16): database/sql keeps two by
// default and closes the others, and each new connection opens the file,
// reads the schema and prepares its statements again (provisioning with 8
// clients ran about 10% slower with the default). temp_store(MEMORY) keeps
// the savepoints of writes committed together (see Store.Update) in
// memory: with the default, SQLite writes them to a temporary file once
// they pass 64 KiB, a few creates into a batch (about 10% of provisioning's
// rate).
//
// # Migrations
//
// The schema lives in versioned SQL files embedded in the package and
// exposed by Migrations. New never touches the database; Migrate applies
// the files not yet recorded in the table scim_schema_migrations, under a
// lock so that several processes may call it at once. All tables are
// prefixed scim_ so that they can share a database with the application.
//
// Until the database has this version's tables, every method returns an
// error wrapping ErrNotMigrated and store.ErrUnavailable (a handler
// answers 503, and logs that Migrate must run); the check runs until it
// first succeeds, then costs nothing. New refuses a dialect that the
// database's driver is known not to speak.
//
// Some migrations have a part in Go, which Migrate runs after the file's
// statements: 0005_fold.sql is followed by Store.Refold, which recomputes
// the keys the current store.Fold changes (on rows with text beyond
// ASCII). When two users or two groups of a tenant come to share a key
// ("admin" and "ＡＤＭＩＮ", "Straße" and "STRASSE"), Migrate changes
// nothing and returns a *FoldCollisionError naming them; rename or delete
// all but one of each and run it again. Apps that apply the files with
// their own tool call Refold after 0005_fold.sql.
//
// # Tables
//
// scim_users and scim_groups keep each resource's attributes as a JSON
// document (doc), next to columns extracted from it on every write for the
// lookups that must be index hits: the case-folded userName (unique per
// tenant), externalId, the case-folded group displayName (unique per
// tenant). scim_emails holds one row per element of a user's emails
// (value, type and primary, folded copies indexed). scim_members holds one
// row per membership, with the member's display and its folded copy, keyed
// (tenant, group, user) and indexed (tenant, user), so that adding or removing members costs the same whatever the
// size of the group. Each resource row carries a version for ETags and its
// created and lastModified times as Unix nanoseconds; a user row also
// carries the fields of store.User beyond its attributes (role, managed,
// managed_by, linked), with an index on (tenant, managed, seq) for
// ListUsers with Query.ManagedOnly. scim_tenants holds one row per tenant,
// which writers lock, with counters kept in the same transaction as every
// write: the number of users, managed users and groups, the number of
// deletions and of users that became or stopped being managed, and the
// last event Seq assigned.
//
// Those lookups are index hits only when the database has planner
// statistics. On PostgreSQL keep autovacuum on (the default), or run
// ANALYZE after a bulk import: tables never analyzed are planned as empty,
// and a prepared statement may keep such a plan, a sequential scan, for
// the life of its connection (docs/scaling.md has the measurements).
//
// scim_events is the event outbox (see below), keyed (tenant, seq): each
// row holds a store.Event encoded with encoding/json, Before/After users
// and groups included, plus copies of its type and time (Unix
// nanoseconds) for an admin page, the event's user id (user_id, indexed
// with the tenant, for erasure) and whether its users still carry personal
// data (personal). scim_departures remembers deprovisioned users
// (store.DepartureRecorder), keyed by tenant and case-folded userName,
// with the user's id; scim_left_groups the groups a deactivated user left
// (store.LeftGroupsRecorder), one row per group, keyed by tenant and user
// id. scim_groups.app_owned is store.Group.AppOwned. scim_tokens holds the bearer tokens of store.TokenStore (the
// Store implements it, outside any Update): one row per token of a tenant
// (id, name, connection, display prefix, the secret's hex digest, unique
// across tenants, and created, expires, revoked and last_used times); the
// secret itself is never stored. scim_journal holds the request journal
// of store.JournalStore (outside any Update; on SQLite through the write
// queue): one row per request, its seq an identity column, indexed by
// (tenant, time, seq) for reading the newest and pruning the oldest and by
// (tenant, user_id) for erasing a user.
//
// scim_guard_state and scim_guard_users hold the deprovisioning guard's
// state (store.GuardTx, store.GuardStore), shared by every handler over
// the database: per tenant, the number of users counted in the window,
// the base of the share and the hold, and the users counted, keyed
// (tenant, user_id) with an index on (tenant, at). A deactivation or
// deletion checks and counts in its own transaction, under the tenant's
// lock, with three or four statements that each touch one row or the rows
// that just left the window.
//
// # Paging
//
// An unfiltered list takes its total from the counters, not from a
// COUNT(*) over the tenant. Its pages in the default order (creation) are
// found by a cursor cache in the Store: where a recently served page ended,
// the next page seeks past that row instead of skipping Offset rows, so an
// identity provider's import that walks every user page by page costs
// O(N), not O(N²). A remembered position is used only while the tenant's
// deletion counter, read in the same transaction, is unchanged; otherwise
// the page falls back to LIMIT/OFFSET. A list with Query.ManagedOnly and no
// filter works the same way on the managed users, with its own counter and
// positions, which are also invalidated when a user becomes or stops being
// managed. New rows cannot land before a
// remembered position because writers of a tenant are serialised. A
// filtered first page (a lookup by userName, externalId, displayName)
// is one query, and needs no COUNT(*) when it is not full. See
// docs/performance.md for measurements.
//
// # Filters
//
// Every store.Filter is translated into SQL with bound values. Filters on
// id, userName, externalId, displayName, emails, members and meta use the
// columns and tables above; any other attribute is answered from a second
// JSON document (fdoc) that the adapter derives from the attributes on
// every write: it lists each attribute's values in a uniform shape (exact
// and case-folded strings, numbers, booleans, times) so that one SQL shape
// per engine (json_each, jsonb_array_elements, JSON_TABLE) gives
// store.Eval's semantics: case-insensitive comparison unless CaseExact
// (on copies folded in Go by store.Fold, never with the engine's lower(),
// so that every engine gives the same results beyond ASCII),
// any-value matching on multi-valued attributes, "ne" as the negation of
// "eq", value paths matched element by element. Substring operators use
// instr/strpos/LOCATE, never LIKE, so a value's % and _ are plain
// characters. Sorting happens in SQL, on a byte-ordered sort key that
// follows store.CompareSortKeys.
//
// # Transactions
//
// Each View is one read-only transaction (a snapshot on PostgreSQL and
// MySQL, and on SQLite in WAL mode). Each Update is one read-write
// transaction whose first statement locks the tenant (see Store.Update),
// so that concurrent requests of one tenant, from any number of processes,
// apply one after another and a membership change is never lost or
// duplicated. Deadlocks, serialization failures and SQLITE_BUSY make
// Update run fn again a few times.
//
// Every statement runs on the context of its call, or, in a batch of
// SQLite writes committed together, on the context of its write: a request
// whose deadline passes, or whose client goes away, stops at its next
// statement, its transaction (or savepoint) is rolled back, and the call
// returns the context's error, so no write holds the database past the
// deadline of its request. Statements that take a list of values (the rows
// of a user's emails, member ids, events) are split into chunks of at most
// a few hundred values, far below the engines' limits on bound parameters
// (32,766 on SQLite, 65,535 on PostgreSQL and MySQL), whatever the size of
// the list.
//
// # Events outbox
//
// The Tx of an Update implements store.EventRecorder and the Store
// implements store.EventLog. RecordEvents writes events in the Update's own
// transaction, so an event exists exactly when its change committed, and
// numbers them from a per-tenant counter in the tenant's locked row: Seq
// values increase in commit order, and a committed Seq is never given
// again (a rolled-back Update gives its numbers back, which nobody saw).
// An app consumes the outbox with a cursor it keeps, ideally in the same
// database as the effects of handling the events:
//
//	cursor := loadCursor(tenant) // 0 at first
//	for {
//		evs, err := s.Events(ctx, tenant, cursor, 100)
//		if err != nil {
//			return err
//		}
//		if len(evs) == 0 {
//			break // caught up: poll again later
//		}
//		for _, e := range evs {
//			handle(e)
//			cursor = e.Seq
//		}
//		saveCursor(tenant, cursor)
//	}
//
// The adapter deletes events only when asked: PruneEvents
// (store.EventPruner) deletes those up to a consumer's cursor, older than
// a time or beyond a count, and scim.Handler.Retain applies
// Config.Retention with it. Seq values go on from the counter, not from
// the rows left.
//
// # Data lifecycle
//
// The Store implements store.Eraser (EraseUser rewrites a deleted user's
// events without their attributes and deletes their departures; Departed
// lists the users deprovisioned before a time whose data is still there),
// store.TenantLister (the rows of scim_tenants) and store.TenantDeleter:
// DeleteTenant deletes the tenant's rows from every table that has any, in
// one Update. A table added by a later migration with a tenant column is
// added to the list in lifecycle.go, and a test finds any table the list
// misses.
//
// # Errors
//
// Errors from the database are returned wrapped, their text naming the
// operation and the driver's message (to be logged, not sent to clients).
// Connection-level failures, and lock waits that outlast the retries, also
// match store.ErrUnavailable, so the handler can answer 503.
package sqlstore
