package scim

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
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
		Client: clientName(r.UserAgent()), TokenID: r.principal.TokenID,
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

// summarize describes a request body without its values.
func summarize(method string, body []byte) string {
	if len(body) == 0 {
		return ""
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		return "malformed body"
	}
	if method != "PATCH" {
		return "attributes: " + strings.Join(attributeNames(doc), ", ")
	}
	var ops []struct {
		Op    string          `json:"op"`
		Path  string          `json:"path"`
		Value json.RawMessage `json:"value"`
	}
	for k, v := range doc {
		if strings.EqualFold(k, "Operations") {
			_ = json.Unmarshal(v, &ops)
		}
	}
	parts := make([]string, 0, len(ops))
	for _, op := range ops {
		target := redactPath(op.Path)
		if target == "" {
			var obj map[string]json.RawMessage
			if json.Unmarshal(op.Value, &obj) == nil {
				target = "{" + strings.Join(attributeNames(obj), ", ") + "}"
			}
		}
		var list []json.RawMessage
		if json.Unmarshal(op.Value, &list) == nil && len(list) > 0 {
			target += fmt.Sprintf(" (%d)", len(list))
		}
		parts = append(parts, strings.ToLower(op.Op)+" "+target)
	}
	if len(parts) > 10 {
		parts = append(parts[:10], fmt.Sprintf("… %d more", len(parts)-10))
	}
	return strings.Join(parts, "; ")
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

func attributeNames(obj map[string]json.RawMessage) []string {
	names := make([]string, 0, len(obj))
	for k := range obj {
		if !strings.EqualFold(k, "schemas") && !strings.EqualFold(k, "password") {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	if len(names) > 20 {
		names = append(names[:20], "…")
	}
	return names
}
