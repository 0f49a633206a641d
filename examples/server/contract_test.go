package main

// The demo server's command-line contract (DESIGN.md, "The demo backend"):
// other tools drive the binary through its flags, its stdout lines, its log
// and its signals, so these tests build it once and run it as a subprocess on
// a free loopback port, the way those tools do. startDemo, launchDemo and
// runDemo are there for the other tests of this package too.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// demoBin is the server binary built by TestMain; demoBuildErr why it is
// missing.
var (
	demoBin      string
	demoBuildErr error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "scimkit-demo-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	demoBin, demoBuildErr = buildDemo(dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func buildDemo(dir string) (string, error) {
	bin := filepath.Join(dir, "server")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

// demoConfig describes one run of the server.
type demoConfig struct {
	args []string // flags; -addr is added
	env  []string // added to the environment, from which SCIM_TOKEN is removed
	dir  string   // working directory; default a new temporary one
}

// demo is a running server.
type demo struct {
	cmd    *exec.Cmd
	dir    string
	addr   string // host:port it listens on
	root   string // http://addr
	base   string // the SCIM base URL, http://addr/scim/v2
	stdout *lockedBuffer
	stderr *lockedBuffer
	exited chan struct{} // closed once the process has exited
	err    error         // cmd.Wait's result, once exited is closed
}

// servingLine is the line the server prints once it listens.
var servingLine = regexp.MustCompile(`(?m)^scimkit demo serving SCIM at (http://\S+/scim/v2) \(store: (.*)\)$`)

// startDemo runs the server on a free loopback port and waits until it
// serves. The server is stopped when the test ends.
func startDemo(t *testing.T, cfg demoConfig) *demo {
	t.Helper()
	if cfg.dir == "" {
		cfg.dir = t.TempDir()
	}
	for attempt := 1; ; attempt++ {
		// The port is free when chosen but another process may take it
		// before the server listens: then try another.
		addr := freeAddr(t)
		d := launchDemo(t, cfg, append([]string{"-addr", addr}, cfg.args...))
		d.addr, d.root = addr, "http://"+addr
		err := d.waitServing()
		if err == nil {
			if want := d.root + "/scim/v2"; d.base != want {
				t.Fatalf("server announced %s, want %s", d.base, want)
			}
			return d
		}
		if attempt < 3 && strings.Contains(d.stderr.String(), "address already in use") {
			continue
		}
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, d.stdout, d.stderr)
	}
}

// waitServing waits up to 15 s for the server to announce its base URL.
func (d *demo) waitServing() error {
	deadline := time.After(15 * time.Second)
	for {
		if m := servingLine.FindStringSubmatch(d.stdout.String()); m != nil {
			d.base = m[1]
			return nil
		}
		select {
		case <-d.exited:
			return fmt.Errorf("server exited before serving (%v)", d.err)
		case <-deadline:
			return errors.New("server not serving after 15s")
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// launchDemo starts the binary with exactly args. It is killed when the test
// ends, unless it has exited by then.
func launchDemo(t *testing.T, cfg demoConfig, args []string) *demo {
	t.Helper()
	if demoBuildErr != nil {
		t.Fatal(demoBuildErr)
	}
	if cfg.dir == "" {
		cfg.dir = t.TempDir()
	}
	d := &demo{dir: cfg.dir, stdout: new(lockedBuffer), stderr: new(lockedBuffer), exited: make(chan struct{})}
	d.cmd = exec.Command(demoBin, args...)
	d.cmd.Dir = cfg.dir
	d.cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "SCIM_TOKEN=")
	}), cfg.env...)
	d.cmd.Stdout, d.cmd.Stderr = d.stdout, d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		d.err = d.cmd.Wait()
		close(d.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-d.exited:
			return
		default:
		}
		d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.exited:
		case <-time.After(5 * time.Second):
			d.cmd.Process.Kill()
			<-d.exited
			t.Errorf("server still running 5s after SIGTERM; killed\nstderr:\n%s", d.stderr)
		}
	})
	return d
}

