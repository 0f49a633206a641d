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
	// projectGroup names the group of a project role that the demo seeds,
	// as the app's own, in every tenant, so that an IdP's import finds
	// groups to link (Statsig's Project×Role groups); nil seeds none.
	projectGroup func(project, role string) string
	// projectRoles are the project roles projectGroup is called with.
	projectRoles []string
}

// sampleProject is the project whose groups a profile with project groups
// seeds when no -project is given.
const sampleProject = "Sample"

// seededGroups returns the displayNames of the groups the profile seeds in
// every tenant for the -project names (the sample project when none).
func (p profile) seededGroups(projects []string) ([]string, error) {
	if p.projectGroup == nil {
		if len(projects) > 0 {
			return nil, fmt.Errorf("-project: this profile has no project groups; use -profile statsig")
		}
		return nil, nil
	}
	if len(projects) == 0 {
		projects = []string{sampleProject}
	}
	var out []string
	for _, project := range projects {
		if strings.TrimSpace(project) != project || project == "" {
			return nil, fmt.Errorf("invalid -project %q: want a name without outer spaces", project)
		}
		for _, role := range p.projectRoles {
			out = append(out, p.projectGroup(project, role))
		}
	}
	return out, nil
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
	// the default role, names and emails belong to the app. Teams carry the
	// org's default role ("new Teams will be set up with your organization's
	// default role"); a deactivated user leaves them ("If a user is
	// deprovisioned in your identity provider, they will be removed from
	// GrowthBook"); Okta's "Link Group" may rename a team the app made
	// (patchGroup.ts), which GrowthBook refuses to delete (deleteGroup.ts).
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
			c.Users.OnDeactivate = scim.LeaveGroups
			c.Groups.TeamRole = "collaborator"
			c.Groups.RenameAppGroups = true
		},
		ownerRole: "owner",
	},
	// statsig: statsigOrgRole (Member, Admin; Owner never through SCIM),
	// Project×Role and Project×Team×Role groups, no free-form teams, no
	// renames, projects not deleted through SCIM. A deactivated user leaves
	// every group ("if a user is unassigned or deactivated in Okta, they
	// will be removed from the Statsig Organization"). The sample project's
	// Project×Role groups are seeded as the app's, for Okta's import and
	// "Link Group" ("We display the Statsig Project x Role Group with the
	// format Statsig-<Project Name>-<Role Name>").
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
			c.Users.OnDeactivate = scim.LeaveGroups
		},
		ownerRole:    "Owner",
		projectGroup: func(project, role string) string { return "Statsig-" + project + "-" + role },
		projectRoles: []string{"Read-Only", "Member", "Admin"},
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
