// Package store defines the storage contract behind a scimkit handler: the
// resource types it persists, the queries it answers, the sentinel errors it
// returns and the Store interface an adapter implements.
//
// The root package (github.com/scimkit/scim) owns every SCIM semantic: it
// parses filters and PATCH requests, checks versions and applies role policy.
// A Store only persists and queries, always scoped to one tenant, and runs
// each write as one atomic unit.
//
// Adapters shipped with scimkit live in store/memory (tests and demos) and
// store/sql (SQLite, PostgreSQL, MySQL/MariaDB). Every adapter runs the
// conformance suite in store/storetest.
//
// # Case-insensitive keys
//
// "Case-insensitive" means equal under Fold, everywhere: an adapter keeps
// Fold(userName) unique per tenant among users, and Fold(displayName)
// among groups (ErrConflict otherwise), looks users up by it in
// UserByUserName, and compares Fold of both sides for every filter
// without CaseExact (eq, ne, co, sw, ew, gt, ge, lt, le) and for sorting,
// as Eval does. Fold is the compatibility caseless form (NFKD, full case
// folding, format characters dropped): "admin", "ADMIN", "ａｄｍｉｎ" and
// "admin\u200b" share a key, as do "Straße" and "STRASSE". An adapter
// that stores keys computes them with Fold in Go rather than with its
// database's lower() or collations, which differ between engines beyond
// ASCII, and recomputes stored keys when it upgrades to a version whose
// Fold differs. The handler stores userName without outer white space and
// in NFC, and refuses control and format characters in it.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors returned by a Store, wrapped with %w where context helps.
// Callers match them with errors.Is.
var (
	// ErrNotFound reports that the user or group does not exist in the tenant.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict reports that a write would break a uniqueness rule: a
	// userName or a group displayName already taken in the tenant (equal
	// under Fold), or an id that already exists.
	ErrConflict = errors.New("store: conflict")
	// ErrVersionMismatch reports that a write carried a version other than
	// the stored one: someone else changed the resource in between.
	ErrVersionMismatch = errors.New("store: version mismatch")
	// ErrUnavailable reports a transient failure of the backing service (a
	// database that is down or overloaded). The handler answers 503 so that
	// the identity provider retries later.
	ErrUnavailable = errors.New("store: unavailable")
)

// Store is the storage behind a handler. Every call is scoped to one tenant;
// data of one tenant is never visible through another.
//
// Reads go through View, writes through Update. Implementations must be safe
// for concurrent use.
type Store interface {
	// View calls fn with a Reader scoped to tenant. The Reader must not be
	// used after fn returns. Adapters may give fn a consistent snapshot; they
	// must at least make each single read consistent.
	View(ctx context.Context, tenant string, fn func(Reader) error) error

	// Update calls fn with a Tx scoped to tenant and commits the writes fn
	// made when it returns nil. When fn returns an error or panics, none of
	// its writes are applied and Update returns fn's error (re-panicking after
	// the roll-back). Reads through the Tx see the Tx's own writes.
	//
	// A write that fails inside fn (ErrConflict, ErrVersionMismatch,
	// ErrNotFound) changes nothing, and fn may go on and commit its other
	// writes: adapters whose database aborts a transaction on a failed
	// statement check first or use savepoints.
	//
	// Concurrent Updates of one tenant behave as if run one after another.
	// An adapter that detects a serialization failure may call fn again, so
	// fn must have no effect outside the Tx.
	Update(ctx context.Context, tenant string, fn func(Tx) error) error
}

// Reader reads users and groups of one tenant.
type Reader interface {
	// User returns the user with the given id, or ErrNotFound.
	User(ctx context.Context, id string) (User, error)

	// UserByUserName returns the user whose userName equals userName
	// compared case-insensitively (equal under Fold), or ErrNotFound.
	UserByUserName(ctx context.Context, userName string) (User, error)

	// ListUsers returns the users matching q.Filter, ordered and paged as q
	// says, with the total number of matches.
	ListUsers(ctx context.Context, q Query) (UserPage, error)

	// Group returns the group with the given id, or ErrNotFound. Its Members
	// are loaded only when withMembers is true; otherwise Members is nil and
	// the cost of the call does not depend on the size of the group.
	Group(ctx context.Context, id string, withMembers bool) (Group, error)

	// ListGroups is ListUsers for groups. Members are loaded only when
	// q.WithMembers is true.
	ListGroups(ctx context.Context, q Query) (GroupPage, error)

	// GroupsOf returns the groups the user with the given id belongs to,
	// ordered by group id. It returns an empty slice, not ErrNotFound, for an
	// unknown user.
	GroupsOf(ctx context.Context, userID string) ([]GroupRef, error)
}

