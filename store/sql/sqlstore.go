package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/scimkit/scim/store"
)

// Dialect names the SQL engine behind a *sql.DB.
type Dialect int

// The supported engines.
const (
	// SQLite is SQLite 3.38 or later, for example through the pure-Go
	// driver modernc.org/sqlite.
	SQLite Dialect = iota + 1
	// Postgres is PostgreSQL 12 or later, for example through
	// github.com/jackc/pgx/v5/stdlib.
	Postgres
	// MySQL is MySQL 8.0 or MariaDB 10.6 or later, through
	// github.com/go-sql-driver/mysql.
	MySQL
)

// String returns the dialect's name, which is also the name of its
// directory in Migrations.
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	case MySQL:
		return "mysql"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

func (d Dialect) valid() bool { return d >= SQLite && d <= MySQL }

// Store is a store.Store on a database/sql database. It is safe for
// concurrent use. Create it with New and run Migrate before the first use.
type Store struct {
	db      *sql.DB
	dialect Dialect

	// writes queues this process's writers on SQLite, which allows one
	// writer per database anyway (waiting here is fairer than spinning on
	// SQLITE_BUSY), and commits the writes that queued together at once:
	// see groupcommit.go.
	writes writeQueue

	cursors cursorCache // see page.go
	stmts   stmtCache   // SQLite only, see stmtcache.go

	latest   int         // the newest migration's version
	schemaOK atomic.Bool // ready has found the schema current (ready.go)
}

var _ store.Store = (*Store)(nil)

// maxAttempts bounds how often Update runs fn when the database reports a
// serialization failure, a deadlock or a busy SQLite file.
const maxAttempts = 8

// New returns a Store on db, which must be a database of the given dialect.
// New does not touch the database: call Migrate to create or upgrade the
// tables. It refuses a dialect that db's driver is known not to speak (a
// PostgreSQL DSN opened with sqlstore.MySQL, say). Until Migrate has run,
// the Store's methods return an error wrapping ErrNotMigrated.
//
// For SQLite, open the database with a busy timeout and, for concurrent
// readers, in WAL mode; with modernc.org/sqlite:
//
//	file:scim.db?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=temp_store(MEMORY)
//
// and keep idle connections for the requests that run at once
// (db.SetMaxIdleConns(16)): see the package documentation.
//
// Each Update takes the database's write lock with its first statement, so
// "_txlock=immediate" is not required (it does no harm either).
// For MySQL, a DSN with parseTime is not required: the adapter stores
// timestamps as integers.
func New(db *sql.DB, dialect Dialect) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlstore: nil *sql.DB")
	}
	if !dialect.valid() {
		return nil, fmt.Errorf("sqlstore: unknown dialect %v", dialect)
	}
	if err := checkDriver(db.Driver(), dialect); err != nil {
		return nil, err
	}
	ms, err := loadMigrations(dialect)
	if err != nil {
		return nil, err
	}
	return &Store{db: db, dialect: dialect, latest: ms[len(ms)-1].version}, nil
}

// Dialect returns the dialect the Store was created with.
func (s *Store) Dialect() Dialect { return s.dialect }

// View runs fn in a read-only transaction, which gives fn a consistent
// snapshot on PostgreSQL and MySQL and in SQLite's WAL mode.
func (s *Store) View(ctx context.Context, tenant string, fn func(store.Reader) error) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	opts := &sql.TxOptions{ReadOnly: true}
	if s.dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	if s.dialect == SQLite {
		s.stmts.prepare(ctx, s.db)
	}
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return s.wrap("begin", err)
	}
	defer tx.Rollback()
	return fn(&reader{s: s, q: s.queryer(tx), tenant: tenant})
}

