package admin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
)

// TestDisconnectAndDeleteTenant: the danger zone's two forms change
// nothing until the tenant's name is typed; then disconnecting revokes the
// tenant's tokens and releases its users, and deleting removes everything
// of the tenant. The other tenant keeps its token and users throughout.
func TestDisconnectAndDeleteTenant(t *testing.T) {
	e := newEnv(t, scim.Config{}, scim.RolePolicy{})
	b, other := e.browser("acme"), e.browser("other")
	token, otherToken := b.createToken("okta"), other.createToken("okta")
	id := e.mustSCIM(http.StatusCreated, token, "POST", "/Users", `{"userName":"ann@x.com"}`)
	e.mustSCIM(http.StatusCreated, token, "POST", "/Groups", `{"displayName":"Team","members":[{"value":"`+id+`"}]}`)
	otherID := e.mustSCIM(http.StatusCreated, otherToken, "POST", "/Users", `{"userName":"olga@x.com"}`)
	e.eventTypes()

	if body := b.get("/admin/").body; !strings.Contains(body, `data-testid="disconnect"`) || !strings.Contains(body, `data-testid="delete-tenant"`) {
		t.Fatalf("the overview has no danger zone:\n%s", body)
	}
	for _, path := range []string{"/admin/disconnect", "/admin/tenant/delete"} {
		for _, typed := range []string{"", "other", "ACME", "acme!"} {
			if p := b.post(path, url.Values{"confirm": {typed}}); p.status != http.StatusBadRequest {
				t.Errorf("POST %s with %q typed: %d, want 400", path, typed, p.status)
			}
		}
	}
	e.mustSCIM(http.StatusOK, token, "GET", "/Users/"+id, "")

	p := b.post("/admin/disconnect", url.Values{"confirm": {" acme "}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/?done=disconnected" {
		t.Fatalf("disconnect: %d, Location %q", p.status, p.header.Get("Location"))
	}
	e.mustSCIM(http.StatusUnauthorized, token, "GET", "/Users", "")
	if managed, err := e.h.Managed(t.Context(), "acme", id); err != nil || managed {
		t.Errorf("Managed after disconnecting = %v, %v; want false", managed, err)
	}
	if body := b.get("/admin/?done=disconnected").body; !strings.Contains(body, "SCIM is disconnected") || !strings.Contains(body, string(store.TenantDisconnected)) {
		t.Errorf("the overview after disconnecting shows no notice or activity:\n%s", body)
	}
	e.mustSCIM(http.StatusOK, otherToken, "GET", "/Users/"+otherID, "")

	p = b.post("/admin/tenant/delete", url.Values{"confirm": {"acme"}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/?done=deleted" {
		t.Fatalf("delete: %d, Location %q", p.status, p.header.Get("Location"))
	}
	body := b.get("/admin/users").body
	if strings.Contains(body, "ann@x.com") {
		t.Errorf("the deleted tenant's user is still listed:\n%s", body)
	}
	if body := b.get("/admin/?done=deleted").body; strings.Contains(body, "<code>scim_") || strings.Contains(body, string(store.TenantDisconnected)) {
		t.Errorf("the overview after deleting still shows the tenant's tokens or events:\n%s", body)
	}
	e.mustSCIM(http.StatusOK, otherToken, "GET", "/Users/"+otherID, "")
	if !strings.Contains(other.get("/admin/users").body, "olga@x.com") {
		t.Error("the other tenant lost its user")
	}
}
