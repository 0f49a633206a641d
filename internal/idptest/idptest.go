// Package idptest replays what identity providers send to a SCIM endpoint.
//
// A scenario is a JSON file (testdata/<idp>/<name>.json) holding the
// requests one identity provider sends, in the order it sends them, and
// what each answer must contain for that provider to carry on. Run replays
// a scenario over real HTTP against a handler; the tests of this package
// run every scenario against the memory store and the SQLite store.
//
// # Fixture format
//
//	{
//	  "idp": "okta", "source": ["https://…"], "description": "…",
//	  "userAgent": "Okta SCIM Client 1.0.0",
//	  "steps": [{
//	    "name": "create the user",
//	    "method": "POST", "path": "/Users", "headers": {"If-Match": "…"},
//	    "body": {…},
//	    "repeat": 0,
//	    "expect": {
//	      "status": 201,
//	      "body": {…},                       // a subset of the answer
//	      "values": {"/Resources/0/id": "${id}", "/Resources/#": 2},
//	      "absent": ["/password"],           // JSON Pointers that must not exist
//	      "headers": {"Location": "${base}/Users/${id}"},
//	      "events": ["user.provisioned"]     // event types, in order
//	    },
//	    "capture": {"id": "/id", "loc": "header:Location"}
//	  }]
//	}
//
// Strings in path, headers, body and expectations may hold ${var}: a
// variable captured by an earlier step, ${base} (the handler's absolute
// URL) or, in a repeated step, ${i} (1 … repeat). In absent and capture,
// a pointer ending in "/#" names the length of an array.
//
// An expected body matches when every key it names matches: objects
// recursively, scalars by value (numbers as numbers), and arrays element
// for element in any order, with the same length; "*" matches any present
// value.
package idptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/scimkit/scim/store"
)

// Scenario is one identity provider's conversation with the endpoint.
type Scenario struct {
	// Name is the file's path under testdata, without extension.
	Name string `json:"-"`
	// IdP names the identity provider ("okta", "entra", …).
	IdP string `json:"idp"`
	// Source lists the documents the requests and answers come from.
	Source      []string `json:"source"`
	Description string   `json:"description"`
	// UserAgent is sent with every request.
	UserAgent string `json:"userAgent"`
	Steps     []Step `json:"steps"`
}

// Step is one request and what its answer must hold.
type Step struct {
	Name    string            `json:"name"`
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
	// Repeat sends the request this many times, with ${i} = 1 … Repeat.
	Repeat  int               `json:"repeat"`
	Expect  Expect            `json:"expect"`
	Capture map[string]string `json:"capture"`
}

// Expect is what an answer must hold.
type Expect struct {
	Status int `json:"status"`
	Body   any `json:"body"`
	// Values maps JSON Pointers into the answer to the values they must
	// hold (matched as Body is), for what Body cannot say: an element at
	// a position, the length of an array ("/Resources/#").
	Values  map[string]any    `json:"values"`
	Absent  []string          `json:"absent"`
	Headers map[string]string `json:"headers"`
	// Events lists the types of the events the request produced, in
	// order; nil does not check them, [] expects none.
	Events []store.EventType `json:"events"`
}

// Load reads every scenario under dir (files named *.json in its
// subdirectories), sorted by name.
func Load(dir string) ([]Scenario, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []Scenario
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var sc Scenario
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&sc); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		rel, _ := filepath.Rel(dir, f)
		sc.Name = strings.TrimSuffix(filepath.ToSlash(rel), ".json")
		if len(sc.Source) == 0 {
			return nil, fmt.Errorf("%s: a scenario names its source", f)
		}
		out = append(out, sc)
	}
	return out, nil
}

// Events collects the events a handler delivers (Config.OnEvent), so that
// Run can check the events of each step.
type Events struct {
	mu   sync.Mutex
	list []store.EventType
}