// Update runs fn in a read-write transaction and commits it when fn returns
// nil.
//
// Writers of one tenant are serialised: on PostgreSQL and MySQL the first
// statement locks the tenant's row in scim_tenants (creating it when
// missing), on SQLite the first statement takes the database's write lock.
// Readers are never blocked. When the database reports a serialization
// failure, a deadlock or SQLITE_BUSY, Update rolls back and calls fn again,
// up to a few times, then returns an error wrapping store.ErrUnavailable.
//
// On SQLite, the writes of this process that wait for one another are
// committed together, each under a savepoint: what one fn sees and leaves
// is what it would alone, and a fn that fails or panics takes nothing of
// the others with it (see groupcommit.go). fn may therefore run on another
// goroutine than Update's caller; a panic in it is raised again in the
// caller's.
func (s *Store) Update(ctx context.Context, tenant string, fn func(store.Tx) error) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	if s.dialect == SQLite {
		return s.updateQueued(ctx, tenant, fn)
	}
	return s.updateRetrying(ctx, tenant, fn)
}

// updateRetrying is Update for one fn in a transaction of its own.
func (s *Store) updateRetrying(ctx context.Context, tenant string, fn func(store.Tx) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = s.updateOnce(ctx, tenant, fn)
		if err == nil || !isRetryable(err) || attempt == maxAttempts || ctx.Err() != nil {
			break
		}
		backoff := time.Duration(attempt*attempt) * time.Millisecond * time.Duration(1+rand.IntN(5))
		select {
		case <-ctx.Done():
			return err
		case <-time.After(backoff):
		}
	}
	if isRetryable(err) {
		var de *dbError
		if errors.As(err, &de) && !de.unavailable {
			return &dbError{op: de.op, err: de.err, unavailable: true}
		}
	}
	return err
}

func (s *Store) updateOnce(ctx context.Context, tenant string, fn func(store.Tx) error) (err error) {
	opts := &sql.TxOptions{}
	if s.dialect != SQLite {
		opts.Isolation = sql.LevelReadCommitted
	}
	if s.dialect == SQLite {
		s.stmts.prepare(ctx, s.db)
	}
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return s.wrap("begin", err)
	}
	committed := false
	defer func() {
		if !committed {
			tx.Rollback()
		}
	}()
	if err := s.runFn(ctx, s.queryer(tx), tenant, fn); err != nil {
		return ended(ctx, err)
	}
	if err := tx.Commit(); err != nil {
		return ended(ctx, s.wrap("commit", err))
	}
	committed = true
	return nil
}

// ended returns ctx's error in place of err, a database error, when ctx
// has ended: the driver's report of an interrupted statement, or
// database/sql's ErrTxDone for a transaction it rolled back when ctx
// ended, is the context's doing. A write's own refusal stays.
func ended(ctx context.Context, err error) error {
	var de *dbError
	if cerr := ctx.Err(); cerr != nil && errors.As(err, &de) {
		return cerr
	}
	return err
}

// runFn runs fn in the transaction q, for tenant: it takes the tenant's
// write lock, then writes the counters fn changed.
func (s *Store) runFn(ctx context.Context, q queryer, tenant string, fn func(store.Tx) error) error {
	if err := s.lockTenant(ctx, q, tenant); err != nil {
		return err
	}
	t := &storeTx{reader: reader{s: s, q: q, tenant: tenant, pending: &tenantCounts{}}}
	if err := fn(t); err != nil {
		return err
	}
	return t.flushCounts(ctx)
}

// queryer returns what a transaction's statements run on.
func (s *Store) queryer(tx *sql.Tx) queryer {
	if s.dialect == SQLite {
		return cachedTx{Tx: tx, c: &s.stmts}
	}
	return tx
}