// Tx is a Reader that can also write. All writes of one Tx commit together
// or not at all.
type Tx interface {
	Reader

	// CreateUser stores a new user. u.ID is set by the caller. It returns
	// ErrConflict when the id exists or the userName is taken
	// (case-insensitively). On success u.Meta.Version is set to 1.
	CreateUser(ctx context.Context, u *User) error

	// UpdateUser replaces the stored user with the same id: attributes,
	// Role, Managed, ManagedBy, Linked and Meta.LastModified (Meta.Created is
	// kept). u.Meta.Version
	// must equal the stored version, or it returns ErrVersionMismatch; on
	// success the stored version and u.Meta.Version are incremented by one.
	// It returns ErrNotFound for an unknown id and ErrConflict when the new
	// userName is taken by another user.
	UpdateUser(ctx context.Context, u *User) error

	// DeleteUser removes the user and all its memberships; every group that
	// lost a member gets a new version. It returns ErrNotFound for an unknown
	// id.
	DeleteUser(ctx context.Context, id string) error

	// CreateGroup stores a new group without members (g.Members is ignored;
	// add them with AddMembers), with its AppOwned flag. It returns ErrConflict when the id exists or
	// the displayName is taken (case-insensitively). On success
	// g.Meta.Version is set to 1.
	CreateGroup(ctx context.Context, g *Group) error

	// UpdateGroup replaces the group's attributes and Meta.LastModified;
	// members and AppOwned are left as they are (g.Members and g.AppOwned
	// are ignored). Versions work as in
	// UpdateUser; ErrConflict when the new displayName is taken.
	UpdateGroup(ctx context.Context, g *Group) error

	// DeleteGroup removes the group and its memberships (the users stay). It
	// returns ErrNotFound for an unknown id.
	DeleteGroup(ctx context.Context, id string) error

	// AddMembers makes the given users members of the group. Members that
	// are already in the group are left alone (their Display is not changed)
	// and ids that are not users of the tenant are skipped; both are reported
	// in the result, in the order given. An id given twice is added once and
	// reported as Unchanged the second time. When anything was added the group's
	// version is incremented and its lastModified set to at. The cost is
	// proportional to len(members), not to the size of the group. It returns
	// ErrNotFound for an unknown group.
	AddMembers(ctx context.Context, groupID string, members []Member, at time.Time) (MemberChange, error)

	// RemoveMembers removes the users with the given ids from the group. Ids
	// that are not members (including ids that are not users at all) are
	// reported in MemberChange.NotMembers and are not an error. Versions and cost work as in AddMembers.
	RemoveMembers(ctx context.Context, groupID string, userIDs []string, at time.Time) (MemberChange, error)

	// ReplaceMembers makes the group's members exactly the given users (minus
	// unknown ids, reported as skipped), applied as a difference: members in
	// both sets are untouched and reported as Unchanged; Removed lists the
	// members that left, in no particular order. An empty list removes every
	// member.
	ReplaceMembers(ctx context.Context, groupID string, members []Member, at time.Time) (MemberChange, error)
}

// Attributes holds SCIM attribute values as decoded from JSON: string, bool,
// float64 or json.Number, []any, map[string]any. Keys are the canonical
// attribute names of the schema ("userName", "name", "emails"); attributes of
// an extension schema sit under a key that is the schema URN, holding a map.
type Attributes = map[string]any

// Meta is the bookkeeping of a resource: when it was created and last
// modified, and its version for optimistic concurrency (the ETag).
type Meta struct {
	// Created is when the resource was created.
	Created time.Time
	// LastModified is when the resource last changed.
	LastModified time.Time
	// Version is set by the store and increases with every write of the
	// resource; the handler derives the ETag from it.
	Version int64
}

// User is one user of a tenant.
type User struct {
	// ID is the server-assigned, immutable identifier.
	ID string
	// Attributes holds every SCIM attribute of the user except id, meta,
	// schemas, groups and password, under canonical names.
	Attributes Attributes
	// Role is the user's role in the org as the app knows it: the value the
	// handler's role policy resolved (also present in Attributes under the
	// role attribute, for filters). "" when the app declares no role.
	Role string
	// Managed reports whether the user is managed through SCIM: created by
	// an identity provider, or an existing app user linked to one. The app
	// uses it to lock the user's profile in its own UI.
	Managed bool
	// ManagedBy names the identity-provider connection that manages the
	// user (the Principal's connection); "" when not managed.
	ManagedBy string
	// Linked reports that the user existed in the app before an identity
	// provider adopted it, rather than being created through SCIM.
	Linked bool
	// Meta is the user's timestamps and version.
	Meta Meta
}

// UserName returns the user's userName attribute, or "".
func (u *User) UserName() string { return stringAttr(u.Attributes, "userName") }

// ExternalID returns the user's externalId attribute, or "".
func (u *User) ExternalID() string { return stringAttr(u.Attributes, "externalId") }

// Active reports the user's active attribute; a user without one is active.
func (u *User) Active() bool {
	if b, ok := u.Attributes["active"].(bool); ok {
		return b
	}
	return true
}

