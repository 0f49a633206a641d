package scim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/scimkit/scim/internal/filter"
	"github.com/scimkit/scim/internal/jsonenc"
	"github.com/scimkit/scim/internal/schema"
	"github.com/scimkit/scim/store"
)

// listParams are the query parameters of a list or search request
// (RFC 7644 §3.4.2), as sent.
type listParams struct {
	filter, sortBy, sortOrder string
	startIndex, count         string
	attributes, excluded      []string
}

func queryParams(q url.Values) listParams {
	// Parameter names are matched case-insensitively; unknown ones are
	// ignored.
	var p listParams
	for k, vs := range q {
		if len(vs) == 0 {
			continue
		}
		v := vs[0]
		switch strings.ToLower(k) {
		case "filter":
			p.filter = v
		case "sortby":
			p.sortBy = v
		case "sortorder":
			p.sortOrder = v
		case "startindex":
			p.startIndex = v
		case "count":
			p.count = v
		case "attributes":
			p.attributes = vs
		case "excludedattributes":
			p.excluded = vs
		}
	}
	return p
}

// search answers POST /Users/.search and /Groups/.search (RFC 7644 §3.4.3).
func (h *Handler) search(w http.ResponseWriter, r *request, rt *schema.ResourceType) {
	p, err := searchParams(r)
	if err != nil {
		h.fail(w, r, err, rt.Name, "")
		return
	}
	h.list(w, r, rt, p)
}

// searchParams reads the body of a POST …/.search: the query parameters
// as JSON, type-checked, then read as a query string is read.
func searchParams(r *request) (listParams, error) {
	// A NUL is left to the filter parser, which refuses it as
	// invalidFilter as it does in a query string.
	raw, err := readRawBody(r)
	if err == nil {
		err = checkJSON(raw, true)
	}
	var body map[string]any
	if err == nil {
		body, err = parseObject(raw)
	}
	if err != nil {
		return listParams{}, err
	}
	q := url.Values{}
	for k, v := range body {
		var vs []string
		switch strings.ToLower(k) {
		case "attributes", "excludedattributes":
			vs, err = stringsParam(k, v)
		case "filter", "sortby", "sortorder", "startindex", "count":
			var one string
			one, err = stringParam(k, v)
			vs = []string{one}
		default:
			continue
		}
		if err != nil {
			return listParams{}, err
		}
		q[k] = vs
	}
	return queryParams(q), nil
}

// searchRoot answers POST /.search (RFC 7644 §3.4.3): a query of every
// resource type at once, answered with one ListResponse.
//
// The combined result is every matching User, then every matching Group,
// each in its endpoint's order (sortBy, when the attribute is one of that
// type's; else the store's stable order); startIndex and count page through
// that sequence, and totalResults adds both totals. A filter or sortBy
// naming an attribute only one type has applies to that type: the other
// type matches nothing (filter) or keeps its own order (sortBy); one that
// names no attribute of either (a sortBy none of the types the filter can
// match can sort by) is 400. attributes and excludedAttributes
// apply to each type as on its endpoint; each resource says its type in
// meta.resourceType.
func (h *Handler) searchRoot(w http.ResponseWriter, r *request) {
	p, err := searchParams(r)
	if err != nil {
		h.fail(w, r, err, "", "")
		return
	}
	type part struct {
		rt   *schema.ResourceType
		q    store.Query
		proj projection
	}
	var parts []part
	var filterErr, sortErr error
	sorted := false
	for _, rt := range []*schema.ResourceType{h.users, h.groups} {
		q, _, err := h.buildQuery(rt, p)
		if err != nil && p.sortBy != "" {
			unsorted := p
			unsorted.sortBy = ""
			if uq, _, uerr := h.buildQuery(rt, unsorted); uerr == nil {
				// sortBy names an attribute this type cannot sort by:
				// it keeps its own order.
				q, sortErr, err = uq, err, nil
			}
		} else if err == nil {
			sorted = true
		}
		if err != nil {
			// The filter names an attribute this type lacks (or the
			// request is bad for every type: then none is left).
			filterErr = err
			continue
		}
		parts = append(parts, part{rt: rt, q: q, proj: parseProjection(rt, p.attributes, p.excluded)})
	}
	switch {
	case len(parts) == 0:
		h.fail(w, r, filterErr, "", "")
		return
	case p.sortBy != "" && !sorted:
		h.fail(w, r, sortErr, "", "")
		return
	}
	start := parts[0].q.Offset + 1
	var resources []any
	total := 0
	err = h.view(r, func(ctx context.Context, tx store.Reader) error {
		resources, total = nil, 0
		offset, limit := parts[0].q.Offset, parts[0].q.Limit
		for _, pt := range parts {
			q := pt.q
			q.Offset, q.Limit = offset, limit
			page, n, err := h.listPage(ctx, tx, r, pt.rt, q, pt.proj)
			if err != nil {
				return err
			}
			resources = append(resources, page...)
			total += n
			offset = max(0, offset-n)
			limit -= len(page)
		}
		return nil
	})
	if err != nil {
		h.fail(w, r, err, "", "")
		return
	}
	writeList(w, resources, total, start)
}