// lockTenant serialises the writers of one tenant; see Update.
func (s *Store) lockTenant(ctx context.Context, tx queryer, tenant string) error {
	now := time.Now().UnixNano()
	switch s.dialect {
	case SQLite:
		// A write statement takes SQLite's write lock at once, even when it
		// changes nothing.
		_, err := tx.ExecContext(ctx, `INSERT INTO scim_tenants (name, created) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, tenant, now)
		return s.wrap("lock tenant", err)
	}
	lock := `SELECT name FROM scim_tenants WHERE name = ? FOR UPDATE`
	insert := `INSERT IGNORE INTO scim_tenants (name, created) VALUES (?, ?)`
	if s.dialect == Postgres {
		lock = `SELECT name FROM scim_tenants WHERE name = $1 FOR UPDATE`
		insert = `INSERT INTO scim_tenants (name, created) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`
	}
	for range 2 {
		var name string
		err := tx.QueryRowContext(ctx, lock, tenant).Scan(&name)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return s.wrap("lock tenant", err)
		}
		// Created outside the transaction: first writers of a new tenant
		// would otherwise deadlock on each other's insert locks.
		if _, err := s.db.ExecContext(ctx, insert, tenant, now); err != nil {
			return s.wrap("create tenant", err)
		}
	}
	return s.wrap("lock tenant", errors.New("tenant row vanished"))
}

// dbError is a database failure. Its message names the operation and the
// driver's error (which may contain SQL); handlers log it and answer with a
// generic message.
type dbError struct {
	op          string
	err         error
	unavailable bool
}

func (e *dbError) Error() string { return "sqlstore: " + e.op + ": " + e.err.Error() }

func (e *dbError) Unwrap() []error {
	if e.unavailable {
		return []error{store.ErrUnavailable, e.err}
	}
	return []error{e.err}
}

// wrap turns a driver error into a *dbError, marking connection-level
// failures as store.ErrUnavailable. It returns nil for nil and leaves
// context errors and errors already wrapped alone.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var de *dbError
	if errors.As(err, &de) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &dbError{op: op, err: err, unavailable: isConnectionFailure(err)}
}

// wrapCtx is wrap for a statement that ran on ctx: once ctx has ended,
// whatever the driver reports (pgx may answer a cancelled query with
// driver.ErrBadConn, its connection closed under it) is reported as ctx's
// error, so that callers see context.Canceled or DeadlineExceeded.
func (s *Store) wrapCtx(ctx context.Context, op string, err error) error {
	if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return fmt.Errorf("sqlstore: %s: %w", op, ctx.Err())
	}
	return s.wrap(op, err)
}

// isConnectionFailure reports errors that mean the database cannot be
// reached or cannot take more work right now.
func isConnectionFailure(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	if state := sqlState(err); state != "" {
		switch {
		case strings.HasPrefix(state, "08"), // connection exception
			strings.HasPrefix(state, "53"),                       // insufficient resources
			state == "57P01", state == "57P02", state == "57P03": // shutdown, cannot connect now
			return true
		}
	}
	switch mysqlNumber(err) {
	case 1040, 1053, 1205, 1213, 2002, 2003, 2006, 2013:
		// too many connections, shutdown, lock wait timeout, deadlock,
		// cannot connect, server gone, lost connection
		return true
	}
	switch sqliteCode(err) & 0xff {
	case 5, 6: // SQLITE_BUSY, SQLITE_LOCKED
		return true
	}
	return strings.Contains(err.Error(), "invalid connection") // go-sql-driver/mysql's ErrInvalidConn
}

// isRetryable reports failures after which running the transaction again
// may succeed.
func isRetryable(err error) bool {
	if err == nil {
		return false
	}
	switch sqlState(err) {
	case "40001", "40P01": // serialization failure, deadlock
		return true
	}
	switch mysqlNumber(err) {
	case 1205, 1213: // lock wait timeout, deadlock
		return true
	}
	switch sqliteCode(err) & 0xff {
	case 5, 6:
		return true
	}
	return false
}

// The drivers' error types are read through their methods and fields, so
// that this package imports no driver.

func sqlState(err error) string {
	var e interface{ SQLState() string } // pgconn.PgError
	if errors.As(err, &e) {
		return e.SQLState()
	}
	return ""
}

func sqliteCode(err error) int {
	var e interface{ Code() int } // modernc.org/sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// mysqlNumber returns the Number of a go-sql-driver/mysql *MySQLError in
// err's tree, or 0.
func mysqlNumber(err error) uint16 {
	if err == nil {
		return 0
	}
	v := reflect.ValueOf(err)
	if v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct &&
		v.Elem().Type().Name() == "MySQLError" {
		if f := v.Elem().FieldByName("Number"); f.IsValid() && f.Kind() == reflect.Uint16 {
			return uint16(f.Uint())
		}
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return mysqlNumber(u.Unwrap())
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if n := mysqlNumber(e); n != 0 {
				return n
			}
		}
	}
	return 0
}
