package main

import (
	"net/http"
	"strings"
	"sync"
	"time"

	elimity "github.com/elimity-com/scim"
	elerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	elschema "github.com/elimity-com/scim/schema"
)

// naiveHandler is the SCIM server a team writes in an afternoon on
// github.com/elimity-com/scim: resources in a Go map, filters answered by
// scanning every resource with elimity's filter validator, userName
// uniqueness checked by scanning, PATCH applied by elimity's ApplyPatch to
// the whole resource (a group's members included). It is what -target naive
// runs, to compare scimkit with.
type naiveHandler struct {
	schema     elschema.Schema
	extensions []elschema.Schema
	unique     string // attribute checked for uniqueness by scanning

	mu    sync.RWMutex
	res   map[string]elimity.ResourceAttributes
	meta  map[string]elimity.Meta
	order []string
}

func newNaive() (http.Handler, error) {
	users := &naiveHandler{schema: elschema.CoreUserSchema(), extensions: []elschema.Schema{elschema.ExtensionEnterpriseUser()}, unique: "userName",
		res: map[string]elimity.ResourceAttributes{}, meta: map[string]elimity.Meta{}}
	groups := &naiveHandler{schema: elschema.CoreGroupSchema(), unique: "displayName",
		res: map[string]elimity.ResourceAttributes{}, meta: map[string]elimity.Meta{}}
	srv, err := elimity.NewServer(&elimity.ServerArgs{
		ServiceProviderConfig: &elimity.ServiceProviderConfig{SupportFiltering: true, SupportPatch: true, MaxResults: 100},
		ResourceTypes: []elimity.ResourceType{
			{ID: optional.NewString("User"), Name: "User", Endpoint: "/Users", Schema: users.schema,
				SchemaExtensions: []elimity.SchemaExtension{{Schema: elschema.ExtensionEnterpriseUser()}}, Handler: users},
			{ID: optional.NewString("Group"), Name: "Group", Endpoint: "/Groups", Schema: groups.schema, Handler: groups},
		},
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", srv))
	return mux, nil
}

func (h *naiveHandler) resource(id string) elimity.Resource {
	attrs := make(elimity.ResourceAttributes, len(h.res[id]))
	for k, v := range h.res[id] {
		attrs[k] = v
	}
	ext := optional.String{}
	if s, ok := attrs["externalId"].(string); ok {
		ext = optional.NewString(s)
	}
	return elimity.Resource{ID: id, ExternalID: ext, Attributes: attrs, Meta: h.meta[id]}
}

func (h *naiveHandler) Create(r *http.Request, attrs elimity.ResourceAttributes) (elimity.Resource, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	name, _ := attrs[h.unique].(string)
	for _, other := range h.res {
		if v, _ := other[h.unique].(string); strings.EqualFold(v, name) {
			return elimity.Resource{}, elerrors.ScimErrorUniqueness
		}
	}
	id := newID()
	now := time.Now()
	h.res[id] = attrs
	h.meta[id] = elimity.Meta{Created: &now, LastModified: &now, Version: "1"}
	h.order = append(h.order, id)
	return h.resource(id), nil
}

func (h *naiveHandler) Get(r *http.Request, id string) (elimity.Resource, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if _, ok := h.res[id]; !ok {
		return elimity.Resource{}, elerrors.ScimErrorResourceNotFound(id)
	}
	return h.resource(id), nil
}

func (h *naiveHandler) GetAll(r *http.Request, params elimity.ListRequestParams) (elimity.Page, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var page elimity.Page
	for _, id := range h.order {
		if params.FilterValidator != nil && params.FilterValidator.PassesFilter(h.res[id]) != nil {
			continue
		}
		page.TotalResults++
		if page.TotalResults >= params.StartIndex && len(page.Resources) < params.Count {
			page.Resources = append(page.Resources, h.resource(id))
		}
	}
	return page, nil
}

func (h *naiveHandler) Replace(r *http.Request, id string, attrs elimity.ResourceAttributes) (elimity.Resource, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.res[id]; !ok {
		return elimity.Resource{}, elerrors.ScimErrorResourceNotFound(id)
	}
	h.res[id] = attrs
	return h.resource(id), nil
}

func (h *naiveHandler) Delete(r *http.Request, id string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.res[id]; !ok {
		return elerrors.ScimErrorResourceNotFound(id)
	}
	delete(h.res, id)
	delete(h.meta, id)
	for i, o := range h.order {
		if o == id {
			h.order = append(h.order[:i], h.order[i+1:]...)
			break
		}
	}
	return nil
}

func (h *naiveHandler) Patch(r *http.Request, id string, ops []elimity.PatchOperation) (elimity.Resource, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	cur, ok := h.res[id]
	if !ok {
		return elimity.Resource{}, elerrors.ScimErrorResourceNotFound(id)
	}
	next, err := elimity.ApplyPatch(cur, ops, h.schema, h.extensions...)
	if err != nil {
		return elimity.Resource{}, err
	}
	h.res[id] = next
	return h.resource(id), nil
}
