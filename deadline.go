package scim

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// lazyDeadline is context.WithDeadline(parent, deadline) whose timer is
// started only when something could tell the difference: the first call
// of Done (a store that waits on the context, a context derived from it),
// a Value lookup once the deadline has passed (context.Cause reads the
// cancellation through Value), or any use after the request ended. Until
// then Err compares the clock with the deadline. The memory store only
// polls Err, so its requests never start a timer: starting and stopping
// one cost every request about two thirds as much as its log line.
//
// Once started, every method is the timed context's.
type lazyDeadline struct {
	parent   context.Context
	deadline time.Time
	cancel   context.CancelFunc // set when the parent's deadline is sooner
	stopped  atomic.Bool        // the request is over: the cancel function was called
	timed    atomic.Pointer[timedContext]
	mu       sync.Mutex // held while starting
}

type timedContext struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// init makes c, which must be zero, context.WithDeadline(parent, deadline)
// and returns the context to use; c.stop ends it. (ServeHTTP keeps c in
// its per-request allocation.)
func (c *lazyDeadline) init(parent context.Context, deadline time.Time) context.Context {
	if d, ok := parent.Deadline(); ok && !d.After(deadline) {
		// The parent's deadline is sooner: context.WithDeadline, too,
		// would make nothing but a cancelable copy.
		ctx, cancel := context.WithCancel(parent)
		c.cancel = cancel
		return ctx
	}
	c.parent, c.deadline = parent, deadline
	return c
}

// start returns the timed context, made on the first call; after stop it
// is already cancelled.
func (c *lazyDeadline) start() context.Context {
	if t := c.timed.Load(); t != nil {
		return t.ctx
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.timed.Load(); t != nil {
		return t.ctx
	}
	ctx, cancel := context.WithDeadline(c.parent, c.deadline)
	if c.stopped.Load() {
		cancel()
	}
	c.timed.Store(&timedContext{ctx, cancel})
	return ctx
}

func (c *lazyDeadline) stop() {
	if c.cancel != nil {
		c.cancel()
		return
	}
	if c.stopped.Swap(true) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.timed.Load(); t != nil {
		t.cancel()
	}
}

// lazy reports whether the context can still answer without its timer.
func (c *lazyDeadline) lazy() bool {
	return c.timed.Load() == nil && !c.stopped.Load() && time.Now().Before(c.deadline)
}

func (c *lazyDeadline) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *lazyDeadline) Done() <-chan struct{} { return c.start().Done() }

func (c *lazyDeadline) Err() error {
	if c.lazy() {
		return c.parent.Err()
	}
	return c.start().Err()
}

func (c *lazyDeadline) Value(key any) any {
	if c.lazy() {
		return c.parent.Value(key)
	}
	return c.start().Value(key)
}

func (c *lazyDeadline) String() string { return "scim.lazyDeadline" }

// readBodyFirst reads the request's body (readRawBody) before the handler
// takes one of the tenant's concurrency slots, so that a client trickling
// its body holds none. Reading ends at the request's deadline: the
// connection's read deadline is set to it when the ResponseWriter supports
// it (http.ResponseController; net/http's does); otherwise the server's
// own ReadTimeout bounds the read. A body still arriving at the deadline
// gets 408.
func readBodyFirst(w http.ResponseWriter, r *request) *Error {
	if d, ok := r.Context().Deadline(); ok {
		_ = http.NewResponseController(w).SetReadDeadline(d)
	}
	if _, err := readRawBody(r); err != nil {
		e, ok := asError(err)
		if !ok {
			e = &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidSyntax, Detail: "could not read request body"}
		}
		// What is left of the body must not be read as the next request,
		// nor waited for: close the connection after the answer.
		w.Header().Set("Connection", "close")
		return e
	}
	return nil
}

// closeUnread marks the connection to be closed after a response written
// without reading the request's body (a refused token): net/http would
// otherwise read what is left of the body before answering, as long as the
// client takes to send it.
func closeUnread(w http.ResponseWriter, r *http.Request) {
	if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
		w.Header().Set("Connection", "close")
	}
}
