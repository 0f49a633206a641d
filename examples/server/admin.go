package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/admin"
	"github.com/scimkit/scim/store"
)

// adminPage returns the admin page (package admin) mounted at /admin/,
// behind the demo's stand-in for an app's own admin login: HTTP Basic
// authentication whose user name picks the tenant and whose password is
// -admin-password. The admin package never authenticates by itself.
func adminPage(h *scim.Handler, st store.Store, tokens *scim.Tokens, baseURL, password string, logger *slog.Logger) (http.Handler, error) {
	want := sha256.Sum256([]byte(password))
	tenantOf := func(r *http.Request) (string, bool) {
		user, pass, ok := r.BasicAuth()
		got := sha256.Sum256([]byte(pass))
		if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			return "", false
		}
		if user == "" {
			user = defaultTenant
		}
		return user, true
	}
	page, err := admin.New(h, st, tokens, admin.Config{
		BaseURL: baseURL,
		Tenant:  tenantOf,
		Actor:   func(*http.Request) string { return "the demo admin" },
		Logger:  logger,
		OnEvent: func(ctx context.Context, e store.Event) {
			logger.Info("admin event", "type", string(e.Type), "tenant", e.Tenant, "token", e.TokenID, "detail", e.Detail)
		},
	})
	if err != nil {
		return nil, err
	}
	inner := http.StripPrefix("/admin", page)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := tenantOf(r); !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="scimkit demo admin (user name: the tenant)", charset="UTF-8"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		inner.ServeHTTP(w, r)
	}), nil
}
