package scim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/scimkit/scim/internal/filter"
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
	body, err := decodeObject(r)
	if err != nil {
		h.fail(w, r, err, rt.Name, "")
		return
	}
	// The body carries the query parameters as JSON: type-check them, then
	// read them as a query string is read.
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
			h.fail(w, r, err, rt.Name, "")
			return
		}
		q[k] = vs
	}
	h.list(w, r, rt, queryParams(q))
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
	count, err := parseIndex("count", p.count, h.cfg.MaxPageSize)
	if err != nil {
		return q, 0, err
	}
	count = max(0, min(count, h.cfg.MaxPageSize))
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
	ctx := r.Context()
	err = h.store.View(ctx, r.principal.Tenant, func(tx store.Reader) error {
		resources, total = nil, 0
		if rt == h.users {
			q.ManagedOnly = h.cfg.HideUnmanaged
			if rl, ok := tx.(store.RawUserLister); ok && proj.whole() {
				// Without a projection (Okta's import pages and lookups)
				// the stored attributes are copied, not decoded.
				page, raw, err := rl.ListRawUsers(ctx, q)
				if err != nil {
					return err
				}
				if len(raw) != len(page.Users) {
					return fmt.Errorf("scim: the store listed %d users and %d encodings", len(page.Users), len(raw))
				}
				total = page.Total
				resources = make([]any, len(page.Users))
				docs := make([]rawUserDoc, len(page.Users))
				for i := range page.Users {
					docs[i] = rawUserDoc{h: h, r: r, u: &page.Users[i], raw: raw[i]}
					resources[i] = &docs[i]
				}
				return nil
			}
			page, err := tx.ListUsers(ctx, q)
			if err != nil {
				return err
			}
			total = page.Total
			// groups are returned in lists only when asked for by name: a
			// page of users then costs one query, not one per user.
			withGroups := proj.include != nil && proj.wants("groups")
			resources = make([]any, 0, len(page.Users))
			for i := range page.Users {
				u := &page.Users[i]
				var groups []store.GroupRef
				if withGroups {
					if groups, err = tx.GroupsOf(ctx, u.ID); err != nil {
						return err
					}
				}
				resources = append(resources, proj.apply(h.renderUser(r, u, groups)))
			}
			return nil
		}
		q.WithMembers = proj.wants("members")
		page, err := tx.ListGroups(ctx, q)
		if err != nil {
			return err
		}
		total = page.Total
		resources = make([]any, 0, len(page.Groups))
		for i := range page.Groups {
			resources = append(resources, proj.apply(h.renderGroup(r, &page.Groups[i], proj)))
		}
		return nil
	})
	if err != nil {
		h.fail(w, r, err, rt.Name, "")
		return
	}
	writeJSON(w, http.StatusOK, listResponse(resources, total, start))
}

// view runs fn in a read view of the request's tenant.
func (h *Handler) view(r *request, fn func(ctx context.Context, tx store.Reader) error) error {
	ctx := r.Context()
	return h.store.View(ctx, r.principal.Tenant, func(tx store.Reader) error { return fn(ctx, tx) })
}