// Record is a Config.OnEvent hook.
func (e *Events) Record(_ context.Context, ev store.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, ev.Type)
}

func (e *Events) take() []store.EventType {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.list
	e.list = nil
	return out
}

// Run replays sc against the handler at base (its absolute URL, such as
// "http://127.0.0.1:1234/scim/v2") with the bearer token. events, when not
// nil, receives the handler's events.
func Run(t *testing.T, sc Scenario, base, token string, events *Events) {
	t.Helper()
	vars := map[string]string{"base": base}
	if events != nil {
		events.take()
	}
	for n, st := range sc.Steps {
		times := max(st.Repeat, 1)
		for i := 1; i <= times; i++ {
			if st.Repeat > 0 {
				vars["i"] = strconv.Itoa(i)
			}
			label := fmt.Sprintf("step %d %q", n+1, st.Name)
			if st.Repeat > 0 {
				label += fmt.Sprintf(" #%d", i)
			}
			if !runStep(t, label, st, base, token, vars, events) {
				return
			}
		}
	}
}

var varRE = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

func subst(s string, vars map[string]string) (string, error) {
	var missing string
	out := varRE.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		v, ok := vars[name]
		if !ok {
			missing = name
		}
		return v
	})
	if missing != "" {
		return "", fmt.Errorf("undefined variable ${%s}", missing)
	}
	return out, nil
}

