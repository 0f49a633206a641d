package scim

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/scimkit/scim/internal/schema"
	"github.com/scimkit/scim/store"
)

// JournalEntry is one request as the audit journal keeps it: enough for an
// admin page's "last SCIM request" and for troubleshooting, and nothing
// secret (see store.JournalEntry for its fields).
type JournalEntry = store.JournalEntry

// The journal's bounds in a Handler whose store keeps it.
const (
	// journalBuffer bounds the entries a Handler holds before writing
	// them: past it, entries are dropped (counted and logged) rather than
	// holding up a request.
	journalBuffer = 4096
	// journalFlushEvery is how long an entry waits, at most, before the
	// Handler writes it with the others that arrived meanwhile.
	journalFlushEvery = 200 * time.Millisecond
	// journalFlushTimeout bounds one flush of the buffer in the
	// background.
	journalFlushTimeout = 30 * time.Second
	// maxJournalField bounds the bytes of an entry's path and error.
	maxJournalField = 1024
	// maxJournalUserID is the longest user id an entry names: no store
	// keeps a longer one (the SQL store's id column holds 255 bytes), so
	// a request for one concerned no user.
	maxJournalUserID = 255
)

// journal keeps the recent requests of each tenant: in the store, when it
// implements store.JournalStore, written in batches in the background;
// otherwise in memory, a ring per tenant.
type journal struct {
	size   int
	maxAge time.Duration // 0: no limit
	now    func() time.Time
	log    *slog.Logger
	js     store.JournalStore // nil: kept in rings
	every  time.Duration      // journalFlushEvery

	mu        sync.Mutex
	tenants   map[string]*ring          // js == nil
	pending   map[string][]JournalEntry // js != nil: not written yet
	npending  int                       // the entries in pending
	timer     *time.Timer               // the next flush, nil when none is due
	dropped   int                       // entries dropped since the last report
	prunes    map[string]*pruneState    // js != nil: per tenant
	flushLock sync.Mutex                // one flush at a time, in order
}

// pruneState is what decides a tenant's next pruning.
type pruneState struct {
	appended int       // entries written since the last pruning
	last     time.Time // the last pruning
}

type ring struct {
	entries []JournalEntry
	next    int
	full    bool
}

func newJournal(cfg Config, st store.Store, log *slog.Logger) *journal {
	j := &journal{size: cfg.JournalSize, now: cfg.Now, log: log, every: journalFlushEvery, tenants: map[string]*ring{}}
	if cfg.JournalMaxAge > 0 {
		j.maxAge = cfg.JournalMaxAge
	}
	if js, ok := powerOf[store.JournalStore](st); ok {
		j.js = js
		j.pending = map[string][]JournalEntry{}
		j.prunes = map[string]*pruneState{}
	}
	return j
}

// record adds a finished request of an authenticated tenant; rt is the
// resource type its body is about (Handler.summaryType). It never waits
// for the store: with a store keeping the journal, the entry waits in a
// bounded buffer for the next flush, or is dropped when the buffer is
// full.
func (j *journal) record(r *request, sw *statusWriter, latency time.Duration, rt *schema.ResourceType) {
	if j.size <= 0 || r.principal.Tenant == "" {
		return
	}
	e := JournalEntry{
		Time: j.now().Add(-latency).UTC(), Method: journalText(r.Method, maxJournalField), Path: journalText(r.URL.Path, maxJournalField),
		Status: sw.status(), Latency: latency, Client: r.client, TokenID: r.principal.TokenID,
		Summary: summarize(rt, r.Method, r.body), UserID: r.userID,
	}
	if e.Status >= 400 {
		e.Error = journalText(sw.detail, maxJournalField)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.js != nil {
		if j.npending >= journalBuffer {
			j.dropped++
			return
		}
		j.pending[r.principal.Tenant] = append(j.pending[r.principal.Tenant], e)
		j.npending++
		if j.timer == nil {
			j.timer = time.AfterFunc(j.every, j.flushLater)
		}
		return
	}
	rg := j.tenants[r.principal.Tenant]
	if rg == nil {
		rg = &ring{entries: make([]JournalEntry, j.size)}
		j.tenants[r.principal.Tenant] = rg
	}
	rg.entries[rg.next] = e
	rg.next = (rg.next + 1) % j.size
	rg.full = rg.full || rg.next == 0
}

// journalText returns s as a store keeps text: valid UTF-8 without NUL
// (PostgreSQL refuses either), cut to at most limit bytes and "…".
func journalText(s string, limit int) string {
	if len(s) > limit {
		i := limit
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s = s[:i] + "…"
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\ufffd")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\ufffd")
	}
	return s
}

// flushLater is the timer's flush, in the background.
func (j *journal) flushLater() {
	ctx, cancel := context.WithTimeout(context.Background(), journalFlushTimeout)
	defer cancel()
	_ = j.flush(ctx)
}

