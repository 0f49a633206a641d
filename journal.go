package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// JournalEntry is one request as the audit journal keeps it: enough for an
// admin page's "last SCIM request" and for troubleshooting, and nothing
// secret — the summary names attributes and operations, never values, and
// the error is the detail the IdP was sent.
type JournalEntry struct {
	Time    time.Time
	Method  string
	Path    string
	Status  int
	Latency time.Duration
	// Client is the identity provider recognised from the User-Agent.
	Client  string
	TokenID string
	// Summary says what the request asked, without values: "replace
	// active", "add members (3)", "attributes: emails, name, userName".
	Summary string
	// Error is the SCIM error detail of a failed request.
	Error string
}

// journal keeps the last requests of each tenant in memory.
type journal struct {
	size    int
	mu      sync.Mutex
	tenants map[string]*ring
}

type ring struct {
	entries []JournalEntry
	next    int
	full    bool
}

func newJournal(size int) *journal {
	return &journal{size: size, tenants: map[string]*ring{}}
}

// record adds a finished request of an authenticated tenant.
func (j *journal) record(r *request, sw *statusWriter, latency time.Duration) {
	if j.size <= 0 || r.principal.Tenant == "" {
		return
	}
	e := JournalEntry{
		Time: time.Now().UTC(), Method: r.Method, Path: r.URL.Path, Status: sw.status(), Latency: latency,
		Client: r.client, TokenID: r.principal.TokenID,
		Summary: summarize(r.Method, r.body),
	}
	if e.Status >= 400 {
		e.Error = sw.detail
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	rg := j.tenants[r.principal.Tenant]
	if rg == nil {
		rg = &ring{entries: make([]JournalEntry, j.size)}
		j.tenants[r.principal.Tenant] = rg
	}
	rg.entries[rg.next] = e
	rg.next = (rg.next + 1) % j.size
	rg.full = rg.full || rg.next == 0
}

// Journal returns the tenant's most recent requests in this Handler, newest
// first (Config.JournalSize of them at most).
func (h *Handler) Journal(tenant string) []JournalEntry {
	j := h.journal
	j.mu.Lock()
	defer j.mu.Unlock()
	rg := j.tenants[tenant]
	if rg == nil {
		return nil
	}
	n := rg.next
	if rg.full {
		n = j.size
	}
	out := make([]JournalEntry, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, rg.entries[(rg.next-i+j.size)%j.size])
	}
	return out
}

// summarize describes a request body without its values. It runs on every
// request, so it skims the body (json.Valid, then bracket matching) rather
// than decoding it.
func summarize(method string, body []byte) string {
	if len(body) == 0 {
		return ""
	}
	if !json.Valid(body) {
		return "malformed body"
	}
	keys, vals, ok := jsonFields(body)
	if !ok {
		return "malformed body"
	}
	if method != "PATCH" {
		return "attributes: " + strings.Join(attributeNames(keys), ", ")
	}
	var ops [][]byte
	for i, k := range keys {
		if strings.EqualFold(k, "Operations") {
			ops, _ = jsonElems(vals[i]) // the last one, as json.Unmarshal takes it
		}
	}
	parts := make([]string, 0, len(ops))
	for _, raw := range ops {
		opKeys, opVals, ok := jsonFields(raw)
		if !ok {
			parts = append(parts, " ") // not an operation: no op, no target
			continue
		}
		var op, path string
		var value []byte
		for i, k := range opKeys {
			// Matched case-insensitively, as json.Unmarshal matches
			// struct fields.
			switch {
			case strings.EqualFold(k, "op"):
				op = jsonString(opVals[i])
			case strings.EqualFold(k, "path"):
				path = jsonString(opVals[i])
			case strings.EqualFold(k, "value"):
				value = opVals[i]
			}
		}
		target := redactPath(path)
		if target == "" {
			if names, _, ok := jsonFields(value); ok {
				target = "{" + strings.Join(attributeNames(names), ", ") + "}"
			}
		}
		if list, ok := jsonElems(value); ok && len(list) > 0 {
			target += fmt.Sprintf(" (%d)", len(list))
		}
		parts = append(parts, strings.ToLower(op)+" "+target)
	}
	if len(parts) > 10 {
		parts = append(parts[:10], fmt.Sprintf("… %d more", len(parts)-10))
	}
	return strings.Join(parts, "; ")
}

// jsonFields returns the keys of the JSON object b, which must be valid
// JSON, and the raw value of each; ok is false when b is not an object.
func jsonFields(b []byte) (keys []string, vals [][]byte, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, nil, false
	}
	i++
	for {
		i = skipSpace(b, i)
		if i >= len(b) || b[i] == '}' {
			return keys, vals, true
		}
		if b[i] == ',' {
			i++
			continue
		}
		end := skipValue(b, i) // the key
		keys = append(keys, jsonString(b[i:end]))
		i = skipSpace(b, end) + 1 // past ':'
		i = skipSpace(b, i)
		end = skipValue(b, i)
		vals = append(vals, b[i:end])
		i = end
	}
}

// jsonElems returns the raw elements of the JSON array b, which must be
// valid JSON; ok is false when b is not an array.
func jsonElems(b []byte) ([][]byte, bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return nil, false
	}
	var out [][]byte
	i++
	for {
		i = skipSpace(b, i)
		if i >= len(b) || b[i] == ']' {
			return out, true
		}
		if b[i] == ',' {
			i++
			continue
		}
		end := skipValue(b, i)
		out = append(out, b[i:end])
		i = end
	}
}

// jsonString returns the JSON string b decoded, or "" when b is not one.
func jsonString(b []byte) string {
	if len(b) < 2 || b[0] != '"' {
		return ""
	}
	if bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b) {
		return string(b[1 : len(b)-1])
	}
	var s string
	_ = json.Unmarshal(b, &s)
	return s
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index just past the valid JSON value at b[i].
func skipValue(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			i++ // the closing quote
			if depth == 0 {
				return i
			}
		case c == '{' || c == '[':
			depth++
			i++
		case c == '}' || c == ']':
			if depth == 0 {
				return i
			}
			depth--
			i++
			if depth == 0 {
				return i
			}
		case depth == 0 && (c == ',' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return i
		default:
			i++
		}
	}
	return i
}

// redactPath drops the values compared in a path's filter:
// members[value eq "x"] → members[value eq …].
func redactPath(p string) string {
	var b strings.Builder
	inQuote := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '"' && !inQuote:
			inQuote = true
			b.WriteString("…")
		case c == '"' && inQuote:
			inQuote = false
		case c == '\\' && inQuote:
			i++
		case !inQuote:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func attributeNames(keys []string) []string {
	names := make([]string, 0, len(keys))
	for _, k := range keys {
		if !strings.EqualFold(k, "schemas") && !strings.EqualFold(k, "password") {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	names = slices.Compact(names)
	if len(names) > 20 {
		names = append(names[:20], "…")
	}
	return names
}
