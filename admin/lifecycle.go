package admin

import (
	"net/http"
	"strings"
)

// The danger zone of the overview: disconnecting SCIM and deleting the
// tenant's SCIM data. Both forms carry the CSRF token like every form, and
// the admin types the tenant's name to confirm, so that neither happens
// by a stray click.

// confirmed reports whether the form's "confirm" field is the tenant's
// name, and answers 400 when it is not.
func (a *Handler) confirmed(w http.ResponseWriter, r *request) bool {
	if strings.TrimSpace(r.PostFormValue("confirm")) == r.tenant {
		return true
	}
	a.errorPage(w, r, http.StatusBadRequest, "Nothing was changed: type the tenant's name exactly to confirm.")
	return false
}

// actor names the admin for the log.
func (a *Handler) actor(r *request) string {
	if a.cfg.Actor == nil {
		return ""
	}
	return a.cfg.Actor(r.Request)
}

// disconnect turns SCIM off for the tenant (scim.Handler.DisconnectTenant):
// tokens revoked, users back to app users, groups kept.
func (a *Handler) disconnect(w http.ResponseWriter, r *request) {
	if !a.confirmed(w, r) {
		return
	}
	d, err := a.scim.DisconnectTenant(r.Context(), r.tenant)
	if err != nil {
		a.internal(w, r, "disconnecting SCIM", err)
		return
	}
	a.log.Info("admin: SCIM disconnected", "tenant", r.tenant, "by", a.actor(r), "users", d.Users, "tokens", d.Tokens)
	redirect(w, r, "/?done=disconnected")
}

// deleteTenant deletes everything SCIM keeps of the tenant
// (scim.Handler.DeleteTenant). It records no event: the outbox is part of
// what is deleted.
func (a *Handler) deleteTenant(w http.ResponseWriter, r *request) {
	if !a.confirmed(w, r) {
		return
	}
	if err := a.scim.DeleteTenant(r.Context(), r.tenant); err != nil {
		a.internal(w, r, "deleting the tenant's SCIM data", err)
		return
	}
	a.outboxes.Delete(r.tenant)
	a.log.Info("admin: tenant's SCIM data deleted", "tenant", r.tenant, "by", a.actor(r))
	redirect(w, r, "/?done=deleted")
}
