package scim

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/scimkit/scim/internal/schema"
)

// discovery answers /ServiceProviderConfig, /ResourceTypes and /Schemas
// (RFC 7644 §4) truthfully: what the handler supports, nothing more.
type discovery struct {
	h     *Handler
	types []*schema.ResourceType
	all   []*schema.Schema
}

func newDiscovery(h *Handler) (discovery, error) {
	d := discovery{h: h, types: []*schema.ResourceType{h.users, h.groups}}
	seen := map[string]bool{}
	for _, rt := range d.types {
		for _, s := range rt.Schemas() {
			if !seen[s.ID] {
				seen[s.ID] = true
				d.all = append(d.all, s)
			}
		}
	}
	return d, nil
}

func (d discovery) serviceProviderConfig(w http.ResponseWriter, r *request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas":          []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
		"documentationUri": "https://pkg.go.dev/github.com/scimkit/scim",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": d.h.cfg.Limits.MaxPageSize},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": true},
		"etag":             map[string]any{"supported": true},
		"authenticationSchemes": []any{map[string]any{
			"type":        "oauthbearertoken",
			"name":        "OAuth Bearer Token",
			"description": "Authentication with a bearer token issued by the application.",
			"primary":     true,
		}},
		"meta": map[string]any{
			"resourceType": "ServiceProviderConfig",
			"location":     r.base + "/ServiceProviderConfig",
		},
	})
}

func (d discovery) resourceType(r *request, rt *schema.ResourceType) map[string]any {
	exts := make([]any, 0, len(rt.Extensions))
	for _, e := range rt.Extensions {
		exts = append(exts, map[string]any{"schema": e.Schema.ID, "required": e.Required})
	}
	doc := map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"},
		"id":          rt.Name,
		"name":        rt.Name,
		"endpoint":    rt.Endpoint,
		"description": rt.Description,
		"schema":      rt.Core.ID,
		"meta": map[string]any{
			"resourceType": "ResourceType",
			"location":     r.base + "/ResourceTypes/" + rt.Name,
		},
	}
	if len(exts) > 0 {
		doc["schemaExtensions"] = exts
	}
	return doc
}

func (d discovery) resourceTypes(w http.ResponseWriter, r *request, name string) {
	if name != "" {
		for _, rt := range d.types {
			if strings.EqualFold(rt.Name, name) {
				writeJSON(w, http.StatusOK, d.resourceType(r, rt))
				return
			}
		}
		writeError(w, &Error{Status: http.StatusNotFound, Detail: "resource type " + name + " not found"})
		return
	}
	list := make([]any, len(d.types))
	for i, rt := range d.types {
		list[i] = d.resourceType(r, rt)
	}
	writeJSON(w, http.StatusOK, listResponse(list, len(list), 1))
}

func (d discovery) schema(r *request, s *schema.Schema) map[string]any {
	return map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Schema"},
		"id":          s.ID,
		"name":        s.Name,
		"description": s.Description,
		"attributes":  s.Attributes,
		"meta": map[string]any{
			"resourceType": "Schema",
			"location":     r.base + "/Schemas/" + s.ID,
		},
	}
}

func (d discovery) schemas(w http.ResponseWriter, r *request, id string) {
	if id != "" {
		if u, err := url.PathUnescape(id); err == nil {
			id = u
		}
		for _, s := range d.all {
			if strings.EqualFold(s.ID, id) {
				writeJSON(w, http.StatusOK, d.schema(r, s))
				return
			}
		}
		writeError(w, &Error{Status: http.StatusNotFound, Detail: "schema " + id + " not found"})
		return
	}
	list := make([]any, len(d.all))
	for i, s := range d.all {
		list[i] = d.schema(r, s)
	}
	writeJSON(w, http.StatusOK, listResponse(list, len(list), 1))
}

// listResponse wraps resources in a ListResponse (RFC 7644 §3.4.2).
func listResponse(resources []any, total, startIndex int) map[string]any {
	if resources == nil {
		resources = []any{}
	}
	return map[string]any{
		"schemas":      []string{schema.ListURN},
		"totalResults": total,
		"startIndex":   startIndex,
		"itemsPerPage": len(resources),
		"Resources":    resources,
	}
}
