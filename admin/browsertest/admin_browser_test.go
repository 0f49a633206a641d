// Package browsertest drives the admin page of the demo server in a real
// browser (Debian's chromium, headless, through chromedp): create a token
// in the page, provision a user and a group with it over SCIM, see them and
// the activity in the page, revoke the token, and see the next SCIM call
// fail with 401.
//
// It is a module of its own so that the library's go.mod does not carry a
// browser driver. Run it from this directory:
//
//	go test -v ./...
//
// It needs /usr/bin/chromium (or CHROMIUM); without it the test skips,
// except under CI=true, where it fails. Screenshots go to the directory in
// SCIMKIT_SCREENSHOTS (default: a new temporary directory, logged).
package browsertest

import (
	"bufio"
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

const password = "browser-test-password"

// chromium returns the browser to drive, or skips (fails in CI) without one.
func chromium(t *testing.T) string {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium not found at %s (CI installs it: apt-get install -y chromium)", path)
		}
		t.Skipf("chromium not found at %s: apt-get install -y chromium (or set CHROMIUM) to run the browser test", path)
	}
	return path
}

// screenshots returns the directory screenshots are saved in.
func screenshots(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SCIMKIT_SCREENSHOTS")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "scimkit-admin-screenshots-"); err != nil {
			t.Fatal(err)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// startDemo builds and runs the demo server with the admin page on, and
// returns its root URL.
func startDemo(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "server")
	if out, err := exec.Command("go", "build", "-C", root, "-o", bin, "./examples/server").CombinedOutput(); err != nil {
		t.Fatalf("build the demo server: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "-addr", addr, "-db", "memory", "-owner", "owner@example.com",
		"-existing", "grace@example.com", "-admin-password", password)
	cmd.Env = append(os.Environ(), "SCIM_TOKEN=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(t.TempDir(), "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			log, _ := os.ReadFile(logFile.Name())
			t.Logf("server log:\n%s", log)
		}
	})
	serving := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "scimkit demo serving SCIM at ") {
				close(serving)
			}
		}
	}()
	select {
	case <-serving:
	case <-time.After(30 * time.Second):
		t.Fatal("the demo server did not start within 30s")
	}
	return "http://" + addr
}

