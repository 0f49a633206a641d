package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/scimkit/scim/store"
)

// tx is the store.Tx of Update. Every write checks everything that can fail
// before it changes anything, then records the inverse of each change in
// undo.
type tx struct {
	reader
	undo []func()
}

func (x *tx) onRollback(f func()) { x.undo = append(x.undo, f) }

func (x *tx) rollback() {
	for i := len(x.undo) - 1; i >= 0; i-- {
		x.undo[i]()
	}
	x.undo = nil
}

func conflict(format string, args ...any) error {
	return fmt.Errorf("memory: "+format+": %w", append(args, store.ErrConflict)...)
}

func versionMismatch(kind, id string, got, stored int64) error {
	return fmt.Errorf("memory: %s %q has version %d, not %d: %w", kind, id, stored, got, store.ErrVersionMismatch)
}

func (x *tx) CreateUser(ctx context.Context, u *store.User) error {
	if err := x.check(ctx); err != nil {
		return err
	}
	t := x.t
	if _, ok := t.users[u.ID]; ok {
		return conflict("user id %q exists", u.ID)
	}
	d, err := newUserData(u)
	if err != nil {
		return err
	}
	if d.userName != "" && t.userByName[fold(d.userName)] != nil {
		return conflict("userName %q is taken", d.userName)
	}
	d.meta.Version = 1
	t.seq++
	rec := &userRec{seq: t.seq, id: u.ID, userData: d}
	t.linkUser(rec)
	x.onRollback(func() { t.unlinkUser(rec) })
	u.Meta.Version = 1
	return nil
}

func (x *tx) UpdateUser(ctx context.Context, u *store.User) error {
	if err := x.check(ctx); err != nil {
		return err
	}
	t := x.t
	rec := t.users[u.ID]
	if rec == nil {
		return notFound("user", u.ID)
	}
	if rec.meta.Version != u.Meta.Version {
		return versionMismatch("user", u.ID, u.Meta.Version, rec.meta.Version)
	}
	d, err := newUserData(u)
	if err != nil {
		return err
	}
	if other := t.userByName[fold(d.userName)]; d.userName != "" && other != nil && other != rec {
		return conflict("userName %q is taken", d.userName)
	}
	d.meta = store.Meta{Created: rec.meta.Created, LastModified: u.Meta.LastModified, Version: rec.meta.Version + 1}
	old := rec.userData
	t.setUserData(rec, d)
	x.onRollback(func() { t.setUserData(rec, old) })
	u.Meta.Version = d.meta.Version
	return nil
}

func (x *tx) DeleteUser(ctx context.Context, id string) error {
	if err := x.check(ctx); err != nil {
		return err
	}
	t := x.t
	rec := t.users[id]
	if rec == nil {
		return notFound("user", id)
	}
	for g := range rec.groups {
		display, oldMeta := g.members[rec], g.meta
		delete(g.members, rec)
		g.meta.Version++
		x.onRollback(func() {
			g.members[rec] = display
			g.meta = oldMeta
		})
	}
	groups := rec.groups
	rec.groups = nil
	t.unlinkUser(rec)
	restoreOnRollback(x, t.leftGroups, id)
	delete(t.leftGroups, id)
	x.onRollback(func() {
		t.linkUser(rec)
		rec.groups = groups
	})
	return nil
}

func (x *tx) CreateGroup(ctx context.Context, g *store.Group) error {
	if err := x.check(ctx); err != nil {
		return err
	}
	t := x.t
	if _, ok := t.groups[g.ID]; ok {
		return conflict("group id %q exists", g.ID)
	}
	d, err := newGroupData(g)
	if err != nil {
		return err
	}
	if d.displayName != "" && t.groupByName[fold(d.displayName)] != nil {
		return conflict("displayName %q is taken", d.displayName)
	}
	d.meta.Version = 1
	t.seq++
	rec := &groupRec{seq: t.seq, id: g.ID, appOwned: g.AppOwned, groupData: d, members: map[*userRec]string{}}
	t.linkGroup(rec)
	x.onRollback(func() { t.unlinkGroup(rec) })
	g.Meta.Version = 1
	return nil
}

func (x *tx) UpdateGroup(ctx context.Context, g *store.Group) error {
	if err := x.check(ctx); err != nil {
		return err
	}
	t := x.t
	rec := t.groups[g.ID]
	if rec == nil {
		return notFound("group", g.ID)
	}
	if rec.meta.Version != g.Meta.Version {
		return versionMismatch("group", g.ID, g.Meta.Version, rec.meta.Version)
	}
	d, err := newGroupData(g)
	if err != nil {
		return err
	}
	if other := t.groupByName[fold(d.displayName)]; d.displayName != "" && other != nil && other != rec {
		return conflict("displayName %q is taken", d.displayName)
	}
	d.meta = store.Meta{Created: rec.meta.Created, LastModified: g.Meta.LastModified, Version: rec.meta.Version + 1}
	old := rec.groupData
	t.unindexGroup(rec)
	rec.groupData = d
	t.indexGroup(rec)
	x.onRollback(func() {
		t.unindexGroup(rec)
		rec.groupData = old
		t.indexGroup(rec)
	})
	g.Meta.Version = d.meta.Version
	return nil
}

