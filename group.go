package scim

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/scimkit/scim/store"
)

// Group push: an IdP group is a team of the app. Membership changes are
// applied incrementally through the store (add these ids, remove those), so
// their cost follows the size of the change, never the size of the group.
// Only users of the same tenant become members; other ids are skipped and
// logged, so that one stale id never sinks a batch (Okta treats a 400 on a
// membership PATCH as permanent).

func displayNameOf(attrs store.Attributes) (string, error) {
	name, _ := attrs["displayName"].(string)
	if strings.TrimSpace(name) == "" {
		return "", &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidValue, Detail: "displayName is required"}
	}
	return name, nil
}

func groupTaken(name string) error {
	return &Error{Status: http.StatusConflict, ScimType: ScimTypeUniqueness,
		Detail: "a group named " + quote(name) + " already exists"}
}

// membership is one membership write: add, remove, or replace the whole
// membership.
type membership int

const (
	addMembers membership = iota
	removeMembers
	replaceMembers
)

// changeMembers applies one membership write to a group. Ids to add that
// are not provisioned (SCIM-managed) users of the tenant are skipped, or
// refused in strict mode; the change is reported as events.
func (tx *writeTx) changeMembers(ctx context.Context, groupID string, kind membership, members []store.Member) error {
	h := tx.h
	var skipped []string
	if kind != removeMembers && len(members) > 0 {
		var err error
		if members, skipped, err = tx.provisioned(ctx, members); err != nil {
			return err
		}
		if len(skipped) > 0 && h.cfg.Groups.StrictMembers {
			return &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidValue,
				Detail: "not provisioned users of this organization: " + strings.Join(limitList(skipped, 20), ", ")}
		}
	}
	now := h.cfg.Now().UTC()
	var c store.MemberChange
	var err error
	switch kind {
	case addMembers:
		if len(members) > 0 {
			c, err = tx.AddMembers(ctx, groupID, members, now)
		}
	case removeMembers:
		ids := make([]string, len(members))
		for i, m := range members {
			ids[i] = m.Value
		}
		c, err = tx.RemoveMembers(ctx, groupID, ids, now)
	case replaceMembers:
		c, err = tx.ReplaceMembers(ctx, groupID, members, now)
	}
	if err != nil {
		return err
	}
	skipped = append(skipped, c.Skipped...)
	if len(c.Added) > 0 {
		tx.emit(store.Event{Type: store.MembersAdded, GroupID: groupID, Members: c.Added})
	}
	if len(c.Removed) > 0 {
		tx.emit(store.Event{Type: store.MembersRemoved, GroupID: groupID, Members: c.Removed})
	}
	if len(skipped) > 0 {
		tx.emit(store.Event{Type: store.MembersSkipped, GroupID: groupID, Members: skipped,
			Detail: "not provisioned users of this organization"})
		h.log.WarnContext(tx.r.Context(), "scim: skipped group members that are not provisioned users", "tenant", tx.r.principal.Tenant,
			"group", groupID, "skipped", limitList(skipped, 20), "count", len(skipped))
	}
	return tx.admitMembers(ctx, groupID, c)
}

// provisioned splits members into SCIM-managed users of the tenant and the
// ids that are not. It first asks the store only to count them (no user is
// read, let alone decoded), and lists them only when some are missing.
func (tx *writeTx) provisioned(ctx context.Context, members []store.Member) (ok []store.Member, skipped []string, err error) {
	known := make(map[string]bool, len(members))
	const batch = 500
	for start := 0; start < len(members); start += batch {
		part := members[start:min(start+batch, len(members))]
		ids := make([]store.Filter, 0, len(part))
		seen := make(map[string]bool, len(part))
		for _, m := range part {
			if !seen[m.Value] {
				seen[m.Value] = true
				ids = append(ids, store.Compare{Path: store.Path{Name: "id"}, Op: store.Eq, Value: m.Value, CaseExact: true})
			}
		}
		q := store.Query{Filter: anyOf(ids), ManagedOnly: true}
		page, err := tx.ListUsers(ctx, q)
		if err != nil {
			return nil, nil, err
		}
		if page.Total == len(ids) {
			for id := range seen {
				known[id] = true
			}
			continue
		}
		q.Limit = len(ids)
		if page, err = tx.ListUsers(ctx, q); err != nil {
			return nil, nil, err
		}
		for _, u := range page.Users {
			known[u.ID] = true
		}
	}
	for _, m := range members {
		if known[m.Value] {
			ok = append(ok, m)
		} else {
			skipped = append(skipped, m.Value)
		}
	}
	return ok, skipped, nil
}