func stringParam(name string, v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	}
	return "", &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidValue, Detail: name + " must be a string"}
}

func stringsParam(name string, v any) ([]string, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidValue, Detail: name + " must be a list of strings"}
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidValue, Detail: name + " must be a list of strings"}
}

// parseIndex parses startIndex or count: an integer, or def when absent.
func parseIndex(name, s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		if f, ferr := strconv.ParseFloat(strings.TrimSpace(s), 64); ferr == nil && f == float64(int(f)) {
			return int(f), nil
		}
		return 0, &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidValue, Detail: name + " must be an integer"}
	}
	return n, nil
}

// buildQuery turns list parameters into a store query.
func (h *Handler) buildQuery(rt *schema.ResourceType, p listParams) (store.Query, int, error) {
	var q store.Query
	start, err := parseIndex("startIndex", p.startIndex, 1)
	if err != nil {
		return q, 0, err
	}
	if start < 1 {
		start = 1 // RFC 7644 §3.4.2.4: less than 1 is interpreted as 1
	}
	count, err := parseIndex("count", p.count, h.cfg.Limits.MaxPageSize)
	if err != nil {
		return q, 0, err
	}
	count = max(0, min(count, h.cfg.Limits.MaxPageSize))
	q.Offset, q.Limit = start-1, count

	if strings.TrimSpace(p.filter) != "" {
		lim := filter.Limits{MaxLength: h.cfg.Limits.MaxFilterLength, MaxDepth: h.cfg.Limits.MaxFilterDepth}
		if q.Filter, err = lim.Parse(rt, p.filter); err != nil {
			return q, 0, err
		}
	}
	if p.sortBy != "" {
		res, err := rt.Resolve(strings.TrimSpace(p.sortBy))
		if err != nil || (res.Target().Type == schema.Complex && !res.Target().MultiValued) {
			return q, 0, &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidValue,
				Detail: fmt.Sprintf("cannot sort by %q", p.sortBy)}
		}
		q.SortBy = res.Path
		if res.Attr.Type == schema.Complex && res.Path.Sub == "" && res.Attr.HasSub("value") {
			q.SortBy.Sub = "value"
		}
	}
	switch strings.ToLower(p.sortOrder) {
	case "", "ascending":
	case "descending":
		q.Descending = true
	default:
		return q, 0, &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidValue,
			Detail: "sortOrder must be ascending or descending"}
	}
	return q, start, nil
}

// list answers GET /Users and /Groups with a ListResponse.
func (h *Handler) list(w http.ResponseWriter, r *request, rt *schema.ResourceType, p listParams) {
	q, start, err := h.buildQuery(rt, p)
	if err != nil {
		h.fail(w, r, err, rt.Name, "")
		return
	}
	proj := parseProjection(rt, p.attributes, p.excluded)
	var resources []any
	var total int
	err = h.view(r, func(ctx context.Context, tx store.Reader) error {
		var err error
		resources, total, err = h.listPage(ctx, tx, r, rt, q, proj)
		return err
	})
	if err != nil {
		h.fail(w, r, err, rt.Name, "")
		return
	}
	writeList(w, resources, total, start)
}

// listPage reads and renders one page of users or groups, and returns the
// total number of matches.
//
// A group list carries members (unless the projection leaves them out) up
// to Limits.MaxMembers members for the whole page: once the next group's
// would pass the budget, that group and the rest of the page are returned
// without the members attribute (GET /Groups/{id} returns them). The first
// group of a page always has its members. A page of 100 groups of
// thousands of members would otherwise cost a response of tens of
// megabytes, held in memory per request.
func (h *Handler) listPage(ctx context.Context, tx store.Reader, r *request, rt *schema.ResourceType, q store.Query, proj projection) ([]any, int, error) {
	if rt == h.users {
		q.ManagedOnly = h.cfg.Users.HideUnmanaged
		if rl, ok := powerOf[store.RawUserLister](tx); ok && proj.whole() {
			// Without a projection (Okta's import pages and lookups)
			// the stored attributes are copied, not decoded.
			page, raw, err := rl.ListRawUsers(ctx, q)
			if err != nil {
				return nil, 0, err
			}
			if len(raw) != len(page.Users) {
				return nil, 0, fmt.Errorf("scim: the store listed %d users and %d encodings", len(page.Users), len(raw))
			}
			resources := make([]any, len(page.Users))
			docs := make([]rawUserDoc, len(page.Users))
			for i := range page.Users {
				docs[i] = rawUserDoc{h: h, r: r, u: &page.Users[i], raw: raw[i]}
				resources[i] = &docs[i]
			}
			return resources, page.Total, nil
		}
		page, err := tx.ListUsers(ctx, q)
		if err != nil {
			return nil, 0, err
		}
		// groups are returned in lists only when asked for by name: a
		// page of users then costs one query, not one per user.
		withGroups := proj.include != nil && proj.wants("groups")
		resources := make([]any, 0, len(page.Users))
		for i := range page.Users {
			u := &page.Users[i]
			var groups []store.GroupRef
			if withGroups {
				if groups, err = tx.GroupsOf(ctx, u.ID); err != nil {
					return nil, 0, err
				}
			}
			resources = append(resources, proj.apply(h.renderUser(r, u, groups)))
		}
		return resources, page.Total, nil
	}
	groups, total, err := h.groupPage(ctx, tx, q, proj.wants("members"))
	if err != nil {
		return nil, 0, err
	}
	resources := make([]any, 0, len(groups))
	for i := range groups {
		resources = append(resources, proj.apply(h.renderGroup(r, &groups[i], proj)))
	}
	return resources, total, nil
}