func (x *tx) DeleteGroup(ctx context.Context, id string) error {
	if err := x.check(ctx); err != nil {
		return err
	}
	t := x.t
	rec := t.groups[id]
	if rec == nil {
		return notFound("group", id)
	}
	// rec.members stays as it is, for the roll-back.
	for u := range rec.members {
		delete(u.groups, rec)
	}
	t.unlinkGroup(rec)
	x.onRollback(func() {
		t.linkGroup(rec)
		for u := range rec.members {
			u.join(rec)
		}
	})
	return nil
}

func (u *userRec) join(g *groupRec) {
	if u.groups == nil {
		u.groups = map[*groupRec]struct{}{}
	}
	u.groups[g] = struct{}{}
}

// addMember and removeMember change one membership, both ways, with undo.
func (x *tx) addMember(g *groupRec, u *userRec, display string) {
	g.members[u] = display
	u.join(g)
	x.onRollback(func() {
		delete(g.members, u)
		delete(u.groups, g)
	})
}

func (x *tx) removeMember(g *groupRec, u *userRec) {
	display := g.members[u]
	delete(g.members, u)
	delete(u.groups, g)
	x.onRollback(func() {
		g.members[u] = display
		u.join(g)
	})
}

// touch gives the group a new version and lastModified when c changed it.
func (x *tx) touch(g *groupRec, c store.MemberChange, at time.Time) {
	if !c.Changed() {
		return
	}
	old := g.meta
	g.meta.Version++
	g.meta.LastModified = at
	x.onRollback(func() { g.meta = old })
}

func (x *tx) AddMembers(ctx context.Context, groupID string, members []store.Member, at time.Time) (store.MemberChange, error) {
	var c store.MemberChange
	if err := x.check(ctx); err != nil {
		return c, err
	}
	g := x.t.groups[groupID]
	if g == nil {
		return c, notFound("group", groupID)
	}
	for _, m := range members {
		u := x.t.users[m.Value]
		switch {
		case u == nil:
			c.Skipped = append(c.Skipped, m.Value)
		case g.hasMember(u):
			c.Unchanged = append(c.Unchanged, m.Value)
		default:
			x.addMember(g, u, m.Display)
			c.Added = append(c.Added, m.Value)
		}
	}
	x.touch(g, c, at)
	return c, nil
}

func (g *groupRec) hasMember(u *userRec) bool {
	_, ok := g.members[u]
	return ok
}

// RemoveMembers reports ids that are not users of the tenant in NotMembers,
// like users that are not members.
func (x *tx) RemoveMembers(ctx context.Context, groupID string, userIDs []string, at time.Time) (store.MemberChange, error) {
	var c store.MemberChange
	if err := x.check(ctx); err != nil {
		return c, err
	}
	g := x.t.groups[groupID]
	if g == nil {
		return c, notFound("group", groupID)
	}
	for _, id := range userIDs {
		if u := x.t.users[id]; u != nil && g.hasMember(u) {
			x.removeMember(g, u)
			c.Removed = append(c.Removed, id)
		} else {
			c.NotMembers = append(c.NotMembers, id)
		}
	}
	x.touch(g, c, at)
	return c, nil
}

// ReplaceMembers reports members kept in Unchanged, and the removed ones in
// Removed ordered by id.
func (x *tx) ReplaceMembers(ctx context.Context, groupID string, members []store.Member, at time.Time) (store.MemberChange, error) {
	var c store.MemberChange
	if err := x.check(ctx); err != nil {
		return c, err
	}
	g := x.t.groups[groupID]
	if g == nil {
		return c, notFound("group", groupID)
	}
	keep := make(map[*userRec]bool, len(members))
	for _, m := range members {
		if u := x.t.users[m.Value]; u == nil {
			c.Skipped = append(c.Skipped, m.Value)
		} else {
			keep[u] = true
		}
	}
	var gone []*userRec
	for u := range g.members {
		if !keep[u] {
			gone = append(gone, u)
		}
	}
	slices.SortFunc(gone, func(a, b *userRec) int { return strings.Compare(a.id, b.id) })
	for _, u := range gone {
		x.removeMember(g, u)
		c.Removed = append(c.Removed, u.id)
	}
	for _, m := range members {
		u := x.t.users[m.Value]
		switch {
		case u == nil:
		case g.hasMember(u):
			c.Unchanged = append(c.Unchanged, m.Value)
		default:
			x.addMember(g, u, m.Display)
			c.Added = append(c.Added, m.Value)
		}
	}
	x.touch(g, c, at)
	return c, nil
}
