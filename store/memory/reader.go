package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/scimkit/scim/store"
)

var _ store.UnmanagedEmailFinder = (*reader)(nil)

// reader is the store.Reader of View, and the read half of tx. The caller
// holds the tenant's lock for as long as closed is false.
type reader struct {
	t      *tenant
	closed atomic.Bool
}

// check is called first by every method: the Reader must be open, and
// ctx not ended (a request past its deadline stops at its next store
// call).
func (r *reader) check(ctx context.Context) error {
	if r.closed.Load() {
		return errClosed
	}
	return ctx.Err()
}

func notFound(kind, id string) error {
	return fmt.Errorf("memory: %s %q: %w", kind, id, store.ErrNotFound)
}

func (r *reader) User(ctx context.Context, id string) (store.User, error) {
	if err := r.check(ctx); err != nil {
		return store.User{}, err
	}
	u := r.t.users[id]
	if u == nil {
		return store.User{}, notFound("user", id)
	}
	return u.user(), nil
}

// RawUser implements store.RawUserReader: a user's attributes are kept as
// the bytes json.Marshal wrote, replaced on a change, never modified.
func (r *reader) RawUser(ctx context.Context, id string) (store.User, []byte, error) {
	if err := r.check(ctx); err != nil {
		return store.User{}, nil, err
	}
	u := r.t.users[id]
	if u == nil {
		return store.User{}, nil, notFound("user", id)
	}
	return u.userWithoutAttrs(), u.attrs, nil
}

func (r *reader) UserByUserName(ctx context.Context, userName string) (store.User, error) {
	if err := r.check(ctx); err != nil {
		return store.User{}, err
	}
	u := r.t.userByName[fold(userName)]
	if u == nil || userName == "" {
		return store.User{}, notFound("userName", userName)
	}
	return u.user(), nil
}

func (r *reader) Group(ctx context.Context, id string, withMembers bool) (store.Group, error) {
	if err := r.check(ctx); err != nil {
		return store.Group{}, err
	}
	g := r.t.groups[id]
	if g == nil {
		return store.Group{}, notFound("group", id)
	}
	return g.group(withMembers), nil
}