// substAny substitutes variables in every string of a decoded JSON value.
func substAny(v any, vars map[string]string) (any, error) {
	switch v := v.(type) {
	case string:
		return subst(v, vars)
	case []any:
		out := make([]any, len(v))
		for i, el := range v {
			s, err := substAny(el, vars)
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, el := range v {
			s, err := substAny(el, vars)
			if err != nil {
				return nil, err
			}
			out[k] = s
		}
		return out, nil
	}
	return v, nil
}

func runStep(t *testing.T, label string, st Step, base, token string, vars map[string]string, events *Events) bool {
	t.Helper()
	fail := func(format string, args ...any) bool {
		t.Helper()
		t.Errorf("%s: %s %s: %s", label, st.Method, st.Path, fmt.Sprintf(format, args...))
		return false
	}
	path, err := subst(st.Path, vars)
	if err != nil {
		return fail("%v", err)
	}
	var body io.Reader
	if len(st.Body) > 0 {
		// Substitute in the decoded strings, so that a captured value
		// holding quotes (W/"1") stays valid JSON.
		dec := json.NewDecoder(bytes.NewReader(st.Body))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return fail("body: %v", err)
		}
		v, err := substAny(v, vars)
		if err != nil {
			return fail("%v", err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fail("%v", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(st.Method, base+escapeQuery(path), body)
	if err != nil {
		return fail("%v", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/scim+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json; charset=utf-8")
	}
	for k, v := range st.Headers {
		s, err := subst(v, vars)
		if err != nil {
			return fail("%v", err)
		}
		req.Header.Set(k, s)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fail("%v", err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return fail("reading the answer: %v", err)
	}
	var got any
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &got); err != nil {
			return fail("answer is not JSON: %v\n%s", err, raw)
		}
	}
	ok := true
	if want := st.Expect.Status; want != 0 && resp.StatusCode != want {
		// Later steps depend on this one: stop here.
		return fail("status %d, want %d; answer: %s", resp.StatusCode, want, raw)
	}
	if st.Expect.Body != nil {
		want, err := substAny(st.Expect.Body, vars)
		if err != nil {
			return fail("%v", err)
		}
		if msg := match(want, got, ""); msg != "" {
			ok = fail("body: %s\nanswer: %s", msg, raw)
		}
	}
	for p, w := range st.Expect.Values {
		want, err := substAny(w, vars)
		if err != nil {
			return fail("%v", err)
		}
		v, found := pointer(got, p)
		if !found {
			ok = fail("%s is absent, want %s; answer: %s", p, short(want), raw)
		} else if msg := match(want, v, p); msg != "" {
			ok = fail("%s\nanswer: %s", msg, raw)
		}
	}
	for _, p := range st.Expect.Absent {
		if _, found := pointer(got, p); found {
			ok = fail("%s is present, want absent; answer: %s", p, raw)
		}
	}
	for k, v := range st.Expect.Headers {
		want, err := subst(v, vars)
		if err != nil {
			return fail("%v", err)
		}
		if have := resp.Header.Get(k); (want == "*" && have == "") || (want != "*" && have != want) {
			ok = fail("header %s = %q, want %q", k, have, want)
		}
	}
	if events != nil && st.Expect.Events != nil {
		gotEvents := events.take()
		if !equalEvents(st.Expect.Events, gotEvents) {
			ok = fail("events %q, want %q", gotEvents, st.Expect.Events)
		}
	} else if events != nil {
		events.take()
	}
	for name, p := range st.Capture {
		var v any
		var found bool
		if h, isHeader := strings.CutPrefix(p, "header:"); isHeader {
			v, found = resp.Header.Get(h), resp.Header.Get(h) != ""
		} else {
			v, found = pointer(got, p)
		}
		if !found {
			return fail("capture %s: %s not in the answer: %s", name, p, raw)
		}
		switch v := v.(type) {
		case string:
			vars[name] = v
		case float64:
			vars[name] = strconv.FormatFloat(v, 'f', -1, 64)
		default:
			b, _ := json.Marshal(v)
			vars[name] = string(b)
		}
	}
	return ok
}

// escapeQuery percent-encodes the spaces and quotes of a readable query
// (filter=userName eq "x") as a client puts them on the wire.
func escapeQuery(path string) string {
	p, q, ok := strings.Cut(path, "?")
	if !ok {
		return path
	}
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case c == ' ':
			b.WriteString("%20")
		case c == '"' || c == '[' || c == ']' || c >= 0x80:
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return p + "?" + b.String()
}

func equalEvents(a, b []store.EventType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// pointer resolves a JSON Pointer (RFC 6901) in v; a final "#" token is the
// length of an array.
func pointer(v any, p string) (any, bool) {
	if p == "" {
		return v, true
	}
	if !strings.HasPrefix(p, "/") {
		return nil, false
	}
	for _, tok := range strings.Split(p[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := v.(type) {
		case map[string]any:
			next, ok := c[tok]
			if !ok {
				return nil, false
			}
			v = next
		case []any:
			if tok == "#" {
				v = float64(len(c))
				continue
			}
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// match reports how got fails to match want ("" when it matches).
func match(want, got any, at string) string {
	if want == "*" {
		return ""
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: got %s, want an object", where(at), short(got))
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			gv, ok := g[k]
			if !ok {
				return fmt.Sprintf("%s/%s: missing, want %s", at, k, short(w[k]))
			}
			if msg := match(w[k], gv, at+"/"+k); msg != "" {
				return msg
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok {
			return fmt.Sprintf("%s: got %s, want an array", where(at), short(got))
		}
		if len(g) != len(w) {
			return fmt.Sprintf("%s: %d elements, want %d: got %s", where(at), len(g), len(w), short(got))
		}
		used := make([]bool, len(g))
	next:
		for i, we := range w {
			for j, ge := range g {
				if !used[j] && match(we, ge, "") == "" {
					used[j] = true
					continue next
				}
			}
			return fmt.Sprintf("%s: no element matches %s (element %d); got %s", where(at), short(we), i, short(got))
		}
		return ""
	case float64:
		if g, ok := got.(float64); !ok || g != w {
			return fmt.Sprintf("%s: got %s, want %s", where(at), short(got), short(want))
		}
		return ""
	}
	if want != got {
		return fmt.Sprintf("%s: got %s, want %s", where(at), short(got), short(want))
	}
	return ""
}

func where(at string) string {
	if at == "" {
		return "/"
	}
	return at
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}
