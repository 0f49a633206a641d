package scim

import (
	"context"
	"errors"

	"github.com/scimkit/scim/store"
)

// DeactivationRule says what deactivating a user does to the user's group
// memberships (UserRules.OnDeactivate).
type DeactivationRule int

const (
	// KeepGroups keeps a deactivated user in their groups: the app decides
	// what an inactive member may do.
	KeepGroups DeactivationRule = iota
	// LeaveGroups removes a deactivated user from every group, in the
	// same transaction as the deactivation, so that the project and team
	// roles the groups granted go too; each group gets a new version and a
	// MembersRemoved event. Reactivation restores nothing: the IdP pushes
	// the user's groups again.
	LeaveGroups
	// SuspendGroups is LeaveGroups, and reactivation puts the user back in
	// the groups they left that still exist (a MembersAdded event per
	// group). It needs a store whose Tx implements store.LeftGroupsRecorder
	// (store/memory, store/sql); with others it is LeaveGroups.
	SuspendGroups
)

// Details of the membership events of a deactivation or a reactivation.
const (
	leftOnDeactivate   = "the user was deactivated"
	rejoinOnReactivate = "the user was reactivated"
)

// followActive applies UserRules.OnDeactivate to a user write that
// changed active from before to after.
func (tx *writeTx) followActive(ctx context.Context, before, after *store.User) error {
	rule := tx.h.cfg.Users.OnDeactivate
	switch {
	case rule == KeepGroups || before.Active() == after.Active():
		return nil
	case !after.Active():
		return tx.leaveGroups(ctx, after.ID, rule == SuspendGroups)
	case rule == SuspendGroups:
		return tx.rejoinGroups(ctx, after)
	}
	return nil
}

// leaveGroups removes the user from every group, and remembers the groups
// when remember is set and the store can.
func (tx *writeTx) leaveGroups(ctx context.Context, userID string, remember bool) error {
	refs, err := tx.GroupsOf(ctx, userID)
	if err != nil {
		return err
	}
	now := tx.h.cfg.Now().UTC()
	left := make([]string, 0, len(refs))
	for _, g := range refs {
		c, err := tx.RemoveMembers(ctx, g.ID, []string{userID}, now)
		if err != nil {
			return err
		}
		if len(c.Removed) > 0 {
			left = append(left, g.ID)
			tx.emit(store.Event{Type: store.MembersRemoved, GroupID: g.ID, UserID: userID, Members: c.Removed, Detail: leftOnDeactivate})
		}
	}
	if rec, ok := powerOf[store.LeftGroupsRecorder](tx.Tx); ok && remember {
		return rec.RecordLeftGroups(ctx, userID, left)
	}
	return nil
}

// rejoinGroups puts a reactivated user back in the groups remembered when
// they were deactivated, skipping those deleted since, and forgets them.
// The member's display is the user's displayName, else userName.
func (tx *writeTx) rejoinGroups(ctx context.Context, u *store.User) error {
	rec, ok := powerOf[store.LeftGroupsRecorder](tx.Tx)
	if !ok {
		return nil
	}
	ids, err := rec.LeftGroups(ctx, u.ID)
	if err != nil || len(ids) == 0 {
		return err
	}
	display, _ := u.Attributes["displayName"].(string)
	if display == "" {
		display = u.UserName()
	}
	now := tx.h.cfg.Now().UTC()
	for _, id := range ids {
		c, err := tx.AddMembers(ctx, id, []store.Member{{Value: u.ID, Display: display}}, now)
		switch {
		case errors.Is(err, store.ErrNotFound):
			continue // deleted while the user was away
		case err != nil:
			return err
		}
		if len(c.Added) > 0 {
			tx.emit(store.Event{Type: store.MembersAdded, GroupID: id, UserID: u.ID, Members: c.Added, Detail: rejoinOnReactivate})
		}
	}
	return rec.RecordLeftGroups(ctx, u.ID, nil)
}
