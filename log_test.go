package scim_test

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim"
)

// TestRequestLogLine checks the one line logged per request: its fields,
// the token's id but never the token, and nothing for a level that is off.
func TestRequestLogLine(t *testing.T) {
	logs := new(syncBuffer)
	s := newTestServer(t, scim.Config{Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{AddSource: true}))})
	s.must(201, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"log@example.com"}`,
		"User-Agent: Okta SCIM Client 1.0.0")
	s.must(404, "GET", "/Users/nobody", "", "User-Agent: Azure AD SCIM Client")
	s.must(401, "GET", "/Users", "", "Authorization:")

	type line struct {
		Level, Msg, Method, Path, Tenant, Token, Client string
		Status                                          int
		Latency                                         *float64
	}
	var got []line
	deadline := time.Now().Add(5 * time.Second)
	for len(got) < 3 && time.Now().Before(deadline) {
		got = got[:0]
		sc := bufio.NewScanner(strings.NewReader(logs.String()))
		for sc.Scan() {
			var l line
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatalf("log line is not JSON: %s", sc.Text())
			}
			if l.Msg == "scim request" {
				got = append(got, l)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	for i, l := range got {
		if l.Latency == nil || *l.Latency < 0 {
			t.Errorf("line %d: latency %v", i, l.Latency)
		}
		if i < 2 && (l.Token == "" || strings.Contains(logs.String(), tokenAcme)) {
			t.Errorf("line %d: token id %q; the log must name the token, never hold it", i, l.Token)
		}
		got[i].Latency, got[i].Token = nil, ""
	}
	want := []line{
		{Level: "INFO", Msg: "scim request", Method: "POST", Path: "/Users", Status: 201, Tenant: "acme", Client: "okta"},
		{Level: "INFO", Msg: "scim request", Method: "GET", Path: "/Users/nobody", Status: 404, Tenant: "acme", Client: "entra"},
		{Level: "INFO", Msg: "scim request", Method: "GET", Path: "/Users", Status: 401, Client: "other"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request log lines (-want +got):\n%s", diff)
	}

	quiet := new(syncBuffer)
	q := newTestServer(t, scim.Config{Logger: slog.New(slog.NewJSONHandler(quiet, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	q.must(404, "GET", "/Users/nobody", "")
	if quiet.String() != "" {
		t.Errorf("request lines logged at level Warn:\n%s", quiet)
	}
}