// runDemo runs the binary with args to completion (at most 20 s) in dir and
// returns its exit code and output.
func runDemo(t *testing.T, dir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	d := launchDemo(t, demoConfig{dir: dir}, args)
	select {
	case <-d.exited:
	case <-time.After(20 * time.Second):
		d.cmd.Process.Kill()
		<-d.exited
		t.Fatalf("server %s still running after 20s\nstderr:\n%s", strings.Join(args, " "), d.stderr)
	}
	return d.cmd.ProcessState.ExitCode(), d.stdout.String(), d.stderr.String()
}

// stop sends sig and waits up to 5 s for the server to exit; it returns the
// exit code.
func (d *demo) stop(t *testing.T, sig os.Signal) int {
	t.Helper()
	if err := d.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.exited:
	case <-time.After(5 * time.Second):
		t.Fatalf("server still running 5s after %v\nstderr:\n%s", sig, d.stderr)
	}
	return d.cmd.ProcessState.ExitCode()
}

// response is an answer of the server.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request to the SCIM path (e.g. "/Users") with the given
// Authorization header ("" for none) and body ("" for none).
func (d *demo) do(t *testing.T, method, path, authorization, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, d.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	return send(t, req)
}

// call sends a request with a bearer token.
func (d *demo) call(t *testing.T, method, path, token, body string) response {
	t.Helper()
	return d.do(t, method, path, "Bearer "+token, body)
}

func send(t *testing.T, req *http.Request) response {
	t.Helper()
	ctx, cancel := context.WithTimeout(req.Context(), 10*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

// want fails the test unless the response has the given status.
func (r response) want(t *testing.T, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, r.body)
	}
	return r
}

// scimUser is what the tests read of a user.
type scimUser struct {
	ID         string `json:"id"`
	UserName   string `json:"userName"`
	Active     bool   `json:"active"`
	MemberRole string `json:"memberRole"`
	Emails     []struct {
		Value string `json:"value"`
	} `json:"emails"`
	Meta struct {
		Location string `json:"location"`
		Version  string `json:"version"`
	} `json:"meta"`
}

type scimGroup struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Members     []struct {
		Value string `json:"value"`
	} `json:"members"`
}

type listResponse[T any] struct {
	TotalResults int `json:"totalResults"`
	Resources    []T `json:"Resources"`
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return v
}

func userJSON(userName string) string {
	return fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName":%q,"emails":[{"value":%q,"type":"work","primary":true}],"active":true}`, userName, userName)
}

func filterPath(attr, value string) string {
	return "/Users?filter=" + url.QueryEscape(fmt.Sprintf("%s eq %q", attr, value))
}

// logLine is a request line of the server's log.
type logLine struct {
	Msg    string `json:"msg"`
	Method string `json:"method"`
	Path   string `json:"path"`
	Status int    `json:"status"`
	Tenant string `json:"tenant"`
}

// requestLog returns the request lines of the server's stderr; every line
// must be a JSON object.
func (d *demo) requestLog(t *testing.T) []logLine {
	t.Helper()
	var lines []logLine
	sc := bufio.NewScanner(strings.NewReader(d.stderr.String()))
	for sc.Scan() {
		var l logLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Errorf("log line is not JSON: %q", sc.Text())
			continue
		}
		if l.Msg == "scim request" {
			lines = append(lines, l)
		}
	}
	return lines
}

