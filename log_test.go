package scim_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
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
		{Level: "WARN", Msg: "scim request", Method: "GET", Path: "/Users/nobody", Status: 404, Tenant: "acme", Client: "entra"},
		{Level: "WARN", Msg: "scim request", Method: "GET", Path: "/Users", Status: 401, Client: "other"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request log lines (-want +got):\n%s", diff)
	}

	quiet := new(syncBuffer)
	q := newTestServer(t, scim.Config{Logger: slog.New(slog.NewJSONHandler(quiet, &slog.HandlerOptions{Level: slog.LevelError}))})
	q.must(404, "GET", "/Users/nobody", "")
	q.must(200, "GET", "/Users", "")
	if quiet.String() != "" {
		t.Errorf("request lines logged at level Error:\n%s", quiet)
	}
}

func TestDefaultRequestLogLevel(t *testing.T) {
	tests := []struct {
		status int
		want   slog.Level
	}{
		{200, slog.LevelInfo}, {201, slog.LevelInfo}, {204, slog.LevelInfo}, {304, slog.LevelInfo},
		{400, slog.LevelWarn}, {401, slog.LevelWarn}, {403, slog.LevelWarn}, {409, slog.LevelWarn}, {429, slog.LevelWarn},
		{500, slog.LevelError}, {503, slog.LevelError},
	}
	for _, tc := range tests {
		if got := scim.DefaultRequestLogLevel(tc.status); got != tc.want {
			t.Errorf("DefaultRequestLogLevel(%d) = %v, want %v", tc.status, got, tc.want)
		}
	}
}

// requestIDKey is where the test middleware keeps a request id.
type requestIDKey struct{}

// requestIDHandler is a context-aware slog.Handler: it adds the request id
// the middleware put in the context, as an app's logging set-up does.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id, ok := ctx.Value(requestIDKey{}).(string); ok {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

// TestLogsCarryTheRequestContext: the request line and internal-error lines
// go through the request's context, and the level of a request line is the
// app's choice.
func TestLogsCarryTheRequestContext(t *testing.T) {
	logs := new(syncBuffer)
	logger := slog.New(requestIDHandler{slog.NewJSONHandler(logs, nil)})
	h, err := scim.NewHandler(failingStore{}, demoPolicy, scim.Config{
		Authenticator: tokensFor(), Logger: logger,
		RequestLogLevel: func(status int) slog.Level {
			if status == http.StatusCreated {
				return slog.LevelDebug - 4 // below the handler's level: not logged
			}
			return scim.DefaultRequestLogLevel(status)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	mw := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, "req-42")))
	})
	srv := newHTTPServer(t, mw)
	s := &testServer{t: t, srv: srv, base: srv.URL}
	s.must(http.StatusInternalServerError, "GET", "/Users", "")

	type line struct{ Level, Msg, RequestID string }
	var got []line
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var l struct {
			Level, Msg string
			RequestID  string `json:"request_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("log line is not JSON: %s", sc.Text())
		}
		got = append(got, line{l.Level, l.Msg, l.RequestID})
	}
	want := []line{
		{"ERROR", "scim: request failed", "req-42"},
		{"ERROR", "scim request", "req-42"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log lines (-want +got):\n%s", diff)
	}
}

// failingStore fails every call with an error the handler does not know.
type failingStore struct{}

func (failingStore) View(context.Context, string, func(store.Reader) error) error {
	return errors.New("disk on fire")
}

func (failingStore) Update(context.Context, string, func(store.Tx) error) error {
	return errors.New("disk on fire")
}

// cancelledStore fails every call as a request whose client went away.
type cancelledStore struct{}

func (cancelledStore) View(context.Context, string, func(store.Reader) error) error {
	return context.Canceled
}

func (cancelledStore) Update(context.Context, string, func(store.Tx) error) error {
	return context.Canceled
}

// TestCancelledRequestIsNoInternalError: a store call that ends because
// the request was cancelled is not logged as an internal error.
func TestCancelledRequestIsNoInternalError(t *testing.T) {
	logs := new(syncBuffer)
	h, err := scim.NewHandler(cancelledStore{}, demoPolicy, scim.Config{
		Authenticator: tokensFor(), Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(t, h)
	s := &testServer{t: t, srv: srv, base: srv.URL}
	s.must(http.StatusServiceUnavailable, "GET", "/Users", "")
	if strings.Contains(logs.String(), "request failed") {
		t.Errorf("a cancelled request was logged as an internal error:\n%s", logs)
	}
}
