package main

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// serverLimits bound what a client can hold of the demo's HTTP server:
// time to send headers and body, time to take the answer, an idle
// keep-alive connection's life, and how many connections are open at once.
type serverLimits struct {
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration // headers and body
	WriteTimeout      time.Duration // from the end of the headers to the end of the answer
	IdleTimeout       time.Duration // a keep-alive connection waiting for its next request
	MaxConns          int           // open connections; more wait to be accepted
}

// demoLimits are the demo server's limits. The SCIM handler's own request
// deadline (scim.Limits.Timeout, 30 s by default) ends a body that trickles
// in sooner, with 408, and holds no concurrency slot while it reads;
// ReadTimeout and WriteTimeout leave it room to answer (Entra ID waits 60 s
// for an answer), and bound the admin page and the other routes too.
var demoLimits = serverLimits{
	ReadHeaderTimeout: 10 * time.Second,
	ReadTimeout:       40 * time.Second,
	WriteTimeout:      45 * time.Second,
	IdleTimeout:       30 * time.Second,
	MaxConns:          512,
}

// newHTTPServer returns the server for h with the limits l.
func newHTTPServer(h http.Handler, l serverLimits) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
	}
}

// limitListener returns a listener that keeps at most n connections of ln
// open: Accept waits while n are, so further clients wait in the kernel's
// backlog instead of costing a file descriptor and a goroutine each (what
// golang.org/x/net/netutil.LimitListener does). n ≤ 0 means no limit.
func limitListener(ln net.Listener, n int) net.Listener {
	if n <= 0 {
		return ln
	}
	return &limitedListener{Listener: ln, slots: make(chan struct{}, n), done: make(chan struct{})}
}

type limitedListener struct {
	net.Listener
	slots chan struct{}

	closeOnce sync.Once
	done      chan struct{} // closed by Close: a waiting Accept returns
}

func (l *limitedListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitedConn{Conn: c, release: func() { <-l.slots }}, nil
}

func (l *limitedListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// limitedConn gives its slot back once, when it is closed.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