// waitLog waits up to 5 s for a request line with the given path: the
// handler logs after it answers.
func (d *demo) waitLog(t *testing.T, path string) logLine {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, l := range d.requestLog(t) {
			if l.Path == path {
				return l
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line for %s in\n%s", path, d.stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestDemoTokens(t *testing.T) {
	t.Parallel()
	d := startDemo(t, demoConfig{args: []string{"-db", "memory",
		"-token", "plain-token",
		"-token", "acme=acme-token", "-token", "acme=acme-rotated",
		"-token", "beta=beta-token",
	}})

	t.Run("each token acts for its tenant", func(t *testing.T) {
		for _, tc := range []struct{ name, token, tenant string }{
			{"bare", "plain-token", "default"},
			{"acme", "acme-token", "acme"},
			{"acme-rotated", "acme-rotated", "acme"},
			{"beta", "beta-token", "beta"},
		} {
			d.call(t, "GET", "/Users?count=1", tc.token, "").want(t, http.StatusOK)
			// An unknown id, so that the log line tells which request it is.
			path := "/Users/probe-" + tc.name
			d.call(t, "GET", path, tc.token, "").want(t, http.StatusNotFound)
			if got := d.waitLog(t, path).Tenant; got != tc.tenant {
				t.Errorf("token %s: tenant %q, want %q", tc.name, got, tc.tenant)
			}
		}
	})

	t.Run("unknown credentials get 401 and a Bearer challenge", func(t *testing.T) {
		for _, tc := range []struct{ name, authorization string }{
			{"unknown token", "Bearer not-a-token"},
			{"TENANT=TOKEN sent as the token", "Bearer acme=acme-token"},
			{"token in another case", "Bearer PLAIN-TOKEN"},
			{"tenant name as the token", "Bearer acme"},
			{"no Authorization header", ""},
			{"empty bearer", "Bearer "},
			{"basic scheme", "Basic cGxhaW4tdG9rZW46"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := d.do(t, "GET", "/Users", tc.authorization, "").want(t, http.StatusUnauthorized)
				if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", got)
				}
				if e := decode[struct{ Status string }](t, r); e.Status != "401" {
					t.Errorf("error status %q, want \"401\"", e.Status)
				}
			})
		}
	})

	t.Run("a tenant neither sees nor changes another's data", func(t *testing.T) {
		const userName = "ada@acme.example"
		u := decode[scimUser](t, d.call(t, "POST", "/Users", "acme-token", userJSON(userName)).want(t, http.StatusCreated))
		g := decode[scimGroup](t, d.call(t, "POST", "/Groups", "acme-token",
			`{"displayName":"Acme Team","members":[{"value":"`+u.ID+`"}]}`).want(t, http.StatusCreated))
		d.call(t, "GET", "/Users/"+u.ID, "acme-rotated", "").want(t, http.StatusOK)

		for _, token := range []string{"beta-token", "plain-token"} {
			t.Run(token, func(t *testing.T) {
				d.call(t, "GET", "/Users/"+u.ID, token, "").want(t, http.StatusNotFound)
				d.call(t, "GET", "/Groups/"+g.ID, token, "").want(t, http.StatusNotFound)
				for _, path := range []string{filterPath("userName", userName), filterPath("id", u.ID), "/Users?count=1000"} {
					l := decode[listResponse[scimUser]](t, d.call(t, "GET", path, token, "").want(t, http.StatusOK))
					for _, r := range l.Resources {
						if r.ID == u.ID || strings.EqualFold(r.UserName, userName) {
							t.Errorf("GET %s lists the other tenant's user %+v", path, r)
						}
					}
				}
				d.call(t, "PUT", "/Users/"+u.ID, token, userJSON("mallory@beta.example")).want(t, http.StatusNotFound)
				d.call(t, "PATCH", "/Users/"+u.ID, token,
					`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`).
					want(t, http.StatusNotFound)
				d.call(t, "DELETE", "/Users/"+u.ID, token, "").want(t, http.StatusNotFound)
				d.call(t, "DELETE", "/Groups/"+g.ID, token, "").want(t, http.StatusNotFound)

				// The other tenant's user id is not a user here: a group of
				// this tenant does not take it as a member.
				own := decode[scimGroup](t, d.call(t, "POST", "/Groups", token, `{"displayName":"Own Team","members":[]}`).want(t, http.StatusCreated))
				d.call(t, "PATCH", "/Groups/"+own.ID, token,
					`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"`+u.ID+`"}]}]}`)
				if got := decode[scimGroup](t, d.call(t, "GET", "/Groups/"+own.ID, token, "").want(t, http.StatusOK)); len(got.Members) != 0 {
					t.Errorf("group took the other tenant's user as a member: %+v", got.Members)
				}
				// The same userName is free in this tenant.
				d.call(t, "POST", "/Users", token, userJSON(userName)).want(t, http.StatusCreated)
			})
		}

		got := decode[scimUser](t, d.call(t, "GET", "/Users/"+u.ID, "acme-token", "").want(t, http.StatusOK))
		if diff := cmp.Diff(u, got); diff != "" {
			t.Errorf("acme's user changed by other tenants (-want +got):\n%s", diff)
		}
		gotG := decode[scimGroup](t, d.call(t, "GET", "/Groups/"+g.ID, "acme-token", "").want(t, http.StatusOK))
		if len(gotG.Members) != 1 || gotG.Members[0].Value != u.ID {
			t.Errorf("acme's group members = %+v, want [%s]", gotG.Members, u.ID)
		}
	})
}