// groupPage reads a page of groups and their total. With members, it
// reads the page in parts (10 groups, then as many as the members budget
// left covers at the mean group size seen: two queries for a page of
// small groups, never the members of a whole page of large ones) and gives
// groups their members until the page's members would pass
// Limits.MaxMembers; the first group always has them, later ones have
// Members nil, and the rest of the page is read without members.
func (h *Handler) groupPage(ctx context.Context, tx store.Reader, q store.Query, withMembers bool) ([]store.Group, int, error) {
	q.WithMembers = false
	if !withMembers || q.Limit == 0 {
		page, err := tx.ListGroups(ctx, q)
		return page.Groups, page.Total, err
	}
	budget := h.cfg.Limits.MaxMembers // -1 once spent
	groups := make([]store.Group, 0, min(q.Limit, 128))
	total, loaded := 0, 0 // loaded: members read so far
	for chunk := 10; len(groups) < q.Limit; {
		part := q
		part.Offset = q.Offset + len(groups)
		part.Limit = q.Limit - len(groups)
		if part.WithMembers = budget >= 0; part.WithMembers {
			part.Limit = min(part.Limit, chunk)
		}
		page, err := tx.ListGroups(ctx, part)
		if err != nil {
			return nil, 0, err
		}
		total = page.Total
		for _, g := range page.Groups {
			if part.WithMembers {
				loaded += len(g.Members)
				if n := len(g.Members); budget >= 0 && (n <= budget || len(groups) == 0) {
					if g.Members == nil {
						g.Members = []store.Member{}
					}
					if budget -= n; budget <= 0 {
						budget = -1 // spent
					}
				} else {
					g.Members, budget = nil, -1
				}
			}
			groups = append(groups, g)
		}
		if len(page.Groups) < part.Limit {
			break // the last matches
		}
		// The next part holds as many groups as the budget left would
		// cover at the mean size seen so far.
		mean := max(1, (loaded+len(groups)-1)/len(groups))
		chunk = max(1, budget/mean)
	}
	return groups, total, nil
}

// writeList writes a ListResponse (RFC 7644 §3.4.2), byte for byte as
// json.Marshal writes listResponse's map, encoding one resource at a time
// into a pooled buffer that goes to w whenever it holds more than
// listFlushBytes: a large page is never held in memory whole. A small one
// is written at once, with its Content-Length.
func writeList(w http.ResponseWriter, resources []any, total, start int) {
	bp := listBufs.Get().(*[]byte)
	b := append((*bp)[:0], `{"Resources":[`...)
	streaming := false
	for i, res := range resources {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = jsonenc.Append(b, res); err != nil {
			// Values come from decoded JSON and our own types: a bug,
			// never client input.
			if !streaming {
				writeError(w, errInternal)
			}
			return
		}
		if len(b) > listFlushBytes {
			if !streaming {
				w.Header().Set("Content-Type", contentType)
				w.WriteHeader(http.StatusOK)
				streaming = true
			}
			if _, err := w.Write(b); err != nil {
				return // the client went away
			}
			b = b[:0]
		}
	}
	b = append(b, `],"itemsPerPage":`...)
	b = strconv.AppendInt(b, int64(len(resources)), 10)
	b = append(b, `,"schemas":[`...)
	b = jsonenc.AppendString(b, schema.ListURN)
	b = append(b, `],"startIndex":`...)
	b = strconv.AppendInt(b, int64(start), 10)
	b = append(b, `,"totalResults":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, '}')
	if streaming {
		_, _ = w.Write(b)
	} else {
		writeBody(w, http.StatusOK, b)
	}
	if cap(b) <= 4*listFlushBytes {
		*bp = b
		listBufs.Put(bp)
	}
}

// listFlushBytes is how much of a list response writeList buffers before
// writing it out.
const listFlushBytes = 64 << 10

var listBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// view runs fn in a read view of the request's tenant.
func (h *Handler) view(r *request, fn func(ctx context.Context, tx store.Reader) error) error {
	ctx := r.Context()
	return h.viewStore(ctx, r.principal.Tenant, func(tx store.Reader) error { return fn(ctx, tx) })
}
