package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/scimkit/scim/store"
)

// Group commit (SQLite). SQLite has one writer at a time, and about half
// of a create's time holding the write lock is its commit (the WAL's
// pwrite of every page the write changed, two system calls a page).
// Writers that arrive while another holds the lock queue; the next to take
// it runs the queue in one transaction, each fn under a savepoint of its
// own, and commits once. Consecutive writes change the same index pages,
// so fewer pages are written per write.
//
// Each fn sees what it would see run alone after the writes ahead of it,
// and leaves what it would leave alone: a fn that returns an error is
// rolled back to its savepoint and the others go on. When the batch fails
// as a whole (a database error in one fn, a panic, a failed commit),
// nothing of it was committed, and each of its writes runs again in a
// transaction of its own, as Update's retry would run it; a fn that
// panicked panics again in its caller's goroutine.

// maxBatch bounds the writes committed together.
const maxBatch = 64

// writeQueue is the writers waiting while a batch runs.
type writeQueue struct {
	mu      sync.Mutex
	busy    bool // a batch is running
	waiting []*pendingWrite

	batched atomic.Int64 // writes run in batches of more than one, for tests
}

type pendingWrite struct {
	ctx    context.Context
	tenant string
	fn     func(store.Tx) error
	// done receives the write's result, or errLead: the receiver runs the
	// next batch.
	done chan error
}

var errLead = errors.New("sqlstore: lead the next batch") // never returned

// updateQueued is Update on SQLite.
func (s *Store) updateQueued(ctx context.Context, tenant string, fn func(store.Tx) error) error {
	w := &pendingWrite{ctx: ctx, tenant: tenant, fn: fn, done: make(chan error, 1)}
	q := &s.writes
	q.mu.Lock()
	if q.busy {
		q.waiting = append(q.waiting, w)
		q.mu.Unlock()
		// A queued write does not leave early: its fn may be running in
		// the batch. A write whose context ends before it starts is
		// skipped and answered with the context's error.
		if err := <-w.done; err != errLead {
			return rethrow(err)
		}
	} else {
		q.busy = true
		q.mu.Unlock()
	}
	s.leadBatch(w)
	return rethrow(<-w.done)
}

// leadBatch runs first and the writes waiting behind it (up to maxBatch),
// answers each, and hands the lead to the next waiting write, if any.
func (s *Store) leadBatch(first *pendingWrite) {
	q := &s.writes
	q.mu.Lock()
	n := min(len(q.waiting), maxBatch-1)
	batch := append([]*pendingWrite{first}, q.waiting[:n]...)
	q.waiting = q.waiting[n:]
	q.mu.Unlock()
	defer s.passLead()

	if len(batch) == 1 {
		first.done <- s.alone(first)
		return
	}
	q.batched.Add(int64(len(batch)))
	results, err := s.updateBatch(batch)
	if err == nil {
		for i, w := range batch {
			w.done <- results[i]
		}
		return
	}
	panicking := -1
	var bp batchPanic
	if errors.As(err, &bp) {
		panicking = bp.i
		batch[bp.i].done <- panicked{bp.v}
	}
	for i, w := range batch {
		if i != panicking {
			w.done <- s.alone(w)
		}
	}
}

// passLead hands the lead to the first waiting write, or ends the run.
func (s *Store) passLead() {
	q := &s.writes
	q.mu.Lock()
	if len(q.waiting) == 0 {
		q.busy = false
		q.mu.Unlock()
		return
	}
	next := q.waiting[0]
	q.waiting = q.waiting[1:]
	q.mu.Unlock()
	next.done <- errLead
}

// alone runs w in a transaction of its own; a panic of its fn is returned
// as panicked.
func (s *Store) alone(w *pendingWrite) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = panicked{v}
		}
	}()
	return s.updateRetrying(w.ctx, w.tenant, w.fn)
}

// panicked carries what a write's fn panicked with to the write's own
// goroutine, which panics with it again.
type panicked struct{ v any }