func TestDemoTokenSources(t *testing.T) {
	t.Parallel()
	generated := regexp.MustCompile(`(?m)^SCIM token for tenant "default": (\S+)$`)

	t.Run("without -token or SCIM_TOKEN it prints a working token", func(t *testing.T) {
		t.Parallel()
		d := startDemo(t, demoConfig{args: []string{"-db", "memory", "-owner", "boss@example.com"}})
		m := generated.FindStringSubmatch(d.stdout.String())
		if m == nil {
			t.Fatalf("no token line in stdout:\n%s", d.stdout)
		}
		token := m[1]
		l := decode[listResponse[scimUser]](t, d.call(t, "GET", "/Users", token, "").want(t, http.StatusOK))
		if l.TotalResults != 1 || l.Resources[0].UserName != "boss@example.com" {
			t.Errorf("the generated token's tenant has %+v, want the seeded owner", l.Resources)
		}
		d.waitLog(t, "/Users")
		if d.stop(t, os.Interrupt); strings.Contains(d.stderr.String(), token) {
			t.Errorf("the token appears in the log:\n%s", d.stderr)
		}
	})

	for _, tc := range []struct {
		name   string
		env    []string
		args   []string
		tokens map[string]string // token → tenant
	}{
		{
			name:   "SCIM_TOKEN",
			env:    []string{"SCIM_TOKEN=env-token"},
			tokens: map[string]string{"env-token": "default"},
		},
		{
			name:   "SCIM_TOKEN and -token TENANT=TOKEN",
			env:    []string{"SCIM_TOKEN=env-token"},
			args:   []string{"-token", "acme=acme-token"},
			tokens: map[string]string{"env-token": "default", "acme-token": "acme"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := startDemo(t, demoConfig{env: tc.env, args: append([]string{"-db", "memory"}, tc.args...)})
			if m := generated.FindString(d.stdout.String()); m != "" {
				t.Errorf("printed a token although one was given: %s", m)
			}
			for token, tenant := range tc.tokens {
				path := "/Users/probe-" + tenant
				d.call(t, "GET", path, token, "").want(t, http.StatusNotFound)
				if got := d.waitLog(t, path).Tenant; got != tenant {
					t.Errorf("tenant %q, want %q", got, tenant)
				}
			}
			d.call(t, "GET", "/Users", "not-a-token", "").want(t, http.StatusUnauthorized)
		})
	}
}