// anyOf joins filters with or, as a balanced tree so that its depth grows
// with the logarithm of its size.
func anyOf(fs []store.Filter) store.Filter {
	switch len(fs) {
	case 0:
		return nil
	case 1:
		return fs[0]
	}
	mid := len(fs) / 2
	return store.Or{Left: anyOf(fs[:mid]), Right: anyOf(fs[mid:])}
}

func limitList(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(s[:n:n], fmt.Sprintf("… (%d more)", len(s)-n))
}

// updateGroup replaces the attributes of g (as read) with attrs, and
// reports the change.
func (tx *writeTx) updateGroup(ctx context.Context, g *store.Group, attrs store.Attributes) error {
	name, err := displayNameOf(attrs)
	if err != nil {
		return err
	}
	before := *g
	if before.AppOwned && !tx.h.cfg.Groups.RenameAppGroups && name != before.DisplayName() {
		return refuseAppGroup(&before, "renamed")
	}
	if tx.h.cfg.Groups.NoRename && name != before.DisplayName() {
		return &Error{Status: http.StatusBadRequest, ScimType: ScimTypeMutability,
			Detail: "groups cannot be renamed through SCIM in this app"}
	}
	g.Attributes = attrs
	g.Meta.LastModified = tx.h.cfg.Now().UTC()
	if err := tx.UpdateGroup(ctx, g); err != nil {
		if isConflict(err) {
			return groupTaken(name)
		}
		return err
	}
	tx.groupEvents(&before, g)
	return tx.admit(ctx, groupChange(&before, g))
}

// groupEvents emits the events of a change of a group's attributes.
func (tx *writeTx) groupEvents(before, after *store.Group) {
	b, a := *before, *after
	b.Members, a.Members = nil, nil
	switch {
	case before.DisplayName() != after.DisplayName():
		tx.emit(store.Event{Type: store.GroupRenamed, GroupID: after.ID, GroupBefore: &b, GroupAfter: &a,
			Detail: fmt.Sprintf("%q → %q", before.DisplayName(), after.DisplayName())})
	case !attrsEqual(before.Attributes, after.Attributes):
		tx.emit(store.Event{Type: store.GroupUpdated, GroupID: after.ID, GroupBefore: &b, GroupAfter: &a})
	}
}