func (p panicked) Error() string { return fmt.Sprint("sqlstore: a write panicked: ", p.v) }

func rethrow(err error) error {
	if p, ok := err.(panicked); ok {
		panic(p.v)
	}
	return err
}

// batchPanic reports that the batch's i-th fn panicked with v.
type batchPanic struct {
	i int
	v any
}

func (b batchPanic) Error() string {
	return fmt.Sprint("sqlstore: write ", b.i, " of a batch panicked: ", b.v)
}

// updateBatch runs the batch's writes in one transaction and returns each
// one's result, or an error when the transaction failed as a whole and
// nothing of it was committed.
func (s *Store) updateBatch(batch []*pendingWrite) ([]error, error) {
	// The transaction and the batch's own statements (savepoints, commit)
	// run on a context of their own: a write whose request ends must not
	// end the others. Each write's statements run on the write's context,
	// so that the batch never outlives the deadlines of its writes: a write
	// whose context ends stops at its next statement and is rolled back to
	// its savepoint; if its context ends inside a write statement, SQLite
	// rolls the whole transaction back, the savepoint is gone, and the
	// batch fails as a whole (each write then runs again alone, this one
	// returning its context's error at once). Each write's context is also
	// checked before it starts.
	ctx := context.WithoutCancel(batch[0].ctx)
	s.stmts.prepare(ctx, s.db)
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{})
	if err != nil {
		return nil, s.wrap("begin", err)
	}
	committed := false
	defer func() {
		if !committed {
			tx.Rollback()
		}
	}()
	q := fixedContext{q: s.queryer(tx), ctx: ctx}
	results := make([]error, len(batch))
	for i, w := range batch {
		if err := w.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		if _, err := q.ExecContext(ctx, "SAVEPOINT scim_write"); err != nil {
			return nil, s.wrap("savepoint", err)
		}
		err := s.runFnRecovering(i, w.ctx, fixedContext{q: q.q, ctx: w.ctx}, w.tenant, w.fn)
		var bp batchPanic
		if errors.As(err, &bp) {
			return nil, err // runs again alone, to panic in its caller
		}
		if werr := w.ctx.Err(); werr != nil {
			// The write's context ended: it is refused, whatever the
			// driver made of the interrupted statement, and rolled back
			// even if fn got to its end (as a commit on an ended context
			// would be).
			err = werr
		}
		var de *dbError
		if errors.As(err, &de) {
			// Not the write's own refusal: the database failed. Every
			// write of the batch runs again alone, where this one gets
			// its retries.
			return nil, err
		}
		if err != nil {
			if _, rerr := q.ExecContext(ctx, "ROLLBACK TO scim_write"); rerr != nil {
				return nil, s.wrap("rollback to savepoint", rerr)
			}
		}
		if _, rerr := q.ExecContext(ctx, "RELEASE scim_write"); rerr != nil {
			return nil, s.wrap("release savepoint", rerr)
		}
		results[i] = err
	}
	if err := tx.Commit(); err != nil {
		return nil, s.wrap("commit", err)
	}
	committed = true
	return results, nil
}

// runFnRecovering is runFn with a panic of fn returned as batchPanic{i}.
func (s *Store) runFnRecovering(i int, ctx context.Context, q queryer, tenant string, fn func(store.Tx) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = batchPanic{i, v}
		}
	}()
	return s.runFn(ctx, q, tenant, fn)
}

// fixedContext runs every statement on ctx, whatever context it is given.
type fixedContext struct {
	q   queryer
	ctx context.Context
}

func (f fixedContext) ExecContext(_ context.Context, query string, args ...any) (sql.Result, error) {
	return f.q.ExecContext(f.ctx, query, args...)
}

func (f fixedContext) QueryContext(_ context.Context, query string, args ...any) (*sql.Rows, error) {
	return f.q.QueryContext(f.ctx, query, args...)
}

func (f fixedContext) QueryRowContext(_ context.Context, query string, args ...any) *sql.Row {
	return f.q.QueryRowContext(f.ctx, query, args...)
}
