package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store/memory"
)

// serveDemoLimits serves, on a real loopback listener, the demo's routes
// behind newHTTPServer and limitListener with the limits l, the SCIM
// handler's request deadline being timeout. It returns the address.
func serveDemoLimits(t *testing.T, l serverLimits, timeout time.Duration) string {
	t.Helper()
	auth := scim.NewStaticTokens()
	auth.Add("acme", "tok")
	h, err := scim.NewHandler(memory.New(), profiles["demo"].policy, scim.Config{Authenticator: auth,
		Limits: scim.Limits{Timeout: timeout}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", h))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(mux, l)
	go srv.Serve(limitListener(ln, l.MaxConns))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// dial opens a connection and sends raw, which may be a partial request.
func dial(t *testing.T, addr, raw string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	return c
}

// outcome waits up to wait for what the server does on c: its answer's
// status, or "closed" when it hangs up, or "nothing".
func outcome(c net.Conn, br *bufio.Reader, wait time.Duration) (string, time.Duration) {
	start := time.Now()
	c.SetReadDeadline(start.Add(wait))
	if br == nil {
		br = bufio.NewReader(c)
	}
	resp, err := http.ReadResponse(br, nil)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "nothing", time.Since(start)
	case err != nil:
		return "closed", time.Since(start)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return fmt.Sprint(resp.StatusCode), time.Since(start)
}

// TestDemoServerLimits: what a client cannot hold of the demo's server, on
// a real TCP connection with the demo's server settings made short.
func TestDemoServerLimits(t *testing.T) {
	l := serverLimits{ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: time.Second,
		WriteTimeout: 2 * time.Second, IdleTimeout: 500 * time.Millisecond, MaxConns: 100}
	addr := serveDemoLimits(t, l, 400*time.Millisecond)
	const slowBody = "Content-Type: application/scim+json\r\nContent-Length: 100\r\n\r\n{"
	for _, tc := range []struct {
		name, raw string
		want      string
		within    time.Duration
	}{
		{"a SCIM body that stalls gets 408 at the request's deadline",
			"POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\n" + slowBody, "408", 1500 * time.Millisecond},
		{"a SCIM body that stalls without a token gets 401 at once",
			"POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\n" + slowBody, "401", 300 * time.Millisecond},
		{"another route's body that stalls is cut at ReadTimeout",
			"POST /healthz HTTP/1.1\r\nHost: x\r\n" + slowBody, "200", l.ReadTimeout + time.Second},
		{"headers that stall are cut at ReadHeaderTimeout",
			"GET /healthz HTTP/1.1\r\nHost: x\r\n", "closed", l.ReadHeaderTimeout + time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := dial(t, addr, tc.raw)
			got, took := outcome(c, nil, tc.within)
			if got != tc.want {
				t.Fatalf("%s after %v, want %s within %v", got, took, tc.want, tc.within)
			}
			t.Logf("%s after %v", got, took)
		})
	}
	t.Run("an idle keep-alive connection is closed at IdleTimeout", func(t *testing.T) {
		t.Parallel()
		c := dial(t, addr, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		br := bufio.NewReader(c)
		if got, _ := outcome(c, br, time.Second); got != "200" {
			t.Fatalf("GET /healthz: %s", got)
		}
		if got, took := outcome(c, br, l.IdleTimeout+time.Second); got != "closed" {
			t.Fatalf("idle connection: %s after %v, want closed", got, took)
		}
	})
}

// TestDemoServerDefaults: the limits the demo runs with leave the SCIM
// handler's deadline (30 s) room to answer before the server cuts the
// connection, and bound everything.
func TestDemoServerDefaults(t *testing.T) {
	l := demoLimits
	const handlerTimeout = 30 * time.Second // scim.Limits.Timeout's default
	if l.ReadHeaderTimeout <= 0 || l.IdleTimeout <= 0 || l.MaxConns <= 0 {
		t.Errorf("unbounded: %+v", l)
	}
	if l.ReadTimeout <= handlerTimeout || l.WriteTimeout <= handlerTimeout || l.WriteTimeout >= time.Minute {
		t.Errorf("ReadTimeout %v and WriteTimeout %v must exceed the handler's %v (and WriteTimeout stay under Entra's 60 s)",
			l.ReadTimeout, l.WriteTimeout, handlerTimeout)
	}
	srv := newHTTPServer(http.NotFoundHandler(), l)
	got := serverLimits{srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout, l.MaxConns}
	if got != l {
		t.Errorf("newHTTPServer: %+v, want %+v", got, l)
	}
}

// TestDemoConnectionCap: with -max-conns N, the demo serves N connections
// at once; idle keep-alive connections cannot pile up file descriptors,
// and the next client is served as soon as one closes.
func TestDemoConnectionCap(t *testing.T) {
	const n = 4
	d := startDemo(t, demoConfig{args: []string{"-db", "memory", "-token", "t", "-max-conns", fmt.Sprint(n)}})
	var held []net.Conn
	for i := range n {
		c := dial(t, d.addr, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		if got, _ := outcome(c, nil, 5*time.Second); got != "200" {
			t.Fatalf("connection %d: %s", i, got)
		}
		held = append(held, c) // kept open, idle
	}
	extra := dial(t, d.addr, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(extra)
	if got, _ := outcome(extra, br, 500*time.Millisecond); got != "nothing" {
		t.Fatalf("connection %d of %d: %s, want no answer until one closes", n+1, n, got)
	}
	held[0].Close()
	if got, took := outcome(extra, br, 5*time.Second); got != "200" {
		t.Fatalf("after one closed: %s after %v, want 200", got, took)
	}
}

// TestDemoSlowBodiesDoNotLockOutTheTenant: more of a tenant's requests than
// its concurrency slots (64), all trickling their bodies, leave the tenant
// a slot for its IdP's next request.
func TestDemoSlowBodiesDoNotLockOutTheTenant(t *testing.T) {
	d := startDemo(t, demoConfig{args: []string{"-db", "memory", "-token", "t"}})
	for range 80 {
		dial(t, d.addr, "POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n"+
			"Content-Type: application/scim+json\r\nContent-Length: 100\r\n\r\n{")
	}
	time.Sleep(300 * time.Millisecond) // let the server read their headers
	if r := d.call(t, "GET", "/Users", "t", ""); r.status != http.StatusOK {
		t.Fatalf("GET /Users with 80 bodies stalled: %d %s", r.status, strings.TrimSpace(string(r.body)))
	}
}
