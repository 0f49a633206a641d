package scim_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store/memory"
)

// slowBody opens a TCP connection to addr and sends a request whose
// headers announce a body of 100 bytes, then only its first byte: a client
// trickling its body, or stalling. It returns the connection; the rest of
// the body never comes.
func slowBody(t *testing.T, addr, method, path, token string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	auth := ""
	if token != "" {
		auth = "Authorization: Bearer " + token + "\r\n"
	}
	if _, err := fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/scim+json\r\nContent-Length: 100\r\n\r\n{", method, path, auth); err != nil {
		t.Fatal(err)
	}
	return conn
}

// answer reads the response on conn, waiting at most wait; it returns its
// status, or 0 when none came in time.
func answer(t *testing.T, conn net.Conn, wait time.Duration) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	conn.SetReadDeadline(start.Add(wait))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, time.Since(start)
	}
	resp.Body.Close()
	return resp.StatusCode, time.Since(start)
}

// TestSlowBodyAnsweredByTheDeadline: the request's deadline (Limits.Timeout)
// covers reading its body, on a server with no timeouts of its own: a body
// that stalls gets 408 at the deadline, not an answer never; a request
// without a valid token is answered at once, without waiting for its body.
func TestSlowBodyAnsweredByTheDeadline(t *testing.T) {
	const timeout = 300 * time.Millisecond
	h, err := scim.NewHandler(memory.New(), demoPolicy, scim.Config{Authenticator: tokensFor(), Logger: discardLogger(),
		Limits: scim.Limits{Timeout: timeout}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h) // no ReadTimeout: the handler alone
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	for _, tc := range []struct {
		name, method, path, token string
		want                      int
		within                    time.Duration
	}{
		{"POST /Users", "POST", "/Users", tokenAcme, http.StatusRequestTimeout, timeout + 2*time.Second},
		{"PATCH /Users/x", "PATCH", "/Users/x", tokenAcme, http.StatusRequestTimeout, timeout + 2*time.Second},
		{"PUT /Groups/x", "PUT", "/Groups/x", tokenAcme, http.StatusRequestTimeout, timeout + 2*time.Second},
		{"no token", "POST", "/Users", "", http.StatusUnauthorized, 2 * time.Second},
		{"a wrong token", "POST", "/Users", "wrong", http.StatusUnauthorized, 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conn := slowBody(t, addr, tc.method, tc.path, tc.token)
			status, took := answer(t, conn, tc.within)
			if status != tc.want {
				t.Fatalf("status %d after %v, want %d within %v", status, took, tc.want, tc.within)
			}
			t.Logf("%d after %v", status, took)
		})
	}
}

// TestSlowBodiesHoldNoSlot: requests still sending their bodies do not hold
// the tenant's concurrency slots, so that a few stalled clients cannot lock
// a tenant out (429) while its IdP's normal requests arrive.
func TestSlowBodiesHoldNoSlot(t *testing.T) {
	const slots = 4
	h, err := scim.NewHandler(memory.New(), demoPolicy, scim.Config{Authenticator: tokensFor(), Logger: discardLogger(),
		Limits: scim.Limits{MaxConcurrent: slots, Timeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	var conns []net.Conn
	for range 4 * slots {
		conns = append(conns, slowBody(t, addr, "POST", "/Users", tokenAcme))
	}
	time.Sleep(200 * time.Millisecond) // let the server read their headers
	for i := range 3 {
		req, _ := http.NewRequest("GET", srv.URL+"/Users", nil)
		req.Header.Set("Authorization", "Bearer "+tokenAcme)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /Users #%d with %d bodies stalled: %d, want 200", i, len(conns), resp.StatusCode)
		}
	}
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() { c.Close() })
	}
	wg.Wait()
}
