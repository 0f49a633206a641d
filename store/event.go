package store

import (
	"context"
	"time"
)

// EventType names a state change of a tenant's users or groups.
type EventType string

// The events the handler reports.
const (
	UserProvisioned   EventType = "user.provisioned"   // created through SCIM
	UserLinked        EventType = "user.linked"        // an existing app user adopted by the IdP
	UserUpdated       EventType = "user.updated"       // attributes changed
	UserRoleChanged   EventType = "user.role_changed"  // the resolved role changed
	UserDeactivated   EventType = "user.deactivated"   // active became false
	UserReactivated   EventType = "user.reactivated"   // active became true
	UserDeprovisioned EventType = "user.deprovisioned" // deleted: the user left the org
	GroupCreated      EventType = "group.created"
	GroupRenamed      EventType = "group.renamed"
	GroupUpdated      EventType = "group.updated" // attributes other than displayName changed
	GroupDeleted      EventType = "group.deleted"
	MembersAdded      EventType = "group.members_added"
	MembersRemoved    EventType = "group.members_removed"
	MembersSkipped    EventType = "group.members_skipped"  // ids that are not provisioned users of the tenant
	ProtectedRefused  EventType = "user.protected_refused" // a change to a protected user was refused
	// AppGroupRefused reports that a rename or deletion of a group the app
	// owns (store.Group.AppOwned) was refused under the handler's rules.
	AppGroupRefused EventType = "group.app_owned_refused"
	// ChangeRefused reports a write the app's admission hook refused
	// (scim.Config.Admit); Detail names the kind of change and the reason.
	ChangeRefused EventType = "change.refused"
	// DeprovisioningHeld reports that mass deprovisioning was put on hold
	// until an admin confirms (scim.DeprovisionGuard).
	DeprovisioningHeld EventType = "tenant.deprovisioning_held"

	// Events of an admin screen (package admin): Client is "admin", Detail
	// says who acted when the app tells, and token events carry the id of
	// the token concerned in TokenID.
	TokenCreated            EventType = "token.created"
	TokenRevoked            EventType = "token.revoked"
	TokenRegenerated        EventType = "token.regenerated" // TokenID is the new token; Detail names the old one
	DeprovisioningConfirmed EventType = "tenant.deprovisioning_confirmed"
)

// Event is one state change, reported after it committed. User events
// carry Before and After (Before nil on provisioning, After nil on
// deprovisioning); group events carry GroupBefore and GroupAfter (without
// members) and, for membership events, the user ids concerned.
type Event struct {
	// Seq orders a tenant's events in an outbox (EventLog); 0 otherwise.
	Seq int64
	// Time is when the change was made (the handler's clock).
	Time time.Time
	// Type says what changed.
	Type EventType
	// Tenant, TokenID and Client say who made the change: the tenant, the
	// id of the credential (never the secret) and the identity provider
	// recognised from the request ("okta", "entra", …).
	Tenant  string
	TokenID string
	Client  string
	// UserID and GroupID name the resources concerned.
	UserID  string
	GroupID string
	// Before and After are the user before and after the change.
	Before, After *User
	// GroupBefore and GroupAfter are the group before and after the change.
	GroupBefore, GroupAfter *Group
	// Members lists user ids added, removed or skipped.
	Members []string
	// Detail explains a refusal or a skip, in words fit for an admin.
	Detail string
}

// EventRecorder is implemented by a Tx that keeps an outbox of events: the
// handler records each write's events in the same transaction, so that an
// event exists exactly when its change committed. RecordEvents assigns Seq
// values that increase in commit order within a tenant.
type EventRecorder interface {
	RecordEvents(ctx context.Context, events []Event) error
}

// EventLog is implemented by a Store whose Tx is an EventRecorder. Events
// returns up to limit events of the tenant with Seq greater than after, in
// Seq order, so that an app can consume the outbox with a cursor.
type EventLog interface {
	Events(ctx context.Context, tenant string, after int64, limit int) ([]Event, error)
}

// Departure is what a handler remembers of a deprovisioned user so that a
// later re-provisioning of the same person can restore their role.
type Departure struct {
	// UserID is the departed user's id, by which Eraser.EraseUser finds
	// the departure; "" when not known.
	UserID string
	// UserName is the departed user's userName, as stored.
	UserName string
	// Role is the org role the user had when they left.
	Role string
	// Time is when the user was deprovisioned.
	Time time.Time
}

// DepartureRecorder is implemented by a Tx that remembers deprovisioned
// users (needed for RolePolicy's "previous role" re-provisioning rule).
type DepartureRecorder interface {
	// RecordDeparture remembers d, replacing any departure of the same
	// userName (compared case-insensitively).
	RecordDeparture(ctx context.Context, d Departure) error
	// Departure returns the departure recorded for userName (compared
	// case-insensitively), or ErrNotFound.
	Departure(ctx context.Context, userName string) (Departure, error)
}

// LeftGroupsRecorder is implemented by a Tx that remembers the groups a
// deactivated user left, so that a reactivation can put the user back
// (scim.UserRules.OnDeactivate SuspendGroups). An adapter whose Tx
// implements it forgets a user's left groups in DeleteUser.
type LeftGroupsRecorder interface {
	// RecordLeftGroups remembers groupIDs as the groups the user with id
	// userID left, replacing what was remembered for that user; an empty
	// list forgets it. Ids are kept as given (a group deleted later stays
	// listed; the caller skips it).
	RecordLeftGroups(ctx context.Context, userID string, groupIDs []string) error
	// LeftGroups returns the group ids remembered for the user, sorted,
	// and an empty slice (not ErrNotFound) when there are none.
	LeftGroups(ctx context.Context, userID string) ([]string, error)
}
