package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestReadmeWalkthrough runs the shell commands of the README's "Walkthrough
// with curl" with bash against a server the test starts: the flags of the
// README's go run line plus -addr with a free port, which replaces
// 127.0.0.1:8080 in the commands.
func TestReadmeWalkthrough(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl", "grep", "head", "cut"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the README walkthrough needs %s: %v", tool, err)
		}
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := walkthroughBlock(t, string(readme))

	// The first line starts the server; the test starts it instead.
	const goRun, readmeAddr = "go run ./examples/server ", "127.0.0.1:8080"
	serverLine, script, _ := strings.Cut(block, "\n")
	if !strings.HasPrefix(serverLine, goRun) || !strings.HasSuffix(serverLine, " &") {
		t.Fatalf("the walkthrough starts with %q, want %q…&", serverLine, goRun)
	}
	args := strings.Fields(strings.TrimSuffix(strings.TrimPrefix(serverLine, goRun), "&"))
	d := startDemo(t, demoConfig{args: args})
	if !strings.Contains(script, readmeAddr) {
		t.Fatalf("the walkthrough does not use %s", readmeAddr)
	}
	script = strings.ReplaceAll(script, readmeAddr, d.addr)

	// Each "# …" comment starts a step; a marker line before it splits the
	// output by step.
	const marker = "@@step "
	var sh strings.Builder
	sh.WriteString("set -euo pipefail\n")
	for line := range strings.Lines(script) {
		if heading, ok := strings.CutPrefix(line, "# "); ok {
			sh.WriteString("echo '" + marker + strings.ReplaceAll(strings.TrimSpace(heading), "'", "") + "'\n")
		}
		sh.WriteString(line)
	}
	path := filepath.Join(t.TempDir(), "walkthrough.sh")
	if err := os.WriteFile(path, []byte(sh.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", path)
	cmd.Dir = t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bash: %v\nscript:\n%s\nstdout:\n%s\nstderr:\n%s", err, sh.String(), &stdout, &stderr)
	}
	if stderr.Len() > 0 {
		t.Errorf("the walkthrough wrote to stderr:\n%s", &stderr)
	}

	steps := map[string]string{} // first word of the heading → output
	for _, part := range strings.Split(stdout.String(), marker)[1:] {
		heading, out, _ := strings.Cut(part, "\n")
		word, _, _ := strings.Cut(heading, " ")
		steps[word] = out
	}
	step := func(word string) []json.RawMessage {
		t.Helper()
		out, ok := steps[word]
		if !ok {
			t.Fatalf("no step %q in the walkthrough; output:\n%s", word, &stdout)
		}
		return jsonValues(t, word, out)
	}

	created := step("Create")
	if len(created) != 1 {
		t.Fatalf("Create printed %d JSON values, want 1 (the user)", len(created))
	}
	ada := unmarshal[scimUser](t, created[0])
	if ada.ID == "" || ada.UserName != "ada@example.com" || !ada.Active || ada.MemberRole != "experiment_editor" {
		t.Errorf("Create: got %s, want ada@example.com, active, experiment_editor", created[0])
	}

	found := step("Find")
	if len(found) != 1 {
		t.Fatalf("Find printed %d JSON values, want 1 (the list)", len(found))
	}
	if l := unmarshal[listResponse[scimUser]](t, found[0]); l.TotalResults != 1 || len(l.Resources) != 1 || l.Resources[0].ID != ada.ID {
		t.Errorf("Find: got %s, want a list of ada (%s)", found[0], ada.ID)
	}

	deactivated := step("Deactivate")
	if len(deactivated) != 1 {
		t.Fatalf("Deactivate printed %d JSON values, want 1 (the user)", len(deactivated))
	}
	if u := unmarshal[scimUser](t, deactivated[0]); u.ID != ada.ID || u.Active {
		t.Errorf("Deactivate: got %s, want ada (%s) with active false", deactivated[0], ada.ID)
	}

	pushed := step("Push")
	if len(pushed) != 1 {
		t.Fatalf("Push printed %d JSON values, want 1 (the group)", len(pushed))
	}
	type group struct {
		DisplayName string
		Members     []string
	}
	summary := func(g scimGroup) group {
		s := group{DisplayName: g.DisplayName}
		for _, m := range g.Members {
			s.Members = append(s.Members, m.Value)
		}
		return s
	}
	wantGroup := group{DisplayName: "Data Science", Members: []string{ada.ID}}
	if diff := cmp.Diff(wantGroup, summary(unmarshal[scimGroup](t, pushed[0]))); diff != "" {
		t.Errorf("Push: the group (-want +got):\n%s", diff)
	}

	// What the server holds afterwards.
	u := decode[scimUser](t, d.call(t, "GET", "/Users/"+ada.ID, "secret", "").want(t, http.StatusOK))
	if u.Active || u.MemberRole != "experiment_editor" {
		t.Errorf("GET /Users/%s: active %v, memberRole %q; want false, experiment_editor", ada.ID, u.Active, u.MemberRole)
	}
	groups := decode[listResponse[scimGroup]](t, d.call(t, "GET",
		"/Groups?filter="+url.QueryEscape(`displayName eq "Data Science"`), "secret", "").want(t, http.StatusOK))
	if len(groups.Resources) != 1 {
		t.Fatalf("GET /Groups found %d groups named Data Science, want 1", len(groups.Resources))
	}
	if diff := cmp.Diff(wantGroup, summary(groups.Resources[0])); diff != "" {
		t.Errorf("GET /Groups: the group (-want +got):\n%s", diff)
	}

	// No request of the walkthrough failed, not even one whose answer it
	// does not print.
	if code := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("server exit code %d", code)
	}
	for _, l := range d.requestLog(t) {
		if l.Status >= 400 {
			t.Errorf("the walkthrough got %d for %s %s", l.Status, l.Method, l.Path)
		}
	}
}

// walkthroughBlock returns the first sh code block of the README's
// "## Walkthrough with curl" section.
func walkthroughBlock(t *testing.T, readme string) string {
	t.Helper()
	_, section, ok := strings.Cut(readme, "\n## Walkthrough with curl\n")
	if !ok {
		t.Fatal(`README.md has no "## Walkthrough with curl" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	_, block, ok := strings.Cut(section, "\n```sh\n")
	if !ok {
		t.Fatal("the walkthrough has no ```sh block")
	}
	block, _, ok = strings.Cut(block, "\n```\n")
	if !ok {
		t.Fatal("the walkthrough's ```sh block does not end")
	}
	return block
}

// jsonValues decodes the JSON values printed one after another by a step.
func jsonValues(t *testing.T, step, out string) []json.RawMessage {
	t.Helper()
	var vs []json.RawMessage
	dec := json.NewDecoder(strings.NewReader(out))
	for {
		var v json.RawMessage
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return vs
		}
		if err != nil {
			t.Fatalf("step %s printed something other than JSON (%v):\n%s", step, err, out)
		}
		vs = append(vs, v)
	}
}

func unmarshal[T any](t *testing.T, raw json.RawMessage) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return v
}
