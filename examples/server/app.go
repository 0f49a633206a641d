package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
)

// appRoles serves GET /app/users/{id}/roles: what the demo app would let a
// user do, from its org role and the roles its groups grant
// (scim.Handler.Roles). It authenticates with the tenant's SCIM token, so
// that a newcomer (and the profile tests) can see the app's side of
// provisioning.
func appRoles(h *scim.Handler, auth scim.Authenticator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest := strings.TrimPrefix(r.URL.Path, "/app/users/")
		id, ok := strings.CutSuffix(rest, "/roles")
		if r.Method != http.MethodGet || !ok || id == "" || strings.Contains(id, "/") {
			http.NotFound(w, r)
			return
		}
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		p, err := auth.Authenticate(r.Context(), token)
		if !strings.EqualFold(scheme, "Bearer") || err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		roles, err := h.Roles(r.Context(), p.Tenant, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			http.NotFound(w, r)
			return
		case err != nil:
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		grants := []map[string]string{}
		for _, g := range roles.Grants {
			grants = append(grants, map[string]string{"project": g.Project, "team": g.Team, "role": g.Role})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"org": roles.Org, "grants": grants})
	})
}