func TestDemoSeededUsers(t *testing.T) {
	t.Parallel()
	d := startDemo(t, demoConfig{args: []string{"-db", "memory",
		"-token", "a=token-a", "-token", "b=token-b",
		"-owner", "boss@example.com", "-existing", "ann@example.com", "-existing", "bob@example.com",
	}})
	type seeded struct {
		UserName, MemberRole, Email string
		Active                      bool
	}
	want := []seeded{
		{"ann@example.com", "viewer", "ann@example.com", true},
		{"bob@example.com", "viewer", "bob@example.com", true},
		{"boss@example.com", "owner", "boss@example.com", true},
	}
	ids := map[string]map[string]bool{} // token → ids of its users
	for _, token := range []string{"token-a", "token-b"} {
		l := decode[listResponse[scimUser]](t, d.call(t, "GET", "/Users", token, "").want(t, http.StatusOK))
		var got []seeded
		ids[token] = map[string]bool{}
		for _, u := range l.Resources {
			s := seeded{UserName: u.UserName, MemberRole: u.MemberRole, Active: u.Active}
			if len(u.Emails) > 0 {
				s.Email = u.Emails[0].Value
			}
			got = append(got, s)
			ids[token][u.ID] = true
		}
		slices.SortFunc(got, func(a, b seeded) int { return strings.Compare(a.UserName, b.UserName) })
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: GET /Users (-want +got):\n%s", token, diff)
		}
		if l.TotalResults != len(want) {
			t.Errorf("%s: totalResults %d, want %d", token, l.TotalResults, len(want))
		}
		// An IdP matches existing users by userName before it creates them.
		f := decode[listResponse[scimUser]](t, d.call(t, "GET", filterPath("userName", "Ann@Example.com"), token, "").want(t, http.StatusOK))
		if f.TotalResults != 1 {
			t.Errorf("%s: filter on a seeded userName found %d users, want 1", token, f.TotalResults)
		}
	}
	// Each tenant has its own copies: the ids differ and do not cross over.
	for id := range ids["token-a"] {
		if ids["token-b"][id] {
			t.Errorf("user %s is in both tenants", id)
		}
		d.call(t, "GET", "/Users/"+id, "token-b", "").want(t, http.StatusNotFound)
	}
}

func TestDemoStorage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		args      []string
		wantStore string   // as announced on stdout
		wantFiles []string // created in the working directory
	}{
		{name: "memory", args: []string{"-db", "memory"}, wantStore: "memory"},
		{name: "default: scim.db in the working directory", wantStore: "scim.db", wantFiles: []string{"scim.db"}},
		{name: "a SQLite file path", args: []string{"-db", "other.db"}, wantStore: "other.db", wantFiles: []string{"other.db"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := startDemo(t, demoConfig{args: append([]string{"-token", "tok"}, tc.args...)})
			if got := servingLine.FindStringSubmatch(d.stdout.String())[2]; got != tc.wantStore {
				t.Errorf("announced store %q, want %q", got, tc.wantStore)
			}
			u := decode[scimUser](t, d.call(t, "POST", "/Users", "tok", userJSON("ada@example.com")).want(t, http.StatusCreated))
			d.call(t, "GET", "/Users/"+u.ID, "tok", "").want(t, http.StatusOK)
			if code := d.stop(t, syscall.SIGTERM); code != 0 {
				t.Fatalf("exit code %d\nstderr:\n%s", code, d.stderr)
			}
			entries, err := os.ReadDir(d.dir)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range entries {
				got = append(got, e.Name())
			}
			for _, f := range tc.wantFiles {
				if !slices.Contains(got, f) {
					t.Errorf("%s not created in the working directory; it holds %q", f, got)
				}
			}
			if len(tc.wantFiles) == 0 && len(got) != 0 {
				t.Errorf("files created in the working directory: %q", got)
			}
		})
	}
}

