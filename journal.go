package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/scimkit/scim/internal/schema"
)

// JournalEntry is one request as the audit journal keeps it: enough for an
// admin page's "last SCIM request" and for troubleshooting, and nothing
// secret — the summary names attributes and operations, never values, and
// the error is the detail the IdP was sent.
type JournalEntry struct {
	// Time is when the request arrived.
	Time time.Time
	// Method is the request's HTTP method.
	Method string
	// Path is the request's path below the handler's mount point, without
	// the query.
	Path string
	// Status is the HTTP status answered.
	Status int
	// Latency is how long the handler took to answer.
	Latency time.Duration
	// Client is the identity provider recognised from the User-Agent.
	Client string
	// TokenID identifies the credential used (see Principal.TokenID).
	TokenID string
	// Summary says what the request asked, built only from what carries
	// no value: operation names, the schema's attribute names, filter
	// operators and counts ("replace active", "add members (3)",
	// "remove members[value eq …]", "attributes: emails, name, userName,
	// 1 unknown"). A key, path or operation the schema does not define
	// is counted or shown as unknown-path / unknown-op, never copied.
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

// record adds a finished request of an authenticated tenant; rt is the
// resource type its body is about (Handler.summaryType).
func (j *journal) record(r *request, sw *statusWriter, latency time.Duration, rt *schema.ResourceType) {
	if j.size <= 0 || r.principal.Tenant == "" {
		return
	}
	e := JournalEntry{
		Time: time.Now().UTC(), Method: r.Method, Path: r.URL.Path, Status: sw.status(), Latency: latency,
		Client: r.client, TokenID: r.principal.TokenID,
		Summary: summarize(rt, r.Method, r.body),
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

// summarize describes a request body from what is known to carry no
// value: the names of PATCH operations (add, replace, remove), the names of
// rt's attributes in their schema spelling, filter operators, and counts.
// Anything else — a key, a path or an operator that is not one of those,
// a filter's values — is left out or counted, never copied, so that no
// value reaches the summary in any form (quoted, unquoted, malformed).
// rt is the resource type the request is about, nil when none. It runs on
// every request, so it skims the body (json.Valid, then bracket matching)
// rather than decoding it.
func summarize(rt *schema.ResourceType, method string, body []byte) string {
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
		return "attributes: " + strings.Join(attributeNames(rt, keys), ", ")
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
		parts = append(parts, describeOp(rt, op, path, value))
	}
	if len(parts) > 10 {
		parts = append(parts[:10], fmt.Sprintf("… %d more", len(parts)-10))
	}
	return strings.Join(parts, "; ")
}

// describeOp describes one PATCH operation: "replace emails[type eq
// …].value", "add members (3)", "replace {active, name.givenName}".
func describeOp(rt *schema.ResourceType, op, path string, value []byte) string {
	target := describePath(rt, path)
	if path == "" {
		if names, _, ok := jsonFields(value); ok {
			target = "{" + strings.Join(attributeNames(rt, names), ", ") + "}"
		}
	}
	if list, ok := jsonElems(value); ok && len(list) > 0 {
		target += " (" + strconv.Itoa(len(list)) + ")"
	}
	return opName(op) + " " + target
}

// opName is a PATCH operation's name as the summary shows it.
func opName(op string) string {
	switch {
	case op == "":
		return ""
	case strings.EqualFold(op, "add"), strings.EqualFold(op, "replace"), strings.EqualFold(op, "remove"):
		return strings.ToLower(op)
	}
	return "unknown-op"
}

// describePath describes a PATCH path by its attributes and filter
// operators: emails[type eq "work"].value → emails[type eq …].value. A
// path that names no attribute of rt is "unknown-path".
func describePath(rt *schema.ResourceType, p string) string {
	if p == "" {
		return ""
	}
	const unknown = "unknown-path"
	attr, filter, sub := p, "", ""
	if i := strings.IndexByte(p, '['); i >= 0 {
		j := strings.LastIndexByte(p, ']')
		if j < i {
			return unknown
		}
		attr, filter = p[:i], p[i+1:j]
		if rest := p[j+1:]; rest != "" {
			var ok bool
			if sub, ok = strings.CutPrefix(rest, "."); !ok || sub == "" {
				return unknown
			}
		}
	}
	if rt == nil {
		return unknown
	}
	r, err := rt.Resolve(attr)
	if err != nil {
		return unknown
	}
	if attr == p {
		return r.Path.String()
	}
	if r.Sub != nil {
		return unknown // a filter applies to a multi-valued attribute, not to a sub-attribute
	}
	s := r.Path.String() + "[" + describeFilter(r.Attr, filter) + "]"
	if sub != "" {
		sa := r.Attr.Sub(sub)
		if sa == nil {
			return unknown
		}
		s += "." + sa.Name
	}
	return s
}

// describeFilter describes a value filter by the sub-attributes of a it
// names and its operators; every value, and every word that is none of
// those, is "…".
func describeFilter(a *schema.Attr, f string) string {
	var out []string
	valueNext := false
	for i := 0; i < len(f); {
		c := f[i]
		switch {
		case c == ' ' || c == '\t':
			i++
			continue
		case c == '(' || c == ')':
			out = append(out, string(c))
			i++
			continue
		case c == '"':
			for i++; i < len(f) && f[i] != '"'; i++ {
				if f[i] == '\\' {
					i++
				}
			}
			i++
			out = append(out, "…")
			valueNext = false
			continue
		}
		j := i
		for j < len(f) && !strings.ContainsRune(" \t()\"", rune(f[j])) {
			j++
		}
		word := f[i:j]
		i = j
		switch lower := strings.ToLower(word); {
		case valueNext:
			out = append(out, "…")
			valueNext = false
		case lower == "and" || lower == "or" || lower == "not" || lower == "pr":
			out = append(out, lower)
		case filterOps[lower]:
			out = append(out, lower)
			valueNext = true
		default:
			if s := a.Sub(word); s != nil {
				out = append(out, s.Name)
			} else {
				out = append(out, "…")
			}
		}
	}
	return strings.Join(out, " ")
}

// filterOps are the comparison operators of a filter (RFC 7644 §3.4.2.2).
var filterOps = map[string]bool{"eq": true, "ne": true, "co": true, "sw": true, "ew": true, "gt": true, "ge": true, "lt": true, "le": true}

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

// attributeNames returns the names of rt's attributes among keys, in
// their schema spelling and sorted, and how many other keys there were
// ("3 unknown"): a key rt does not define may be anything, a value too.
// schemas and password are left out.
func attributeNames(rt *schema.ResourceType, keys []string) []string {
	keys = slices.Compact(slices.Sorted(slices.Values(keys))) // a duplicate key counts once
	names := make([]string, 0, len(keys))
	unknown := 0
	for _, k := range keys {
		if strings.EqualFold(k, "schemas") || strings.EqualFold(k, "password") {
			continue
		}
		if name := attributeName(rt, k); name != "" {
			names = append(names, name)
		} else {
			unknown++
		}
	}
	sort.Strings(names)
	names = slices.Compact(names)
	if len(names) > 20 {
		names = append(names[:20], "…")
	}
	if unknown > 0 {
		names = append(names, strconv.Itoa(unknown)+" unknown")
	}
	return names
}

// attributeName returns the schema's name of the attribute, or extension
// schema, that key names ("username" → userName, "name.givenName", an
// enterprise URN path), or "" when it names none of rt's.
func attributeName(rt *schema.ResourceType, key string) string {
	if rt == nil {
		return ""
	}
	if urn, ok := rt.IsSchemaURN(key); ok {
		return urn
	}
	if r, err := rt.Resolve(key); err == nil {
		return r.Path.String()
	}
	return ""
}

// summaryType is the resource type a request's body is about, for its
// summary: nil when it has no body or is about neither Users nor Groups.
func (h *Handler) summaryType(r *request) *schema.ResourceType {
	if len(r.body) == 0 {
		return nil
	}
	first, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	switch {
	case strings.EqualFold(first, "Users"):
		return h.users
	case strings.EqualFold(first, "Groups"):
		return h.groups
	}
	return nil
}