// scim sends a SCIM request as Okta would and returns status and body.
func scim(t *testing.T, root, token, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, root+"/scim/v2"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	req.Header.Set("User-Agent", "Okta SCIM Client 1.0.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

var idRE = regexp.MustCompile(`"id":"([^"]+)"`)

func TestAdminPageInBrowser(t *testing.T) {
	exe := chromium(t)
	shots := screenshots(t)
	start := time.Now()
	root := startDemo(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	defer cancelTimeout()

	fail := func(what string, err error) {
		t.Helper()
		shot(t, ctx, shots, "failed")
		t.Fatalf("%s: %v", what, err)
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			fail(what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			fail("read "+sel, err)
		}
		return s
	}

	// The demo's stand-in for the app's own login: HTTP Basic, user name =
	// the tenant, sent with every request of the tab.
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("default:"+password))
	do("start the browser", chromedp.Navigate("about:blank"))
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		fail("enable the network domain", err)
	}
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": auth}}); err != nil {
		fail("set the Authorization header", err)
	}
	do("open the admin page", chromedp.Navigate(root+"/admin/"), chromedp.WaitVisible(chromedp.CSS(`#token-name`)))
	shot(t, ctx, shots, "01-overview-empty")

	// Create a token: its secret is on the answer, once.
	do("create a token",
		chromedp.SendKeys(chromedp.CSS(`#token-name`), "Okta production"),
		chromedp.Click(chromedp.CSS(`form.create button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#secret`)),
	)
	secret, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`#secret`)))
	if err != nil {
		fail("read the secret", err)
	}
	if !strings.HasPrefix(secret, "scim_") {
		t.Fatalf("secret %q", secret)
	}
	hidden, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`button[data-copy=secret]`), "hidden"))
	if err != nil {
		fail("read the copy button", err)
	}
	if hidden.Exists {
		t.Error("the copy button is still hidden: copy.js did not run")
	}
	shot(t, ctx, shots, "02-token-created")
	prefix := secret[:len("scim_")+8]

	// Provision a user and a group with that token, as Okta would; and try
	// to deactivate the protected owner.
	status, body := scim(t, root, secret, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName":"ada@example.com","name":{"givenName":"Ada","familyName":"Lovelace"},
		"emails":[{"value":"ada@example.com","type":"work","primary":true}],"memberRole":"experiment_editor","active":true}`)
	if status != http.StatusCreated {
		t.Fatalf("POST /Users: %d %s", status, body)
	}
	uid := idRE.FindStringSubmatch(body)[1]
	status, body = scim(t, root, secret, "POST", "/Groups", `{"displayName":"Data Science","members":[{"value":"`+uid+`"}]}`)
	if status != http.StatusCreated {
		t.Fatalf("POST /Groups: %d %s", status, body)
	}
	status, body = scim(t, root, secret, "GET", "/Users?filter="+strings.ReplaceAll(`userName eq "owner@example.com"`, " ", "%20"), "")
	ownerID := idRE.FindStringSubmatch(body)
	if status != http.StatusOK || ownerID == nil {
		t.Fatalf("GET the owner: %d %s", status, body)
	}
	if status, body = scim(t, root, secret, "PATCH", "/Users/"+ownerID[1],
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`); status != http.StatusForbidden {
		t.Fatalf("deactivate the owner: %d %s, want 403", status, body)
	}

	do("see the users", chromedp.Navigate(root+"/admin/users"), chromedp.WaitVisible(chromedp.CSS(`table[data-testid=users]`)))
	got := text(`table[data-testid=users]`)
	for _, want := range []string{"ada@example.com", "Ada Lovelace", "experiment_editor", "SCIM-managed", "owner@example.com", "app user"} {
		if !strings.Contains(got, want) {
			t.Errorf("users table lacks %q:\n%s", want, got)
		}
	}
	shot(t, ctx, shots, "03-users")

	do("see the groups", chromedp.Navigate(root+"/admin/groups"), chromedp.WaitVisible(chromedp.CSS(`table[data-testid=groups]`)))
	if got := text(`table[data-testid=groups] tbody tr`); !regexp.MustCompile(`Data Science\s+1\b`).MatchString(got) {
		t.Errorf("groups row %q, want Data Science with 1 member", got)
	}
	shot(t, ctx, shots, "04-groups")

	do("see the activity", chromedp.Navigate(root+"/admin/activity"), chromedp.WaitVisible(chromedp.CSS(`table[data-testid=journal]`)))
	got = text(`table[data-testid=journal]`)
	for _, want := range []string{"POST /Users", "POST /Groups", "okta", "attributes: active, emails, memberRole, name, userName"} {
		if !strings.Contains(got, want) {
			t.Errorf("activity lacks %q:\n%s", want, got)
		}
	}
	shot(t, ctx, shots, "05-activity")
	do("filter the activity to failures",
		chromedp.SetValue(chromedp.CSS(`#f-status`), "4xx"),
		chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)),
		chromedp.WaitReady(chromedp.CSS(`#f-status option[value="4xx"][selected]`)),
	)
	if got := text(`table[data-testid=journal] tbody`); strings.Contains(got, "POST /Users") || !strings.Contains(got, "PATCH /Users/") || !strings.Contains(got, "403") {
		t.Errorf("4xx activity:\n%s", got)
	}

	do("see the overview", chromedp.Navigate(root+"/admin/"), chromedp.WaitVisible(chromedp.CSS(`dl[data-testid=connection]`)))
	got = text(`dl[data-testid=connection]`)
	for _, want := range []string{"Connected", "okta", "403 on PATCH /Users/"} {
		if !strings.Contains(got, want) {
			t.Errorf("connection lacks %q:\n%s", want, got)
		}
	}
	if got := text(`table[data-testid=refusals]`); !strings.Contains(got, "owner@example.com") {
		t.Errorf("refusals:\n%s", got)
	}
	shotFull(t, ctx, shots, "06-overview")

	// Revoke the token in the page; the next SCIM call fails.
	do("revoke the token",
		chromedp.Click(chromedp.CSS(`button[aria-label="Revoke `+prefix+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
	)
	if got := text(`table[data-testid=tokens] tbody`); !strings.Contains(got, "revoked") {
		t.Errorf("tokens after revoking:\n%s", got)
	}
	if status, body := scim(t, root, secret, "GET", "/Users", ""); status != http.StatusUnauthorized {
		t.Errorf("SCIM with the revoked token: %d %s, want 401", status, body)
	}
	page, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS(`html`)))
	if err != nil {
		fail("read the page", err)
	}
	if strings.Contains(page, secret[len(prefix):]) {
		t.Error("the overview shows the secret")
	}
	if !strings.Contains(page, "token.revoked") {
		t.Error("the admin activity lacks token.revoked")
	}
	shot(t, ctx, shots, "07-revoked")

	// Disconnect SCIM, then delete the tenant's data: each asks for the
	// tenant's name, and a wrong one changes nothing.
	do("disconnect with a wrong name",
		chromedp.SendKeys(chromedp.CSS(`#disconnect-confirm`), "acme"),
		chromedp.Click(chromedp.CSS(`form[data-testid=disconnect] button[type=submit]`)),
		// The error page, not the overview still shown while the form
		// posts: navigating on before it loads would abort one or the other.
		chromedp.WaitVisible(chromedp.CSS(`p[data-testid=error]`)),
	)
	if got := text(`main`); !strings.Contains(got, "type the tenant's name exactly") {
		t.Errorf("the page after a wrong confirmation:\n%s", got)
	}
	do("disconnect SCIM",
		chromedp.Navigate(root+"/admin/"),
		chromedp.SendKeys(chromedp.CSS(`#disconnect-confirm`), "default"),
		chromedp.Click(chromedp.CSS(`form[data-testid=disconnect] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
	)
	if got := text(`p.notice`); !strings.Contains(got, "SCIM is disconnected") {
		t.Errorf("notice after disconnecting: %q", got)
	}
	shot(t, ctx, shots, "08-disconnected")
	do("see the released users", chromedp.Navigate(root+"/admin/users"), chromedp.WaitVisible(chromedp.CSS(`table[data-testid=users]`)))
	if got := text(`table[data-testid=users]`); strings.Contains(got, "SCIM-managed") || !strings.Contains(got, "ada@example.com") {
		t.Errorf("users after disconnecting:\n%s", got)
	}
	do("delete the tenant's data",
		chromedp.Navigate(root+"/admin/"),
		chromedp.SendKeys(chromedp.CSS(`#delete-confirm`), "default"),
		chromedp.Click(chromedp.CSS(`form[data-testid=delete-tenant] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
	)
	if got := text(`p.notice`); !strings.Contains(got, "was deleted") {
		t.Errorf("notice after deleting: %q", got)
	}
	do("see no users", chromedp.Navigate(root+"/admin/users"), chromedp.WaitVisible(chromedp.CSS(`main`)))
	if got := text(`main`); strings.Contains(got, "ada@example.com") {
		t.Errorf("users after deleting the tenant's data:\n%s", got)
	}
	shot(t, ctx, shots, "09-deleted")

	do("open the overview on a phone",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)),
		chromedp.Navigate(root+"/admin/"),
		chromedp.WaitVisible(chromedp.CSS(`#token-name`)),
	)
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if err != nil {
		fail("measure the page", err)
	}
	if overflow {
		t.Error("the overview scrolls sideways on a phone")
	}
	shot(t, ctx, shots, "10-phone")
	t.Logf("browser test took %s", time.Since(start).Round(time.Millisecond))
}

func shot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	save(t, dir, name, png)
}

func shotFull(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	save(t, dir, name, png)
}

func save(t *testing.T, dir, name string, png []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Errorf("save screenshot: %v", err)
	}
}
