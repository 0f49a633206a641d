package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// On SQLite (an in-process engine) parsing and planning a statement costs
// about as much as running it: provisioning over HTTP spent 15% of the
// process's CPU in the parser, about ten statements per create. stmtCache keeps the statements that run
// repeatedly prepared on every connection: a query text seen twice is
// prepared (outside any transaction, by the next View or Update, so that
// preparing never waits for a connection while holding one) and then run
// through the transaction with Tx.StmtContext, which reuses database/sql's
// per-connection prepared statement. The cache holds at most maxCached
// query texts; others run unprepared as before.
type stmtCache struct {
	mu      sync.Mutex
	stmts   map[string]*sql.Stmt // nil value: being prepared
	seen    map[string]int
	want    []string
	pending atomic.Bool
}

const maxCached = 128

// get returns the prepared statement for query, or nil.
func (c *stmtCache) get(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[query]; ok {
		return st
	}
	if len(c.stmts)+len(c.want) >= maxCached {
		return nil
	}
	if c.seen == nil || len(c.seen) >= 4*maxCached {
		c.seen = map[string]int{}
	}
	c.seen[query]++
	if c.seen[query] == 2 {
		delete(c.seen, query)
		c.want = append(c.want, query)
		c.pending.Store(true)
	}
	return nil
}

// prepare prepares the wanted statements on db. It runs with no
// connection held by the caller.
func (c *stmtCache) prepare(ctx context.Context, db *sql.DB) {
	if !c.pending.Load() {
		return
	}
	c.mu.Lock()
	want := c.want
	c.want = nil
	c.pending.Store(false)
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	for _, q := range want {
		c.stmts[q] = nil // taken: another caller does not prepare it too
	}
	c.mu.Unlock()
	for _, q := range want {
		st, err := db.PrepareContext(ctx, q)
		c.mu.Lock()
		if err != nil {
			delete(c.stmts, q) // the database was away: learnt again later
		} else {
			c.stmts[q] = st
		}
		c.mu.Unlock()
	}
}

// cachedTx is the queryer of a transaction on SQLite: it runs the cached
// statements prepared.
type cachedTx struct {
	*sql.Tx
	c *stmtCache
}

func (t cachedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.c.get(query); st != nil {
		return t.Tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

func (t cachedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.c.get(query); st != nil {
		return t.Tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

func (t cachedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.c.get(query); st != nil {
		return t.Tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}
