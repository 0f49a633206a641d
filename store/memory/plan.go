package memory

import (
	"cmp"
	"slices"

	"github.com/scimkit/scim/store"
)

// Index use. A candidates function returns, when ok, a superset of the
// resources matching f, in creation order; the caller still evaluates f on
// each. ok is false when f holds no indexed clause the caller could rely
// on, and the caller scans.

var (
	pathID          = store.Path{Name: "id"}
	pathUserName    = store.Path{Name: "userName"}
	pathExternalID  = store.Path{Name: "externalId"}
	pathDisplayName = store.Path{Name: "displayName"}
	pathEmails      = store.Path{Name: "emails"}
	pathEmailValue  = store.Path{Name: "emails", Sub: "value"}
	pathMembers     = store.Path{Name: "members"}
	pathMemberValue = store.Path{Name: "members", Sub: "value"}
	pathValue       = store.Path{Name: "value"}
)

// eqString returns the string an eq clause compares with.
func eqString(c store.Compare) (string, bool) {
	if c.Op != store.Eq {
		return "", false
	}
	s, ok := c.Value.(string)
	return s, ok
}

// valueEq finds, in the filter of a value path, an eq on "value" that every
// match must satisfy: the filter itself or a clause of an And.
func valueEq(f store.Filter) (store.Compare, bool) {
	switch f := f.(type) {
	case store.Compare:
		if _, ok := eqString(f); ok && f.Path == pathValue {
			return f, true
		}
	case store.And:
		if c, ok := valueEq(f.Left); ok {
			return c, true
		}
		return valueEq(f.Right)
	}
	return store.Compare{}, false
}

// combine merges the candidates of the two sides of an And or an Or.
func combine[T seqer](f store.Filter, cands func(store.Filter) ([]T, bool)) ([]T, bool) {
	switch f := f.(type) {
	case store.And:
		l, lok := cands(f.Left)
		r, rok := cands(f.Right)
		switch {
		case lok && rok && len(r) < len(l):
			return r, true
		case lok:
			return l, true
		}
		return r, rok
	case store.Or:
		l, lok := cands(f.Left)
		if !lok {
			return nil, false
		}
		r, rok := cands(f.Right)
		if !rok {
			return nil, false
		}
		out := append(slices.Clip(l), r...)
		slices.SortFunc(out, func(a, b T) int { return cmp.Compare(a.seqNo(), b.seqNo()) })
		return slices.Compact(out), true
	}
	return nil, false
}

// inOrder returns recs sorted by creation, copied so that the index is
// never reordered.
func inOrder[T seqer](recs []T) []T {
	if len(recs) <= 1 {
		return recs
	}
	out := slices.Clone(recs)
	slices.SortFunc(out, func(a, b T) int { return cmp.Compare(a.seqNo(), b.seqNo()) })
	return out
}

func one[T any](rec T, ok bool) []T {
	if !ok {
		return nil
	}
	return []T{rec}
}

// exactIDs reports whether f is only case-exact eq clauses on id joined by
// or: the candidates the id index gives for it are exactly its matches, so
// evaluating f on each (a hundred clauses on each of a hundred users, for a
// membership batch) can be skipped.
func exactIDs(f store.Filter) bool {
	switch f := f.(type) {
	case store.Compare:
		_, ok := eqString(f)
		return ok && f.Path == pathID && f.CaseExact
	case store.Or:
		return exactIDs(f.Left) && exactIDs(f.Right)
	}
	return false
}

func (t *tenant) userCandidates(f store.Filter) ([]*userRec, bool) {
	switch f := f.(type) {
	case store.Compare:
		s, ok := eqString(f)
		if !ok {
			return nil, false
		}
		switch f.Path {
		case pathID:
			if f.CaseExact { // ids are not indexed case-insensitively
				u, found := t.users[s]
				return one(u, found), true
			}
		case pathUserName:
			u, found := t.userByName[fold(s)]
			return one(u, found), true
		case pathExternalID:
			return inOrder(t.usersByExt[fold(s)]), true
		case pathEmailValue:
			return inOrder(t.usersByMail[fold(s)]), true
		}
	case store.ValuePath:
		if f.Path == pathEmails {
			if c, ok := valueEq(f.Filter); ok {
				return inOrder(t.usersByMail[fold(c.Value.(string))]), true
			}
		}
	case store.And, store.Or:
		return combine(f, t.userCandidates)
	}
	return nil, false
}

func (t *tenant) groupCandidates(f store.Filter) ([]*groupRec, bool) {
	switch f := f.(type) {
	case store.Compare:
		s, ok := eqString(f)
		if !ok {
			return nil, false
		}
		switch f.Path {
		case pathID:
			if f.CaseExact {
				g, found := t.groups[s]
				return one(g, found), true
			}
		case pathDisplayName:
			g, found := t.groupByName[fold(s)]
			return one(g, found), true
		case pathExternalID:
			return inOrder(t.groupsByExt[fold(s)]), true
		case pathMemberValue:
			if f.CaseExact {
				return t.groupsOf(s), true
			}
		}
	case store.ValuePath:
		if f.Path == pathMembers {
			if c, ok := valueEq(f.Filter); ok && c.CaseExact {
				return t.groupsOf(c.Value.(string)), true
			}
		}
	case store.And, store.Or:
		return combine(f, t.groupCandidates)
	}
	return nil, false
}

// groupsOf returns the groups the user with the given id belongs to, in
// creation order.
func (t *tenant) groupsOf(userID string) []*groupRec {
	u := t.users[userID]
	if u == nil {
		return nil
	}
	out := make([]*groupRec, 0, len(u.groups))
	for g := range u.groups {
		out = append(out, g)
	}
	return inOrder(out)
}

// matchGroup is store.Eval(f, g.resolver()), except that a case-exact eq or
// ne on members.value, and members[value eq …], are answered from the
// membership index in constant time instead of listing the members.
func (t *tenant) matchGroup(f store.Filter, g *groupRec) bool {
	switch f := f.(type) {
	case nil:
		return true
	case store.And:
		return t.matchGroup(f.Left, g) && t.matchGroup(f.Right, g)
	case store.Or:
		return t.matchGroup(f.Left, g) || t.matchGroup(f.Right, g)
	case store.Not:
		return !t.matchGroup(f.Filter, g)
	case store.Compare:
		if s, ok := f.Value.(string); ok && f.CaseExact && f.Path == pathMemberValue && (f.Op == store.Eq || f.Op == store.Ne) {
			return t.isMember(g, s) == (f.Op == store.Eq)
		}
	case store.ValuePath:
		if c, ok := f.Filter.(store.Compare); ok && f.Path == pathMembers && c.Path == pathValue && c.CaseExact {
			if s, ok := eqString(c); ok {
				return t.isMember(g, s)
			}
		}
	}
	return store.Eval(f, g.resolver())
}

func (t *tenant) isMember(g *groupRec, userID string) bool {
	u := t.users[userID]
	if u == nil {
		return false
	}
	_, ok := g.members[u]
	return ok
}