func (r *reader) GroupsOf(ctx context.Context, userID string) ([]store.GroupRef, error) {
	if err := r.check(ctx); err != nil {
		return nil, err
	}
	out := []store.GroupRef{}
	if u := r.t.users[userID]; u != nil {
		for g := range u.groups {
			out = append(out, store.GroupRef{ID: g.id, DisplayName: g.displayName})
		}
	}
	slices.SortFunc(out, func(a, b store.GroupRef) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func (r *reader) ListUsers(ctx context.Context, q store.Query) (store.UserPage, error) {
	if err := r.check(ctx); err != nil {
		return store.UserPage{}, err
	}
	page, total, err := r.listUsers(ctx, q)
	if err != nil {
		return store.UserPage{}, err
	}
	out := store.UserPage{Total: total, Users: make([]store.User, len(page))}
	for i, u := range page {
		out.Users[i] = u.user()
	}
	return out, nil
}

// ListRawUsers implements store.RawUserLister (see RawUser).
func (r *reader) ListRawUsers(ctx context.Context, q store.Query) (store.UserPage, [][]byte, error) {
	if err := r.check(ctx); err != nil {
		return store.UserPage{}, nil, err
	}
	page, total, err := r.listUsers(ctx, q)
	if err != nil {
		return store.UserPage{}, nil, err
	}
	out := store.UserPage{Total: total, Users: make([]store.User, len(page))}
	raw := make([][]byte, len(page))
	for i, u := range page {
		out.Users[i], raw[i] = u.userWithoutAttrs(), u.attrs
	}
	return out, raw, nil
}

// ctxEvery is how many resources a scan looks at between two checks of
// its context.
const ctxEvery = 1024

// listUsers returns the page of users q asks for and the number of users
// it matches. A scan stops with ctx's error when ctx ends.
func (r *reader) listUsers(ctx context.Context, q store.Query) ([]*userRec, int, error) {
	t := r.t
	order := t.userOrder
	if q.ManagedOnly {
		order = t.managedOrder
	}
	var matches []*userRec
	if q.Filter == nil && q.SortBy.IsZero() {
		matches = order // paged below without a copy
	} else {
		src := order
		exact := false
		if cands, ok := t.userCandidates(q.Filter); ok {
			src, exact = cands, exactIDs(q.Filter)
		}
		for i, u := range src {
			if i%ctxEvery == ctxEvery-1 {
				if err := ctx.Err(); err != nil {
					return nil, 0, err
				}
			}
			if q.ManagedOnly && !u.managed {
				continue // before the resolver: never decoded
			}
			if exact || store.Eval(q.Filter, u.resolver()) {
				matches = append(matches, u)
			}
		}
		if !q.SortBy.IsZero() {
			sortBy(matches, (*userRec).resolver, q.SortBy, q.Descending)
		}
	}
	return window(matches, q.Offset, q.Limit), len(matches), nil
}

// UnmanagedUserByEmail implements store.UnmanagedEmailFinder from the
// index of the unmanaged users' emails.
func (r *reader) UnmanagedUserByEmail(ctx context.Context, emails []string) (store.User, error) {
	if err := r.check(ctx); err != nil {
		return store.User{}, err
	}
	for i, e := range emails {
		if i%ctxEvery == ctxEvery-1 {
			if err := ctx.Err(); err != nil {
				return store.User{}, err
			}
		}
		var first *userRec
		for _, u := range r.t.unmanagedByMail[fold(e)] {
			if first == nil || u.seq < first.seq {
				first = u
			}
		}
		if first != nil {
			return first.user(), nil
		}
	}
	return store.User{}, fmt.Errorf("memory: no unmanaged user with one of %d emails: %w", len(emails), store.ErrNotFound)
}

func (r *reader) ListGroups(ctx context.Context, q store.Query) (store.GroupPage, error) {
	if err := r.check(ctx); err != nil {
		return store.GroupPage{}, err
	}
	t := r.t
	var matches []*groupRec
	if q.Filter == nil && q.SortBy.IsZero() {
		matches = t.groupOrder
	} else {
		src := t.groupOrder
		if cands, ok := t.groupCandidates(q.Filter); ok {
			src = cands
		}
		for _, g := range src {
			if t.matchGroup(q.Filter, g) {
				matches = append(matches, g)
			}
		}
		if !q.SortBy.IsZero() {
			sortBy(matches, (*groupRec).resolver, q.SortBy, q.Descending)
		}
	}
	page := window(matches, q.Offset, q.Limit)
	out := store.GroupPage{Total: len(matches), Groups: make([]store.Group, len(page))}
	for i, g := range page {
		out.Groups[i] = g.group(q.WithMembers)
	}
	return out, nil
}

// window returns the page of s at offset, at most limit long.
func window[T any](s []T, offset, limit int) []T {
	offset = min(max(offset, 0), len(s))
	limit = min(max(limit, 0), len(s)-offset)
	return s[offset : offset+limit]
}

// sortBy sorts recs, which are in stable order, as Query.SortBy says:
// missing values last when ascending and first when descending, ties in
// stable order.
func sortBy[T any](recs []T, resolver func(T) store.Resolver, by store.Path, desc bool) {
	type keyed struct {
		rec T
		key any
		ok  bool
	}
	ks := make([]keyed, len(recs))
	for i, rec := range recs {
		k, ok := store.SortKey(resolver(rec), by)
		ks[i] = keyed{rec, k, ok}
	}
	missing := 1 // where a resource without a value goes relative to one with
	if desc {
		missing = -1
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		switch {
		case !a.ok && !b.ok:
			return 0
		case !a.ok:
			return missing
		case !b.ok:
			return -missing
		}
		c := store.CompareSortKeys(a.key, b.key, false)
		if desc {
			return -c
		}
		return c
	})
	for i := range ks {
		recs[i] = ks[i].rec
	}
}