// createGroup answers POST /Groups.
func (h *Handler) createGroup(w http.ResponseWriter, r *request) {
	body, err := decodeObject(r)
	if err != nil {
		h.fail(w, r, err, "Group", "")
		return
	}
	attrs, members, err := h.normalizeGroup(body)
	if err != nil {
		h.fail(w, r, err, "Group", "")
		return
	}
	name, err := displayNameOf(attrs)
	if err != nil {
		h.fail(w, r, err, "Group", "")
		return
	}
	if _, _, ok := h.matchGroup(name); !ok && h.cfg.Groups.RolesOnly {
		h.fail(w, r, &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidValue,
			Detail: "group " + quote(name) + " matches none of the app's role group patterns; push it to an existing role group instead"}, "Group", "")
		return
	}
	now := h.cfg.Now().UTC()
	g := store.Group{ID: h.cfg.NewID(), Attributes: attrs, Meta: store.Meta{Created: now, LastModified: now}}
	err = h.update(r, func(ctx context.Context, tx *writeTx) error {
		if err := tx.CreateGroup(ctx, &g); err != nil {
			if isConflict(err) {
				return groupTaken(name)
			}
			return err
		}
		created := g
		tx.emit(store.Event{Type: store.GroupCreated, GroupID: g.ID, GroupAfter: &created})
		if err := tx.admit(ctx, groupChange(nil, &created)); err != nil {
			return err
		}
		if err := tx.changeMembers(ctx, g.ID, addMembers, members); err != nil {
			return err
		}
		var err error
		g, err = tx.Group(ctx, g.ID, true)
		return err
	})
	if err != nil {
		h.fail(w, r, err, "Group", "")
		return
	}
	doc := h.plainGroup(r, &g)
	w.Header().Set("Location", doc["meta"].(map[string]any)["location"].(string))
	w.Header().Set("ETag", etag(g.Meta.Version))
	writeJSON(w, http.StatusCreated, doc)
}

// getGroup answers GET /Groups/{id}; members are loaded only when returned.
func (h *Handler) getGroup(w http.ResponseWriter, r *request, id string) {
	query := r.query()
	proj := parseProjection(h.groups, query["attributes"], query["excludedAttributes"])
	var g store.Group
	err := h.view(r, func(ctx context.Context, tx store.Reader) error {
		var err error
		g, err = tx.Group(ctx, id, proj.wants("members"))
		return err
	})
	if err != nil {
		h.fail(w, r, err, "Group", id)
		return
	}
	w.Header().Set("ETag", etag(g.Meta.Version))
	if notModified(r, g.Meta.Version) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeJSON(w, http.StatusOK, proj.apply(h.renderGroup(r, &g, proj)))
}

// replaceGroup answers PUT /Groups/{id}. A members list, when sent, is
// applied as a difference (Okta apps without PATCH push membership this
// way); a body without members leaves them as they are.
func (h *Handler) replaceGroup(w http.ResponseWriter, r *request, id string) {
	body, err := decodeObject(r)
	if err != nil {
		h.fail(w, r, err, "Group", id)
		return
	}
	attrs, members, err := h.normalizeGroup(body)
	if err != nil {
		h.fail(w, r, err, "Group", id)
		return
	}
	if _, err := displayNameOf(attrs); err != nil {
		h.fail(w, r, err, "Group", id)
		return
	}
	var g store.Group
	err = h.update(r, func(ctx context.Context, tx *writeTx) error {
		var err error
		if g, err = tx.Group(ctx, id, false); err != nil {
			return err
		}
		if err := checkIfMatch(r, "Group", id, g.Meta.Version); err != nil {
			return err
		}
		if err := h.groupDecl.carryOver(g.Attributes, attrs); err != nil {
			return err
		}
		if err := tx.updateGroup(ctx, &g, attrs); err != nil {
			return err
		}
		if members != nil {
			if err := tx.changeMembers(ctx, id, replaceMembers, members); err != nil {
				return err
			}
		}
		g, err = tx.Group(ctx, id, true)
		return err
	})
	if err != nil {
		h.fail(w, r, err, "Group", id)
		return
	}
	w.Header().Set("ETag", etag(g.Meta.Version))
	writeJSON(w, http.StatusOK, h.plainGroup(r, &g))
}