func TestDemoAddress(t *testing.T) {
	t.Parallel()
	// startDemo passes -addr with a free port and checks the announced URL.
	d := startDemo(t, demoConfig{args: []string{"-db", "memory", "-token", "tok"}})

	get := func(t *testing.T, url string) response {
		t.Helper()
		req, err := http.NewRequest("GET", url, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer tok")
		return send(t, req)
	}
	if r := get(t, d.root+"/healthz").want(t, http.StatusOK); strings.TrimSpace(string(r.body)) != "ok" {
		t.Errorf("/healthz body %q, want ok", r.body)
	}
	r := get(t, d.base+"/ServiceProviderConfig").want(t, http.StatusOK)
	if !bytes.Contains(r.body, []byte("urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig")) {
		t.Errorf("ServiceProviderConfig: %s", r.body)
	}
	created := d.call(t, "POST", "/Users", "tok", userJSON("ada@example.com")).want(t, http.StatusCreated)
	u := decode[scimUser](t, created)
	want := d.base + "/Users/" + u.ID
	if got := created.header.Get("Location"); got != want {
		t.Errorf("Location %q, want %q", got, want)
	}
	if u.Meta.Location != want {
		t.Errorf("meta.location %q, want %q", u.Meta.Location, want)
	}
	get(t, want).want(t, http.StatusOK)
	// SCIM lives under /scim/v2 only.
	get(t, d.root+"/Users").want(t, http.StatusNotFound)
}

func TestDemoRequestLog(t *testing.T) {
	t.Parallel()
	tokens := []string{"default-secret-0x51", "acme-secret-0x52"}
	d := startDemo(t, demoConfig{args: []string{"-db", "memory", "-token", tokens[0], "-token", "acme=" + tokens[1]}})

	const unknownToken = "unknown-secret-0x53"
	d.call(t, "GET", "/Users", tokens[0], "").want(t, http.StatusOK)
	d.call(t, "POST", "/Users", tokens[1], userJSON("ada@example.com")).want(t, http.StatusCreated)
	d.call(t, "GET", "/Users/no-such-id", tokens[1], "").want(t, http.StatusNotFound)
	d.call(t, "GET", "/Groups", unknownToken, "").want(t, http.StatusUnauthorized)
	d.call(t, "GET", "/Users?filter="+url.QueryEscape(`userName eq "x"`), tokens[0], "").want(t, http.StatusOK)
	// Not a SCIM request: no line.
	healthz, err := http.NewRequest("GET", d.root+"/healthz", nil)
	if err != nil {
		t.Fatal(err)
	}
	send(t, healthz).want(t, http.StatusOK)

	// Stopping waits for the requests in flight, so their lines are written.
	if code := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	want := []logLine{
		{Msg: "scim request", Method: "GET", Path: "/Users", Status: 200, Tenant: "default"},
		{Msg: "scim request", Method: "POST", Path: "/Users", Status: 201, Tenant: "acme"},
		{Msg: "scim request", Method: "GET", Path: "/Users/no-such-id", Status: 404, Tenant: "acme"},
		{Msg: "scim request", Method: "GET", Path: "/Groups", Status: 401, Tenant: ""},
		{Msg: "scim request", Method: "GET", Path: "/Users", Status: 200, Tenant: "default"},
	}
	// A line is written after its answer, so the order may vary.
	sortLines := cmpopts.SortSlices(func(a, b logLine) bool { return fmt.Sprint(a) < fmt.Sprint(b) })
	if diff := cmp.Diff(want, d.requestLog(t), sortLines); diff != "" {
		t.Errorf("request log (-want +got):\n%s", diff)
	}
	for _, tok := range append(tokens, unknownToken) {
		if strings.Contains(d.stderr.String(), tok) {
			t.Errorf("token %q appears in the log:\n%s", tok, d.stderr)
		}
	}
}

func TestDemoSignals(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT/SIGTERM delivery to a process on Windows")
	}
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			// The signal comes as soon as the server announces itself, as a
			// tool that starts and stops it does.
			d := startDemo(t, demoConfig{args: []string{"-token", "tok"}})
			start := time.Now()
			if code := d.stop(t, sig); code != 0 {
				t.Fatalf("exit code %d after %v (%v)\nstderr:\n%s", code, sig, d.err, d.stderr)
			}
			if !strings.Contains(d.stdout.String(), "scimkit demo stopped") {
				t.Errorf("no \"stopped\" message; stdout:\n%s", d.stdout)
			}
			t.Logf("stopped %v after %v", sig, time.Since(start))
		})
	}
}

