package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scimkit/scim/internal/jsoncheck"
	"github.com/scimkit/scim/internal/jsonenc"
	"github.com/scimkit/scim/internal/schema"
	"github.com/scimkit/scim/store"
)

const contentType = "application/scim+json"

// renderUser returns the SCIM representation of u. groups is nil when the
// caller did not load them.
func (h *Handler) renderUser(r *request, u *store.User, groups []store.GroupRef) map[string]any {
	doc := make(map[string]any, len(u.Attributes)+4)
	for k, v := range u.Attributes {
		doc[k] = v
	}
	return h.renderUserInto(r, doc, u, groups)
}

// renderUserOwned is renderUser for a caller that no longer needs
// u.Attributes, which becomes the document (saving a copy of the map).
func (h *Handler) renderUserOwned(r *request, u *store.User, groups []store.GroupRef) map[string]any {
	doc := u.Attributes
	if doc == nil {
		doc = make(map[string]any, 4)
	}
	u.Attributes = nil
	return h.renderUserInto(r, doc, u, groups)
}

func (h *Handler) renderUserInto(r *request, doc map[string]any, u *store.User, groups []store.GroupRef) map[string]any {
	doc["id"] = u.ID
	h.policy.render(doc, u)
	doc["schemas"] = h.schemaList(h.users, doc)
	doc["meta"] = h.meta(r, "User", "/Users/", u.ID, u.Meta)
	if len(groups) > 0 {
		list := make([]any, len(groups))
		for i, g := range groups {
			list[i] = map[string]any{
				"value":   g.ID,
				"display": g.DisplayName,
				"$ref":    r.base + "/Groups/" + url.PathEscape(g.ID),
				"type":    "direct",
			}
		}
		doc["groups"] = list
	}
	return doc
}

// renderGroup returns the SCIM representation of g; members are included
// when g.Members was loaded.
func (h *Handler) renderGroup(r *request, g *store.Group, proj projection) map[string]any {
	doc := make(map[string]any, len(g.Attributes)+4)
	for k, v := range g.Attributes {
		doc[k] = v
	}
	doc["id"] = g.ID
	doc["schemas"] = h.schemaList(h.groups, doc)
	doc["meta"] = h.meta(r, "Group", "/Groups/", g.ID, g.Meta)
	switch {
	case g.Members == nil:
	case proj.namesSub("members"):
		// The projection picks sub-attributes of members: maps it can trim.
		list := make([]any, len(g.Members))
		for i, m := range g.Members {
			e := map[string]any{
				"value": m.Value,
				"$ref":  r.base + "/Users/" + url.PathEscape(m.Value),
				"type":  "User",
			}
			if m.Display != "" {
				e["display"] = m.Display
			}
			list[i] = e
		}
		doc["members"] = list
	default:
		doc["members"] = memberRefs{base: r.base, members: g.Members}
	}
	return doc
}

// memberRefs is a group's members list as rendered, encoded straight to
// JSON: the bytes json.Marshal writes for the list of maps renderGroup
// builds when a projection needs them, without a map per member to build,
// sort and encode (a 100,000-member group was 100,000 of them).
type memberRefs struct {
	base    string
	members []store.Member
}