// deleteGroup answers DELETE /Groups/{id}: the team goes, its users stay.
func (h *Handler) deleteGroup(w http.ResponseWriter, r *request, id string) {
	err := h.update(r, func(ctx context.Context, tx *writeTx) error {
		g, err := tx.Group(ctx, id, false)
		if err != nil {
			return err
		}
		if err := checkIfMatch(r, "Group", id, g.Meta.Version); err != nil {
			return err
		}
		if g.AppOwned && !h.cfg.Groups.DeleteAppGroups {
			return refuseAppGroup(&g, "deleted")
		}
		if rule, _, ok := h.matchGroup(g.DisplayName()); ok && rule.NoDelete {
			return &Error{Status: http.StatusBadRequest, ScimType: ScimTypeMutability,
				Detail: "group " + quote(g.DisplayName()) + " cannot be deleted through SCIM"}
		}
		if err := tx.DeleteGroup(ctx, id); err != nil {
			return err
		}
		tx.emit(store.Event{Type: store.GroupDeleted, GroupID: id, GroupBefore: &g})
		return tx.admit(ctx, groupChange(&g, nil))
	})
	if err != nil {
		h.fail(w, r, err, "Group", id)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// GroupRole grants a role to the members of every group whose displayName
// matches Pattern: an org role (Eppo's "Eppo Admin" groups), a role on a
// project (Statsig's "Statsig-<Project>-<Role>"), or on a team of a
// project ("Statsig-<Project>-<Team>-<Role>"). Rules are tried in order and
// the first match wins, so list the more specific patterns first.
type GroupRole struct {
	// Pattern is a displayName, matched ignoring case, with optional
	// placeholders {project}, {team} and {role}. Without {project} the rule
	// grants an org role.
	Pattern string
	// Role is the role granted when Pattern has no {role}.
	Role string
	// Values are the roles {role} may match, lowest first; nil means the
	// RolePolicy's Values.
	Values []string
	// NoDelete refuses DELETE of matching groups with 400 (Statsig does not
	// delete projects through SCIM).
	NoDelete bool

	re *regexp.Regexp
}

func (g GroupRole) validate() error {
	hasRole := strings.Count(g.Pattern, "{role}")
	switch {
	case g.Pattern == "":
		return invalid("GroupRole.Pattern is empty")
	case hasRole > 1 || strings.Count(g.Pattern, "{project}") > 1 || strings.Count(g.Pattern, "{team}") > 1:
		return invalid("GroupRole.Pattern %q repeats a placeholder", g.Pattern)
	case (hasRole == 1) == (g.Role != ""):
		return invalid("GroupRole %q needs exactly one of a {role} placeholder and Role", g.Pattern)
	case strings.Contains(g.Pattern, "{team}") && !strings.Contains(g.Pattern, "{project}"):
		return invalid("GroupRole.Pattern %q has {team} without {project}", g.Pattern)
	}
	return nil
}

// compile builds the matcher of g with the policy's values as default.
func (g GroupRole) compile(values []string) GroupRole {
	if g.Values == nil {
		g.Values = values
	}
	alts := make([]string, len(g.Values))
	for i, v := range g.Values {
		alts[i] = regexp.QuoteMeta(v)
	}
	expr := regexp.QuoteMeta(g.Pattern)
	expr = strings.Replace(expr, regexp.QuoteMeta("{project}"), "(?P<project>.+?)", 1)
	expr = strings.Replace(expr, regexp.QuoteMeta("{team}"), "(?P<team>.+?)", 1)
	expr = strings.Replace(expr, regexp.QuoteMeta("{role}"), "(?P<role>"+strings.Join(alts, "|")+")", 1)
	g.re = regexp.MustCompile("(?is)^" + expr + "$")
	return g
}

// match returns what a group name grants under g.
func (g GroupRole) match(name string) (Grant, bool) {
	m := g.re.FindStringSubmatch(name)
	if m == nil {
		return Grant{}, false
	}
	sub := func(n string) string {
		if i := g.re.SubexpIndex(n); i >= 0 {
			return m[i]
		}
		return ""
	}
	grant := Grant{Project: sub("project"), Team: sub("team"), Role: g.Role}
	if r := sub("role"); r != "" {
		for _, v := range g.Values {
			if strings.EqualFold(v, r) {
				grant.Role = v
			}
		}
	}
	return grant, true
}

// matchGroup returns the first rule matching a group name.
func (h *Handler) matchGroup(name string) (GroupRole, Grant, bool) {
	for _, rule := range h.groupRoles {
		if grant, ok := rule.match(name); ok {
			return rule, grant, true
		}
	}
	return GroupRole{}, Grant{}, false
}

// Grant is a role a group grants: on the org (Project and Team ""), on a
// project, on a team of a project, or on a team of the org (Project "":
// a group matching no GroupRole, under GroupRules.TeamRole).
type Grant struct {
	// Project is the project the group's name names ("" for an org role
	// or a team of the org).
	Project string
	// Team is the team within Project the name names, if any, or the
	// displayName of a team of the org.
	Team string
	// Role is the role granted, spelled as in the rule's Values.
	Role string
}

// Roles is what a user may do in the app.
type Roles struct {
	// Org is the user's org role: the highest (latest in RolePolicy.Values)
	// of the role attribute's value and the org roles their groups grant.
	// Removing the last such group leaves the attribute's role.
	Org string
	// Grants lists the project and team roles the user's groups grant, one
	// per project and team, the highest when several groups grant roles on
	// the same one, ordered by project then team; the teams of the org
	// (GroupRules.TeamRole) come first. Project and team grants never
	// change Org, and the role attribute never grants project roles.
	Grants []Grant
}

// Roles returns the roles of a user of tenant under RolePolicy.GroupRoles
// and GroupRules.TeamRole. A user who left their groups on deactivation
// (UserRules.OnDeactivate) has only their org role.
// It returns store.ErrNotFound for an unknown user, and without asking the
// store for an id that holds NUL or is not UTF-8.
func (h *Handler) Roles(ctx context.Context, tenant, userID string) (Roles, error) {
	var out Roles
	if !storableID(userID) {
		return out, store.ErrNotFound // no store could hold it, or compare with it
	}
	err := h.viewStore(ctx, tenant, func(tx store.Reader) error {
		u, err := tx.User(ctx, userID)
		if err != nil {
			return err
		}
		out.Org = u.Role
		if len(h.groupRoles) == 0 && h.cfg.Groups.TeamRole == "" {
			return nil
		}
		groups, err := tx.GroupsOf(ctx, userID)
		if err != nil {
			return err
		}
		best := map[[2]string]int{} // project, team → index in out.Grants
		for _, g := range groups {
			rule, grant, ok := h.matchGroup(g.DisplayName)
			if !ok {
				if h.cfg.Groups.TeamRole == "" {
					continue
				}
				// A team: the role every team grants.
				rule, grant = GroupRole{Values: h.policy.Values}, Grant{Team: g.DisplayName, Role: h.cfg.Groups.TeamRole}
			}
			if grant.Project == "" && grant.Team == "" {
				// Groups raise an org role of Values; a role outside them
				// (the owner's) is never replaced.
				if (out.Org == "" || h.policy.rank(out.Org) >= 0) && h.policy.rank(grant.Role) > h.policy.rank(out.Org) {
					out.Org = grant.Role
				}
				continue
			}
			// Names match ignoring case: one project however it is spelled.
			key := [2]string{strings.ToLower(grant.Project), strings.ToLower(grant.Team)}
			i, seen := best[key]
			switch {
			case !seen:
				best[key] = len(out.Grants)
				out.Grants = append(out.Grants, grant)
			case slices.Index(rule.Values, grant.Role) > slices.Index(rule.Values, out.Grants[i].Role),
				grant.Role == out.Grants[i].Role && grant.Project+"/"+grant.Team < out.Grants[i].Project+"/"+out.Grants[i].Team:
				// The highest role wins, spelled as the group that grants it
				// names the project (ties: the smallest spelling).
				out.Grants[i] = grant
			}
		}
		slices.SortFunc(out.Grants, func(a, b Grant) int {
			if c := strings.Compare(strings.ToLower(a.Project), strings.ToLower(b.Project)); c != 0 {
				return c
			}
			return strings.Compare(strings.ToLower(a.Team), strings.ToLower(b.Team))
		})
		return nil
	})
	return out, err
}