func TestDemoBadFlags(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() })

	for _, tc := range []struct {
		name   string
		args   []string
		reason string // in the last line of stderr
		hidden string // never printed
	}{
		{name: "unknown flag", args: []string{"-bogus"}, reason: "flag provided but not defined: -bogus"},
		{name: "-token with no tenant", args: []string{"-token", "=x"}, reason: `invalid -token "=x"`},
		{name: "-token with no token", args: []string{"-token", "acme="}, reason: `invalid -token "acme="`},
		{name: "-db with an unknown scheme", args: []string{"-db", "bogus://x"}, reason: "-db bogus://x: want memory"},
		{name: "-db in a missing directory", args: []string{"-db", filepath.Join("missing", "dir", "x.db")}, reason: "cannot connect to"},
		{name: "-db unreachable postgres", args: []string{"-db", "postgres://u:hunter2@127.0.0.1:1/db"},
			reason: "cannot connect to postgres://u:xxxxx@127.0.0.1:1/db", hidden: "hunter2"},
		{name: "-db unreachable mysql", args: []string{"-db", "mysql://u:hunter2@127.0.0.1:1/db"},
			reason: "cannot connect to mysql://u:xxxxx@127.0.0.1:1/db", hidden: "hunter2"},
		{name: "positional argument", args: []string{"-db", "memory", "extra"}, reason: "unexpected arguments: extra"},
		{name: "-project without project groups", args: []string{"-db", "memory", "-project", "Alpha"}, reason: "-project: this profile has no project groups"},
		{name: "-project blank", args: []string{"-db", "memory", "-profile", "statsig", "-project", " "}, reason: `invalid -project " "`},
		{name: "-limits neither on nor off", args: []string{"-db", "memory", "-limits", "maybe"}, reason: `invalid -limits "maybe": want on or off`},
		{name: "-addr without a port", args: []string{"-db", "memory", "-addr", "nonsense"}, reason: "missing port in address"},
		{name: "-addr in use", args: []string{"-db", "memory", "-addr", busy.Addr().String()}, reason: "address already in use"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			code, stdout, stderr := runDemo(t, dir, tc.args...)
			if code == 0 {
				t.Errorf("exit code 0, want non-zero")
			}
			lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
			last := lines[len(lines)-1]
			if !strings.HasPrefix(last, "server: ") || !strings.Contains(last, tc.reason) {
				t.Errorf("last line of stderr %q, want \"server: …%s…\"; stderr:\n%s", last, tc.reason, stderr)
			}
			if strings.Contains(stdout, "serving") {
				t.Errorf("announced serving:\n%s", stdout)
			}
			if tc.hidden != "" && strings.Contains(stdout+stderr, tc.hidden) {
				t.Errorf("printed %q:\n%s%s", tc.hidden, stdout, stderr)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("left files in the working directory: %v", entries)
			}
		})
	}

	t.Run("-h prints the usage and exits 0", func(t *testing.T) {
		t.Parallel()
		code, _, stderr := runDemo(t, t.TempDir(), "-h")
		if code != 0 {
			t.Errorf("exit code %d, want 0; stderr:\n%s", code, stderr)
		}
		for _, flag := range []string{"-addr", "-db", "-token", "-owner", "-existing"} {
			if !strings.Contains(stderr, flag) {
				t.Errorf("usage does not mention %s:\n%s", flag, stderr)
			}
		}
	})
}

// lockedBuffer is a bytes.Buffer safe for a writer and concurrent readers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