// AppendJSON implements jsonenc.Appender.
func (m memberRefs) AppendJSON(b []byte) ([]byte, error) {
	// Every $ref starts with the same text, escaped once here; and the
	// list's length is known but for escapes, so b grows once rather than
	// at every doubling (20,000 members are 2.6 MB).
	var prefixArr [128]byte
	refPrefix := jsonenc.AppendConcat(prefixArr[:0], m.base, "/Users/")
	refPrefix = refPrefix[:len(refPrefix)-1] // up to the closing quote
	need := len("[]")
	for _, mem := range m.members {
		need += len(`{"$ref":"","type":"User","value":""},`) + len(refPrefix) + 2*len(mem.Value)
		if mem.Display != "" {
			need += len(`,"display":""`) + len(mem.Display)
		}
	}
	b = slices.Grow(b, need)
	b = append(b, '[')
	for i, mem := range m.members {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"$ref":`...)
		b = append(b, refPrefix...)
		b = jsonenc.AppendEscaped(b, url.PathEscape(mem.Value))
		b = append(b, '"')
		if mem.Display != "" {
			b = append(b, `,"display":`...)
			b = jsonenc.AppendString(b, mem.Display)
		}
		b = append(b, `,"type":"User","value":`...)
		b = jsonenc.AppendString(b, mem.Value)
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// MarshalJSON implements json.Marshaler, for encoders other than jsonenc.
func (m memberRefs) MarshalJSON() ([]byte, error) { return m.AppendJSON(nil) }

// schemaList lists the core schema and the extensions the resource uses.
func (h *Handler) schemaList(rt *schema.ResourceType, attrs store.Attributes) []string {
	return h.schemaListFunc(rt, func(urn string) bool {
		_, ok := attrs[urn]
		return ok
	})
}

// schemaListFunc is schemaList for a resource that has the attribute urn
// when has(urn).
func (h *Handler) schemaListFunc(rt *schema.ResourceType, has func(urn string) bool) []string {
	out := []string{rt.Core.ID}
	for _, e := range rt.Extensions {
		if has(e.Schema.ID) {
			out = append(out, e.Schema.ID)
		}
	}
	return out
}

func (h *Handler) meta(r *request, kind, endpoint, id string, m store.Meta) map[string]any {
	return map[string]any{
		"resourceType": kind,
		"created":      m.Created.UTC().Format(time.RFC3339Nano),
		"lastModified": m.LastModified.UTC().Format(time.RFC3339Nano),
		"location":     r.base + endpoint + url.PathEscape(id),
		"version":      etag(m.Version),
	}
}

// etag is the entity tag of a resource version.
func etag(v int64) string { return `W/"` + strconv.FormatInt(v, 10) + `"` }

// checkIfMatch enforces an If-Match header against the stored version.
func checkIfMatch(r *request, kind, id string, version int64) error {
	im := r.Header.Get("If-Match")
	if im == "" || etagMatches(im, version) {
		return nil
	}
	return &Error{Status: http.StatusPreconditionFailed,
		Detail: kind + " " + id + " has version " + etag(version) + ", not " + im}
}

// notModified reports whether an If-None-Match header matches the version.
func notModified(r *request, version int64) bool {
	inm := r.Header.Get("If-None-Match")
	return inm != "" && etagMatches(inm, version)
}

// etagMatches reports whether a list of entity tags (If-Match,
// If-None-Match) names the version; weak and strong forms both match.
func etagMatches(list string, version int64) bool {
	current := etag(version)
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || t == current || "W/"+t == current {
			return true
		}
	}
	return false
}

// plainUser is renderUser for a write's answer: without a projection, but
// honouring the returned characteristic of the app's attributes.
func (h *Handler) plainUser(r *request, u *store.User, groups []store.GroupRef) map[string]any {
	return parseProjection(h.users, nil, nil).apply(h.renderUser(r, u, groups))
}

// plainGroup is plainUser for a group, members included when loaded.
func (h *Handler) plainGroup(r *request, g *store.Group) map[string]any {
	proj := parseProjection(h.groups, nil, nil)
	return proj.apply(h.renderGroup(r, g, proj))
}

// projection is the attributes / excludedAttributes selection of a request,
// with the paths of the app's attributes that are not returned by default
// (see schema.ResourceType.Never and OnRequest).
type projection struct {
	include []store.Path // nil: default set
	exclude []store.Path

	never, onRequest, always []store.Path
}

// parseProjection resolves the attributes and excludedAttributes lists.
// Unknown names are ignored, as RFC 7644 §3.4.2.5 lets a server do.
func parseProjection(rt *schema.ResourceType, attributes, excluded []string) projection {
	p := projection{never: rt.Never, onRequest: rt.OnRequest, always: rt.Always}
	resolve := func(list []string) []store.Path {
		var out []store.Path
		for _, item := range list {
			for _, name := range strings.Split(item, ",") {
				name = stripValueFilter(strings.TrimSpace(name))
				if name == "" {
					continue
				}
				if res, err := rt.Resolve(name); err == nil {
					out = append(out, res.Path)
				} else if urn, ok := rt.IsSchemaURN(name); ok {
					out = append(out, store.Path{Name: urn})
				}
			}
		}
		return out
	}
	if len(attributes) > 0 {
		p.include = resolve(attributes)
		if p.include == nil {
			p.include = []store.Path{}
		}
	}
	p.exclude = resolve(excluded)
	return p
}

// stripValueFilter drops a value filter from an attribute name:
// "emails[type eq \"work\"].value" → "emails.value". RFC 7644 §3.10 has no
// filters in attributes, but clients send them; the attribute is returned
// whole.
func stripValueFilter(name string) string {
	open := strings.IndexByte(name, '[')
	if open < 0 {
		return name
	}
	end := strings.LastIndexByte(name, ']')
	if end < open {
		return name[:open]
	}
	return name[:open] + name[end+1:]
}

// wants reports whether the top-level core attribute name is returned.
func (p projection) wants(name string) bool {
	if p.include != nil {
		for _, q := range p.include {
			if q.URN == "" && q.Name == name {
				return true
			}
		}
		return false
	}
	for _, q := range p.exclude {
		if q.URN == "" && q.Name == name && q.Sub == "" {
			return false
		}
	}
	return true
}

// whole reports that the projection returns every stored attribute (no
// attributes, no excludedAttributes, no attribute of the app's that is
// returned only on request or never).
func (p projection) whole() bool {
	return p.include == nil && p.exclude == nil && p.never == nil && p.onRequest == nil
}

// namesSub reports whether the projection names a sub-attribute of the
// top-level core attribute name (members.display, say).
func (p projection) namesSub(name string) bool {
	for _, list := range [][]store.Path{p.include, p.exclude} {
		for _, q := range list {
			if q.URN == "" && q.Name == name && q.Sub != "" {
				return true
			}
		}
	}
	return false
}

// apply trims a rendered resource to the projection. id and schemas are
// always returned (RFC 7643 §7, returned "always").
func (p projection) apply(doc map[string]any) map[string]any {
	if p.include != nil {
		out := map[string]any{"id": doc["id"], "schemas": doc["schemas"]}
		for _, list := range [][]store.Path{p.include, p.always} {
			for _, q := range list {
				copyPath(out, doc, q)
			}
		}
		for _, q := range p.never {
			removePath(out, q)
		}
		return out
	}
	for _, q := range p.exclude {
		if q.URN == "" && (q.Name == "id" || q.Name == "schemas") || p.returnsAlways(q) {
			continue
		}
		removePath(doc, q)
	}
	for _, list := range [][]store.Path{p.never, p.onRequest} {
		for _, q := range list {
			removePath(doc, q)
		}
	}
	return doc
}

// returnsAlways reports whether excluding q would remove an attribute
// returned "always": q is one, or holds one.
func (p projection) returnsAlways(q store.Path) bool {
	for _, a := range p.always {
		if a == q || (q.Sub == "" && a.URN == q.URN && a.Name == q.Name) ||
			(q.URN == "" && q.Sub == "" && a.URN == q.Name) {
			return true
		}
	}
	return false
}

// container returns the map holding q's attribute: doc itself, or the
// extension map under q.URN.
func container(doc map[string]any, q store.Path) (map[string]any, bool) {
	if q.URN == "" {
		return doc, true
	}
	m, ok := doc[q.URN].(map[string]any)
	return m, ok
}

func copyPath(dst, src map[string]any, q store.Path) {
	from, ok := container(src, q)
	if !ok {
		return
	}
	if q.URN == "" && q.Sub == "" {
		if v, ok := from[q.Name]; ok {
			// A path naming an extension URN copies the whole extension.
			dst[q.Name] = v
		}
		return
	}
	to := dst
	if q.URN != "" {
		m, ok := dst[q.URN].(map[string]any)
		if !ok {
			m = map[string]any{}
			dst[q.URN] = m
		}
		to = m
	}
	v, ok := from[q.Name]
	if !ok {
		return
	}
	if q.Sub == "" {
		to[q.Name] = v
		return
	}
	switch v := v.(type) {
	case map[string]any:
		if sv, ok := v[q.Sub]; ok {
			m, _ := to[q.Name].(map[string]any)
			if m == nil {
				m = map[string]any{}
			}
			m[q.Sub] = sv
			to[q.Name] = m
		}
	case []any:
		// Keep the selected sub-attribute of every element; merge with
		// sub-attributes already copied.
		prev, _ := to[q.Name].([]any)
		out := make([]any, len(v))
		for i, el := range v {
			m := map[string]any{}
			if i < len(prev) {
				if pm, ok := prev[i].(map[string]any); ok {
					m = pm
				}
			}
			if em, ok := el.(map[string]any); ok {
				if sv, ok := em[q.Sub]; ok {
					m[q.Sub] = sv
				}
			}
			out[i] = m
		}
		to[q.Name] = out
	}
}

func removePath(doc map[string]any, q store.Path) {
	if q.URN == "" && q.Sub == "" {
		delete(doc, q.Name)
		return
	}
	from, ok := container(doc, q)
	if !ok {
		return
	}
	if q.URN != "" {
		if _, has := from[q.Name]; !has {
			return
		}
		// The extension's map may be the stored user's: change a copy.
		from = maps.Clone(from)
		doc[q.URN] = from
	}
	if q.Sub == "" {
		delete(from, q.Name)
		if q.URN != "" && len(from) == 0 {
			delete(doc, q.URN)
		}
		return
	}
	switch v := from[q.Name].(type) {
	case map[string]any:
		c := make(map[string]any, len(v))
		for k, x := range v {
			if k != q.Sub {
				c[k] = x
			}
		}
		from[q.Name] = c
	case []any:
		out := make([]any, len(v))
		for i, el := range v {
			if em, ok := el.(map[string]any); ok {
				c := make(map[string]any, len(em))
				for k, x := range em {
					if k != q.Sub {
						c[k] = x
					}
				}
				out[i] = c
			} else {
				out[i] = el
			}
		}
		from[q.Name] = out
	}
}

// writeJSON writes v as a SCIM response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	// The encoding is written from a pooled buffer, not copied out of it.
	err := jsonenc.Use(v, func(b []byte) { writeBody(w, status, b) })
	if err != nil {
		// Values come from decoded JSON and our own types; this would be
		// a bug, never client input. Nothing was written.
		writeError(w, errInternal)
	}
}

// writeBody writes b, a SCIM JSON document, as the response.
func writeBody(w http.ResponseWriter, status int, b []byte) {
	// One allocation for both values, where Header.Set makes one each.
	// (Both keys are in canonical form.)
	v := []string{contentType, strconv.Itoa(len(b))}
	h := w.Header()
	h["Content-Type"], h["Content-Length"] = v[0:1:1], v[1:2:2]
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError writes a SCIM error response.
func writeError(w http.ResponseWriter, e *Error) {
	if sw, ok := w.(*statusWriter); ok {
		sw.detail, sw.scimType = e.Detail, e.ScimType
	}
	body := map[string]any{
		"schemas": []string{schema.ErrorURN},
		"status":  strconv.Itoa(e.Status),
		"detail":  e.Detail,
	}
	if e.ScimType != "" {
		body["scimType"] = e.ScimType
	}
	if e.Status == http.StatusServiceUnavailable || e.Status == http.StatusTooManyRequests {
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", "5")
		}
	}
	b, _ := encodeJSON(body)
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(e.Status)
	_, _ = w.Write(b)
}

// fail answers err: a SCIM error as it is, a store error through the one
// mapping table, anything else as an internal error that is logged.
func (h *Handler) fail(w http.ResponseWriter, r *request, err error, kind, id string) {
	e, internal := toSCIM(err, kind, id)
	if internal {
		h.log.ErrorContext(r.Context(), "scim: request failed", "method", r.Method, "path", r.URL.Path,
			"tenant", r.principal.Tenant, "err", err)
	}
	writeError(w, e)
}

// readBody reads the request body within the configured limit, and
// refuses a JSON text that readers could take differently (see
// checkJSON).
func readBody(r *request) ([]byte, error) {
	b, err := readRawBody(r)
	if err != nil {
		return nil, err
	}
	return b, checkJSON(b, false)
}

// readRawBody reads the request body within the configured limit.
func readRawBody(r *request) ([]byte, error) {
	if r.bodyR == nil {
		return nil, &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidSyntax, Detail: "request body is empty"}
	}
	if r.bodyRead {
		return r.body, nil
	}
	b, err := io.ReadAll(r.bodyR)
	r.body = b
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &Error{Status: http.StatusRequestEntityTooLarge,
				Detail: "request body exceeds " + strconv.FormatInt(mbe.Limit, 10) + " bytes"}
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, &Error{Status: http.StatusRequestTimeout, Detail: "the request body did not arrive within the request's time limit"}
		}
		return nil, &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidSyntax, Detail: "could not read request body"}
	}
	r.bodyRead = true
	return b, nil
}

// checkJSON refuses, before anything decodes b, what would let two JSON
// readers (a WAF and scimkit, say) see different values: a member name
// given twice in one object (ignoring case, as SCIM attribute names are
// compared), bytes that are not UTF-8 and escaped lone surrogates, all
// 400 invalidSyntax; and, unless allowNUL, the character NUL in a string,
// which no SQL store can keep as text: 400 invalidValue. One pass over
// the bytes.
func checkJSON(b []byte, allowNUL bool) error {
	p := jsoncheck.Check(b)
	at := " at byte " + strconv.Itoa(p.Offset)
	switch p.Kind {
	case jsoncheck.DuplicateKey:
		return &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidSyntax,
			Detail: "request body has the member " + strconv.Quote(truncate(p.Key, 64)) + " twice in one object (names are case-insensitive)" + at}
	case jsoncheck.InvalidUTF8:
		return &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidSyntax,
			Detail: "request body is not valid UTF-8" + at}
	case jsoncheck.LoneSurrogate:
		return &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidSyntax,
			Detail: "request body has an escaped lone UTF-16 surrogate" + at}
	case jsoncheck.NUL:
		if !allowNUL {
			return &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidValue,
				Detail: "request body has the NUL character (\\u0000) in a string" + at}
		}
	}
	return nil
}

// truncate shortens s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// decodeObject reads the body as one JSON object, numbers kept exact.
func decodeObject(r *request) (map[string]any, error) {
	b, err := readBody(r)
	if err != nil {
		return nil, err
	}
	return parseObject(b)
}

func parseObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if err == io.EOF {
			return nil, &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidSyntax, Detail: "request body is empty"}
		}
		return nil, &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidSyntax, Detail: "request body is not valid JSON: " + jsonErrorDetail(err)}
	}
	if dec.More() {
		return nil, &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidSyntax, Detail: "request body has data after the JSON object"}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidSyntax, Detail: "request body must be a JSON object"}
	}
	return m, nil
}

// jsonErrorDetail describes a JSON syntax error without echoing input.
func jsonErrorDetail(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return "syntax error at byte " + strconv.FormatInt(se.Offset, 10)
	}
	return "malformed JSON"
}
