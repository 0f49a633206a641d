package scim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/scimkit/scim/internal/patch"
	"github.com/scimkit/scim/store"
)

// Admission and adoption: two hooks through which the app's own model
// takes part in a write (Config.Admit, UserRules.Resolve).

// ChangeKind says what a Change does.
type ChangeKind string

// The kinds of Change. A write of a user has exactly one kind, the first
// that applies in this order: UserCreate, UserLink, UserDeactivate,
// UserReactivate, UserUpdate (a PATCH that reactivates a user and renames
// them is a UserReactivate; compare Before and After for the rest).
const (
	// UserCreate is a POST that creates a new user (After).
	UserCreate ChangeKind = "user.create"
	// UserLink is a POST, PUT or PATCH that adopts an existing app user
	// (Before, not yet managed) as the IdP's (After); it may also
	// deactivate them or change their role.
	UserLink ChangeKind = "user.link"
	// UserUpdate changes a managed user's attributes or role (Before,
	// After), neither deactivating nor reactivating them.
	UserUpdate ChangeKind = "user.update"
	// UserDeactivate sets an active user's active to false.
	UserDeactivate ChangeKind = "user.deactivate"
	// UserReactivate sets an inactive user's active to true.
	UserReactivate ChangeKind = "user.reactivate"
	// UserDelete deprovisions a user (Before; After is nil).
	UserDelete ChangeKind = "user.delete"
	// GroupCreate creates a group (GroupAfter, without members: the
	// members of the POST follow as a GroupMembers change).
	GroupCreate ChangeKind = "group.create"
	// GroupRename changes a group's displayName (GroupBefore, GroupAfter).
	GroupRename ChangeKind = "group.rename"
	// GroupUpdate writes a group's attributes without renaming it.
	GroupUpdate ChangeKind = "group.update"
	// GroupDelete deletes a group (GroupBefore).
	GroupDelete ChangeKind = "group.delete"
	// GroupMembers adds members to a group or removes them (Added,
	// Removed): one Change per membership operation of the request.
	GroupMembers ChangeKind = "group.members"
)

// Change is one write the handler is about to commit, as Config.Admit sees
// it. Users and groups are copies: changing them changes nothing.
type Change struct {
	// Kind says what the write does.
	Kind ChangeKind
	// Tenant is the tenant written to; Connection, TokenID and Client say
	// who writes (the principal's connection, the token's id and the
	// identity provider recognised from the request, such as "okta").
	Tenant, Connection, TokenID, Client string
	// Before and After are the user before and after a user write (Before
	// nil for UserCreate, After nil for UserDelete).
	Before, After *store.User
	// GroupID names the group of a group write; GroupBefore and GroupAfter
	// are the group before and after it (without members).
	GroupID                 string
	GroupBefore, GroupAfter *store.Group
	// Added and Removed are the user ids a GroupMembers change adds and
	// removes: only the changes the store makes (members already in the
	// group, ids that are not provisioned users and members not in the
	// group are left out).
	Added, Removed []string
	// Request is the body of the request as the identity provider sent it
	// (a copy): the way to the attributes the app has not declared, which
	// the handler neither stores nor returns (see Config.Schema). nil for a
	// request without a body (DELETE) and for writes the app makes itself.
	Request []byte
}

// Activates reports whether the change makes a user active who was not:
// the creation of an active user, a reactivation, or a link that
// reactivates an inactive app user. A seat limit refuses these (linking
// an active app user takes no new seat).
func (c *Change) Activates() bool {
	return c.After != nil && c.After.Active() && (c.Before == nil || !c.Before.Active())
}

// NewValues returns the userName and email addresses of After that Before
// does not have (compared as userName is, under store.Fold): the values a
// rule on addresses (a tenant's verified domains) checks, so that a user
// whose old address breaks a newer rule can still be deactivated.
func (c *Change) NewValues() []string {
	if c.After == nil {
		return nil
	}
	old := map[string]bool{}
	if c.Before != nil {
		old[store.Fold(c.Before.UserName())] = true
		for _, e := range c.Before.Emails() {
			old[store.Fold(e)] = true
		}
	}
	var out []string
	for _, v := range append([]string{c.After.UserName()}, c.After.Emails()...) {
		if k := store.Fold(v); v != "" && !old[k] {
			old[k] = true
			out = append(out, v)
		}
	}
	return out
}

