package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/scimkit/scim"
)

// A profile is the documented SCIM behaviour of one product, expressed as
// scimkit configuration (docs/products.md has the sources for each
// setting). The demo app is the same experimentation platform in every
// profile; what changes is how the IdP's traffic maps onto it.
type profile struct {
	policy scim.RolePolicy
	// config sets the lifecycle switches of scim.Config.
	config func(*scim.Config)
	// ownerRole is the role of the -owner user: protected, never assignable.
	ownerRole string
}

// demoExtension is the demo app's extension schema.
const demoExtension = "urn:ietf:params:scim:schemas:extension:scimkit:2.0:User"

// demoSchema is the demo app's own user attributes: a seat type sent as a
// top-level key (Okta's profile editor) and a default project in the
// demo's extension, beside memberRole (Entra's custom extension
// attributes).
var demoSchema = scim.Schema{
	User: []scim.Attribute{{
		Name: "seatType", CanonicalValues: []string{"standard", "analyst"}, CanonicalOnly: true,
		Description: "The user's seat: standard (runs experiments) or analyst (reads results).",
	}},
	UserExtensions: []scim.Extension{{
		URN: demoExtension, Name: "ScimkitUser", Description: "The demo app's user attributes.",
		Attributes: []scim.Attribute{{Name: "defaultProject", Description: "The project the user lands in."}},
	}},
}

var experimentationRoles = []string{"viewer", "experiment_editor", "data_owner", "admin"}

var profiles = map[string]profile{
	// demo: DESIGN.md's experimentation platform. It links existing users
	// and applies every profile change the IdP sends, emails included.
	"demo": {
		policy: scim.RolePolicy{
			Attribute: "memberRole", ExtensionURN: demoExtension,
			Values: experimentationRoles, Default: "viewer", Keep: "default",
			Protected: []string{"owner"},
		},
		config: func(c *scim.Config) {
			c.Users.LinkExisting = true
			c.Schema = demoSchema
		},
		ownerRole: "owner",
	},
	// eppo: eppoMemberRole with the "default" keep keyword, strict values,
	// and the "Eppo <Role>" role groups that grant org roles.
	"eppo": {
		policy: scim.RolePolicy{
			Attribute: "eppoMemberRole", ExtensionURN: "urn:ietf:params:scim:schemas:extension:eppo:2.0:User",
			Values: experimentationRoles, Default: "viewer", Keep: "default",
			Unknown: scim.UnknownRefuse, Protected: []string{"owner"},
			GroupRoles: []scim.GroupRole{
				{Pattern: "Eppo Viewer", Role: "viewer"},
				{Pattern: "Eppo Experiment Editor", Role: "experiment_editor"},
				{Pattern: "Eppo Data Owner", Role: "data_owner"},
				{Pattern: "Eppo Admin", Role: "admin"},
			},
		},
		config: func(c *scim.Config) {
			c.Users.LinkExisting = true
			c.Users.RefuseEmailChanges = true
			c.Users.HideUnmanaged = true
		},
		ownerRole: "owner",
	},
	// growthbook: growthbookRole, case-sensitive values, unknown values fall
	// back to the default, deprovisioned or deactivated users come back with
	// the default role, names and emails belong to the app.
	"growthbook": {
		policy: scim.RolePolicy{
			Attribute: "growthbookRole", ExtensionURN: "urn:ietf:params:scim:schemas:extension:growthbook:2.0:User",
			Values:  []string{"readonly", "collaborator", "engineer", "analyst", "experimenter", "admin"},
			Default: "collaborator", ResetOnReactivate: true, Protected: []string{"owner"},
		},
		config: func(c *scim.Config) {
			c.Users.LinkExisting = true
			c.Users.IgnoreNameChanges = true
			c.Users.RefuseEmailChanges = true
			c.Users.HideUnmanaged = true
		},
		ownerRole: "owner",
	},
	// statsig: statsigOrgRole (Member, Admin; Owner never through SCIM),
	// Project×Role and Project×Team×Role groups, no free-form teams, no
	// renames, projects not deleted through SCIM.
	"statsig": {
		policy: scim.RolePolicy{
			Attribute: "statsigOrgRole", Values: []string{"Member", "Admin", "Owner"}, CaseInsensitive: true,
			Default: "Member", Ceiling: "Admin", Unknown: scim.UnknownRefuse, Protected: []string{"Owner"},
			GroupRoles: []scim.GroupRole{
				{Pattern: "Statsig-{project}-{team}-{role}", Values: []string{"Member", "Admin"}},
				{Pattern: "Statsig-{project}-{role}", Values: []string{"Read-Only", "Member", "Admin"}, NoDelete: true},
			},
		},
		config: func(c *scim.Config) {
			c.Users.LinkExisting = true
			c.Users.RefuseEmailChanges = true
			c.Groups.RolesOnly = true
			c.Groups.NoRename = true
		},
		ownerRole: "Owner",
	},
}

func profileNames() string {
	names := make([]string, 0, len(profiles))
	for n := range profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, "|")
}

func lookupProfile(name string) (profile, error) {
	p, ok := profiles[name]
	if !ok {
		return profile{}, fmt.Errorf("unknown -profile %q: want %s", name, profileNames())
	}
	return p, nil
}
