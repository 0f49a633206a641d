package scim

import (
	"context"
	"fmt"
	"net/http"

	"github.com/scimkit/scim/store"
)

// App-owned groups: groups the app creates itself, before any identity
// provider pushes them (Statsig's Project×Role groups, GrowthBook's
// existing teams). GET /Groups lists them, so that the IdP imports them and
// links its own groups to them (Okta's "Link Group"); membership pushed
// onto them applies as to any group. GroupRules decide whether SCIM may
// rename or delete them.

// appClient is the Client of the events of changes the app makes itself.
const appClient = "app"

// CreateGroup creates a group of tenant on the app's behalf, without
// members, and returns its id. The group is stored with
// store.Group.AppOwned set: GET /Groups lists it for an identity provider
// to import and link, membership pushed onto it grants the roles of
// RolePolicy.GroupRoles and GroupRules.TeamRole as for any group, and
// GroupRules.RenameAppGroups and DeleteAppGroups say whether SCIM may
// rename or delete it. A GroupCreated event with Client "app" records it.
//
// It returns an error matching store.ErrConflict when the tenant has a
// group of that displayName (compared case-insensitively), so that an app
// seeding its groups on every start can ignore it, and a 400 *Error for a
// blank displayName or one that is not UTF-8 text without NUL.
func (h *Handler) CreateGroup(ctx context.Context, tenant, displayName string) (string, error) {
	attrs := store.Attributes{"displayName": displayName}
	if _, err := displayNameOf(attrs); err != nil {
		return "", err
	}
	if !storableID(displayName) {
		return "", &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidValue,
			Detail: "displayName has a NUL character or is not UTF-8"}
	}
	now := h.cfg.Now().UTC()
	g := store.Group{ID: h.cfg.NewID(), Attributes: attrs, AppOwned: true, Meta: store.Meta{Created: now, LastModified: now}}
	r := &request{ctx: ctx, principal: Principal{Tenant: tenant}, client: appClient}
	err := h.update(r, func(ctx context.Context, tx *writeTx) error {
		if err := tx.CreateGroup(ctx, &g); err != nil {
			return err
		}
		created := g
		tx.emit(store.Event{Type: store.GroupCreated, GroupID: g.ID, GroupAfter: &created})
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("scim: create group %s in tenant %s: %w", quote(displayName), quote(tenant), err)
	}
	return g.ID, nil
}

// refuseAppGroup returns the 400 for a rename or deletion of an app-owned
// group that GroupRules do not allow, carrying the event that records the
// refusal.
func refuseAppGroup(g *store.Group, what string) error {
	detail := fmt.Sprintf("group %s (%s) belongs to the app and cannot be %s through SCIM; link to it and push its members instead",
		quote(g.DisplayName()), g.ID, what)
	c := *g
	c.Members = nil
	return &refusal{
		err:   &Error{Status: http.StatusBadRequest, ScimType: ScimTypeMutability, Detail: detail},
		event: store.Event{Type: store.AppGroupRefused, GroupID: g.ID, GroupBefore: &c, Detail: detail},
	}
}

// validateRules refuses a TeamRole the role policy does not know and an
// unknown DeactivationRule.
func (c Config) validateRules(p RolePolicy) error {
	if c.Groups.TeamRole != "" && p.rank(c.Groups.TeamRole) < 0 {
		return invalid("Config.Groups.TeamRole %q is not one of RolePolicy.Values", c.Groups.TeamRole)
	}
	if c.Users.OnDeactivate < KeepGroups || c.Users.OnDeactivate > SuspendGroups {
		return invalid("Config.Users.OnDeactivate %d is not KeepGroups, LeaveGroups or SuspendGroups", c.Users.OnDeactivate)
	}
	return nil
}