// Emails returns the values of the user's emails attribute, in order.
func (u *User) Emails() []string {
	list, _ := u.Attributes["emails"].([]any)
	out := make([]string, 0, len(list))
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			if v, ok := m["value"].(string); ok && v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// Group is one group (a team of the app) of a tenant.
type Group struct {
	// ID is the server-assigned, immutable identifier.
	ID string
	// Attributes holds every SCIM attribute of the group except id, meta,
	// schemas and members, under canonical names.
	Attributes Attributes
	// Members is nil unless the read asked for members; their order is the
	// adapter's (callers must not rely on it).
	Members []Member
	// AppOwned reports that the app created the group itself rather than
	// an identity provider: the IdP imports it and links to it, and the
	// handler's GroupRules decide whether SCIM may rename or delete it.
	// CreateGroup stores it and UpdateGroup leaves it as stored.
	AppOwned bool
	// Meta is the group's timestamps and version.
	Meta Meta
}

// DisplayName returns the group's displayName attribute, or "".
func (g *Group) DisplayName() string { return stringAttr(g.Attributes, "displayName") }

// ExternalID returns the group's externalId attribute, or "".
func (g *Group) ExternalID() string { return stringAttr(g.Attributes, "externalId") }

// Member is one member of a group: a user of the same tenant.
type Member struct {
	// Value is the member user's id.
	Value string
	// Display is the display text the identity provider sent, kept as is.
	Display string
}

// GroupRef names a group a user belongs to.
type GroupRef struct {
	// ID is the group's id.
	ID string
	// DisplayName is the group's displayName.
	DisplayName string
}

// MemberChange reports what a membership write did, each list in the order
// the ids were given.
type MemberChange struct {
	// Added and Removed list the user ids whose membership changed.
	Added, Removed []string
	// Unchanged lists ids that were already members.
	Unchanged []string
	// NotMembers lists ids asked to be removed that were not members.
	NotMembers []string
	// Skipped lists ids that are not users of the tenant.
	Skipped []string
}

// Changed reports whether the write added or removed anyone.
func (c MemberChange) Changed() bool { return len(c.Added) > 0 || len(c.Removed) > 0 }

// Query selects, orders and pages users or groups.
type Query struct {
	// Filter selects resources; nil selects all.
	Filter Filter
	// SortBy orders the results by this attribute; the zero Path means the
	// adapter's own stable order (for example creation order). Resources
	// without a value sort last when ascending and first when descending;
	// ties keep the stable order in both directions. Strings sort
	// case-insensitively.
	SortBy Path
	// Descending reverses the order of SortBy.
	Descending bool
	// Offset is the number of matches to skip (startIndex-1).
	Offset int
	// Limit is the maximum number of resources to return; 0 returns none,
	// only the total.
	Limit int
	// WithMembers loads group members (ListGroups only).
	WithMembers bool
	// ManagedOnly selects only users with Managed set (ListUsers only), for
	// apps that hide their own users from the identity provider's import.
	ManagedOnly bool
}

// UserPage is one page of users and the total number of matches.
type UserPage struct {
	// Total is the number of users matching the query, on every page.
	Total int
	// Users is the page: at most Query.Limit users from Query.Offset.
	Users []User
}

// GroupPage is one page of groups and the total number of matches.
type GroupPage struct {
	// Total is the number of groups matching the query, on every page.
	Total int
	// Groups is the page: at most Query.Limit groups from Query.Offset.
	Groups []Group
}

func stringAttr(a Attributes, name string) string {
	s, _ := a[name].(string)
	return s
}

// Resolve returns the user's values at p, as a Resolver does: id and
// meta.created / meta.lastModified (as time.Time) come from the struct, the
// rest from Attributes.
func (u *User) Resolve(p Path) []any {
	if v, ok := common(p, u.ID, u.Meta); ok {
		return v
	}
	return Lookup(u.Attributes, p)
}

// Resolve returns the group's values at p, as a Resolver does. members and
// members.value resolve from Members, so the group must have been read with
// its members for a filter on them.
func (g *Group) Resolve(p Path) []any {
	if v, ok := common(p, g.ID, g.Meta); ok {
		return v
	}
	if p.URN == "" && p.Name == "members" {
		out := make([]any, 0, len(g.Members))
		for _, m := range g.Members {
			switch p.Sub {
			case "":
				out = append(out, map[string]any{"value": m.Value, "display": m.Display})
			case "value":
				out = append(out, m.Value)
			case "display":
				if m.Display != "" {
					out = append(out, m.Display)
				}
			}
		}
		return out
	}
	return Lookup(g.Attributes, p)
}

func common(p Path, id string, m Meta) ([]any, bool) {
	if p.URN != "" {
		return nil, false
	}
	switch {
	case p.Name == "id" && p.Sub == "":
		return []any{id}, true
	case p.Name == "meta" && p.Sub == "created":
		return []any{m.Created}, true
	case p.Name == "meta" && p.Sub == "lastModified":
		return []any{m.LastModified}, true
	case p.Name == "meta" && p.Sub == "version":
		return []any{float64(m.Version)}, true
	}
	return nil, false
}