// admit asks Config.Admit about a change the transaction has just written.
// A refusal (*Error) rolls the request back and records a ChangeRefused
// event; any other error is internal.
func (tx *writeTx) admit(ctx context.Context, c Change) error {
	admit := tx.h.cfg.Admit
	if admit == nil {
		return nil
	}
	p := tx.r.principal
	c.Tenant, c.Connection, c.TokenID, c.Client = p.Tenant, p.connection(), p.TokenID, tx.r.client
	c.Before, c.After = copyUser(c.Before), copyUser(c.After)
	c.GroupBefore, c.GroupAfter = copyGroup(c.GroupBefore), copyGroup(c.GroupAfter)
	if len(tx.r.body) > 0 {
		c.Request = bytes.Clone(tx.r.body)
	}
	// The hook gets attributes of its own: the handler renders the user
	// from the same maps once the write commits.
	for _, u := range []*store.User{c.Before, c.After} {
		if u != nil && u.Attributes != nil {
			u.Attributes = patch.CopyObject(u.Attributes)
		}
	}
	for _, g := range []*store.Group{c.GroupBefore, c.GroupAfter} {
		if g != nil && g.Attributes != nil {
			g.Attributes = patch.CopyObject(g.Attributes)
		}
	}
	err := admit(ctx, tx.Tx, c)
	if err == nil {
		return nil
	}
	var se *Error
	if !errors.As(err, &se) {
		return &hookError{hook: "Config.Admit", err: err}
	}
	what := string(c.Kind)
	if c.Kind == GroupMembers {
		what = fmt.Sprintf("%s (%d added, %d removed)", c.Kind, len(c.Added), len(c.Removed))
	}
	e := store.Event{Type: store.ChangeRefused, UserID: userIDOf(&c), GroupID: c.GroupID,
		Before: c.Before, After: c.After, GroupBefore: c.GroupBefore, GroupAfter: c.GroupAfter,
		Members: append(slices.Clip(c.Added), c.Removed...), Detail: what + " refused: " + se.Detail}
	return &refusal{err: se, event: e}
}

// admitMembers asks Config.Admit about a membership write that changed
// anything.
func (tx *writeTx) admitMembers(ctx context.Context, groupID string, mc store.MemberChange) error {
	if !mc.Changed() {
		return nil
	}
	return tx.admit(ctx, Change{Kind: GroupMembers, GroupID: groupID, Added: mc.Added, Removed: mc.Removed})
}

func userIDOf(c *Change) string {
	switch {
	case c.After != nil:
		return c.After.ID
	case c.Before != nil:
		return c.Before.ID
	}
	return ""
}

// userChange returns the Change of a write of a user from before (nil for
// a new user) to after (nil for a deletion).
func userChange(before, after *store.User) Change {
	c := Change{Before: before, After: after}
	switch {
	case before == nil:
		c.Kind = UserCreate
	case after == nil:
		c.Kind = UserDelete
	case !before.Managed:
		c.Kind = UserLink
	case before.Active() && !after.Active():
		c.Kind = UserDeactivate
	case !before.Active() && after.Active():
		c.Kind = UserReactivate
	default:
		c.Kind = UserUpdate
	}
	return c
}

// groupChange returns the Change of a write of a group's attributes.
func groupChange(before, after *store.Group) Change {
	c := Change{GroupBefore: before, GroupAfter: after}
	switch {
	case before == nil:
		c.Kind, c.GroupID = GroupCreate, after.ID
	case after == nil:
		c.Kind, c.GroupID = GroupDelete, before.ID
	case before.DisplayName() != after.DisplayName():
		c.Kind, c.GroupID = GroupRename, after.ID
	default:
		c.Kind, c.GroupID = GroupUpdate, after.ID
	}
	return c
}

func copyUser(u *store.User) *store.User {
	if u == nil {
		return nil
	}
	c := *u
	return &c
}

func copyGroup(g *store.Group) *store.Group {
	if g == nil {
		return nil
	}
	c := *g
	c.Members = nil
	return &c
}

// hookError is an error of an app's hook that is not a SCIM error: the
// client gets 500 "internal error" and the log gets the text, whatever
// store error it wraps (a hook's failed read is not the request's 404).
// A context that ended and a store that is unavailable still answer 503.
type hookError struct {
	hook string
	err  error
}

func (e *hookError) Error() string { return "scim: " + e.hook + ": " + e.err.Error() }
func (e *hookError) Unwrap() error { return e.err }

// internalHookError reports whether err is a hook's error that must be
// answered as internal, rather than as the store error it may wrap.
func internalHookError(err error) bool {
	var he *hookError
	return errors.As(err, &he) && !errors.Is(err, store.ErrUnavailable) &&
		!errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled)
}

// resolve asks UserRules.Resolve for the existing user a POST adopts. It
// returns nil when the resolver chose none.
func (h *Handler) resolve(ctx context.Context, tx *writeTx, attrs store.Attributes) (*store.User, error) {
	if h.cfg.Users.Resolve == nil {
		return nil, nil
	}
	proposed := store.User{Attributes: patch.CopyObject(attrs)}
	id, err := h.cfg.Users.Resolve(ctx, tx.Tx, proposed)
	if err != nil {
		if _, ok := asError(err); ok {
			return nil, err
		}
		return nil, &hookError{hook: "UserRules.Resolve", err: err}
	}
	if id == "" {
		return nil, nil
	}
	u, err := tx.User(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &hookError{hook: "UserRules.Resolve",
			err: fmt.Errorf("chose user %q, which is not a user of tenant %q", id, tx.r.principal.Tenant)}
	}
	if err != nil {
		return nil, err
	}
	if u.Managed {
		return nil, &Error{Status: http.StatusConflict, ScimType: ScimTypeUniqueness,
			Detail: "the app matched this user to user " + u.ID + ", which is already provisioned"}
	}
	return &u, nil
}

// emailLike reports whether a userName looks like an email address, and
// so names the same person as an app user with that address.
func emailLike(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t")
}
