package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/admin"
	"github.com/scimkit/scim/store"
)

// adminTenants says which tenants the admin page opens: those the demo
// knows, from -token (flagged) and from its stored tokens, matched exactly
// (a database may compare without case or trailing spaces), or with
// -admin-any-tenant any name that can be a tenant.
type adminTenants struct {
	flagged map[string]bool
	stored  *scim.Tokens
	any     bool
	logger  *slog.Logger
}

func (a adminTenants) allow(r *http.Request, tenant string) bool {
	if !plausibleTenant(tenant) {
		return false
	}
	if a.any || a.flagged[tenant] {
		return true
	}
	list, err := a.stored.List(r.Context(), tenant)
	if err != nil {
		a.logger.Error("admin: list tokens", "err", err)
		return false
	}
	for _, t := range list {
		if t.Tenant == tenant {
			return true
		}
	}
	return false
}

// plausibleTenant reports whether name can be a tenant: UTF-8 text of at
// most 200 bytes without control characters (a NUL or invalid UTF-8 would
// make a SQL store fail rather than find nothing).
func plausibleTenant(name string) bool {
	if name == "" || len(name) > 200 || !utf8.ValidString(name) {
		return false
	}
	return !strings.ContainsFunc(name, unicode.IsControl)
}

// adminPage returns the admin page (package admin) mounted at /admin/,
// behind the demo's stand-in for an app's own admin login: HTTP Basic
// authentication whose user name picks the tenant (one tenants allows) and
// whose password is -admin-password. The admin package never
// authenticates by itself: this function is what decides who manages
// which tenant.
func adminPage(h *scim.Handler, st store.Store, tenants adminTenants, baseURL, password string, logger *slog.Logger) (http.Handler, error) {
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
		return user, tenants.allow(r, user)
	}
	tokens := tenants.stored
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