// flush writes the buffered entries to the store, one AppendJournal per
// tenant, and prunes the tenants that are due: those with a tenth of
// JournalSize entries written since their last pruning, or whose last
// pruning is a tenth of JournalMaxAge ago (and those not pruned yet by
// this Handler).
// Entries that could not be written are dropped and logged: the journal
// is a troubleshooting aid, and retrying would only grow the buffer while
// the store is down.
func (j *journal) flush(ctx context.Context) error {
	j.flushLock.Lock()
	defer j.flushLock.Unlock()
	j.mu.Lock()
	pending, dropped := j.pending, j.dropped
	j.pending, j.npending, j.dropped = map[string][]JournalEntry{}, 0, 0
	if j.timer != nil {
		j.timer.Stop()
		j.timer = nil
	}
	j.mu.Unlock()
	if dropped > 0 {
		j.log.WarnContext(ctx, "scim: journal entries dropped: more requests than the journal's buffer holds until its next write", "dropped", dropped)
	}
	var firstErr error
	for tenant, entries := range pending {
		if err := j.js.AppendJournal(ctx, tenant, entries); err != nil {
			j.log.ErrorContext(ctx, "scim: journal entries dropped: writing them failed", "tenant", tenant, "dropped", len(entries), "err", err)
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		if err := j.prune(ctx, tenant, len(entries)); err != nil {
			j.log.ErrorContext(ctx, "scim: pruning the journal failed", "tenant", tenant, "err", err)
			firstErr = cmp.Or(firstErr, err)
		}
	}
	return firstErr
}

// prune deletes the tenant's entries beyond JournalSize and older than
// JournalMaxAge when the tenant is due (see flush), after appended more
// entries were written: one DELETE per so many requests, never one per
// request, and never a scan of the entries kept.
func (j *journal) prune(ctx context.Context, tenant string, appended int) error {
	now := j.now()
	ps := j.prunes[tenant]
	if ps == nil {
		ps = &pruneState{}
		j.prunes[tenant] = ps
	}
	ps.appended += appended
	due := ps.last.IsZero() || ps.appended >= max(1, j.size/10) || j.maxAge > 0 && now.Sub(ps.last) >= j.maxAge/10
	if !due {
		return nil
	}
	if _, err := j.js.PruneJournal(ctx, tenant, j.size, j.oldest(now)); err != nil {
		return err
	}
	ps.appended, ps.last = 0, now
	return nil
}

// oldest is the time before which entries are too old to keep, the zero
// time when their age is not limited.
func (j *journal) oldest(now time.Time) time.Time {
	if j.maxAge <= 0 {
		return time.Time{}
	}
	return now.Add(-j.maxAge)
}

// Journal returns the tenant's most recent requests, newest first:
// Config.JournalSize of them at most, none older than
// Config.JournalMaxAge. When the store implements store.JournalStore, the
// journal is the store's, shared by every Handler over it and kept across
// restarts: it shows the requests every instance served (another
// instance's within a fraction of a second, when it writes its buffer)
// and this Handler's at once. Otherwise it is this Handler's own, kept in
// memory. It returns the store's error, if any.
func (h *Handler) Journal(ctx context.Context, tenant string) ([]JournalEntry, error) {
	j := h.journal
	if j.size <= 0 {
		return []JournalEntry{}, nil
	}
	oldest := j.oldest(j.now())
	if j.js != nil {
		// This Handler's own requests first, whatever becomes of the
		// caller's context: a failure is logged, and the read below
		// reports a store that is down.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), journalFlushTimeout)
		_ = j.flush(fctx)
		cancel()
		list, err := j.js.Journal(ctx, tenant, j.size)
		if err != nil {
			return nil, err
		}
		return slices.DeleteFunc(list, func(e JournalEntry) bool { return e.Time.Before(oldest) }), nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	out := []JournalEntry{}
	rg := j.tenants[tenant]
	if rg == nil {
		return out, nil
	}
	n := rg.next
	if rg.full {
		n = j.size
	}
	for i := 1; i <= n; i++ {
		if e := rg.entries[(rg.next-i+j.size)%j.size]; !e.Time.Before(oldest) {
			out = append(out, e)
		}
	}
	return out, nil
}

// Close writes the journal entries this Handler still holds to the store,
// waiting for them until ctx ends, and returns the store's error, if any.
// Call it at shutdown, after the server stopped serving requests (see
// http.Server.Shutdown): the Handler keeps a fraction of a second of
// requests in memory before writing them. The Handler remains usable;
// what it serves after Close is written as before. A Handler whose store
// does not implement store.JournalStore has nothing to write.
func (h *Handler) Close(ctx context.Context) error {
	if h.journal.js == nil {
		return nil
	}
	return h.journal.flush(ctx)
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
