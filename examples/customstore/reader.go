package main

import (
	"context"
	"database/sql"
	"slices"

	"github.com/scimkit/scim/store"
)

// reader is the store.Reader of View, and the read half of tx.
type reader struct {
	tx  *sql.Tx
	org string
}

const userColumns = `a.id, a.email, a.full_name, a.role, a.active, a.created_at, a.updated_at,
	a.scim_doc, a.scim_managed, a.scim_connection, a.scim_linked, a.version`

const teamColumns = `t.id, t.name, t.created_at, t.updated_at, t.scim_doc, t.version`

type scanner interface{ Scan(dest ...any) error }

// scanUser reads one row of userColumns.
func scanUser(row scanner) (store.User, error) {
	var (
		u                 store.User
		app               appAccount
		created, modified string
		doc               sql.NullString
		managed, linked   bool
		connection        string
	)
	err := row.Scan(&u.ID, &app.email, &app.fullName, &app.role, &app.active, &created, &modified,
		&doc, &managed, &connection, &linked, &u.Meta.Version)
	if err != nil {
		return u, err
	}
	if u.Meta.Created, err = parseTime(created); err != nil {
		return u, err
	}
	if u.Meta.LastModified, err = parseTime(modified); err != nil {
		return u, err
	}
	if doc.Valid {
		if u.Attributes, err = decodeDoc(doc.String); err != nil {
			return u, err
		}
	} else {
		u.Attributes = appOnlyUser(app)
	}
	// The role is the app's column: a change the app makes shows here.
	u.Role, u.Managed, u.ManagedBy, u.Linked = app.role, managed, connection, linked
	return u, nil
}

func scanTeam(row scanner) (store.Group, error) {
	var (
		g                 store.Group
		name              string
		created, modified string
		doc               sql.NullString
	)
	if err := row.Scan(&g.ID, &name, &created, &modified, &doc, &g.Meta.Version); err != nil {
		return g, err
	}
	var err error
	if g.Meta.Created, err = parseTime(created); err != nil {
		return g, err
	}
	if g.Meta.LastModified, err = parseTime(modified); err != nil {
		return g, err
	}
	if doc.Valid {
		g.Attributes, err = decodeDoc(doc.String)
	} else {
		g.Attributes = store.Attributes{"displayName": name}
	}
	return g, err
}

// queryUsers returns the users of the org matching the SQL condition where
// (over alias a), in the default order: creation, then id. page is "" or a
// LIMIT clause.
func (r *reader) queryUsers(ctx context.Context, where, page string, args ...any) ([]store.User, error) {
	rows, err := r.tx.QueryContext(ctx, `SELECT `+userColumns+` FROM accounts a
		WHERE a.org_id = ? AND (`+where+`) ORDER BY a.created_at, a.id `+page, append([]any{r.org}, args...)...)
	if err != nil {
		return nil, dbErr("select accounts", err)
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, dbErr("scan accounts", err)
		}
		out = append(out, u)
	}
	return out, dbErr2("select accounts", rows.Err())
}

// queryTeams is queryUsers for teams (alias t).
func (r *reader) queryTeams(ctx context.Context, where, page string, args ...any) ([]store.Group, error) {
	rows, err := r.tx.QueryContext(ctx, `SELECT `+teamColumns+` FROM teams t
		WHERE t.org_id = ? AND (`+where+`) ORDER BY t.created_at, t.id `+page, append([]any{r.org}, args...)...)
	if err != nil {
		return nil, dbErr("select teams", err)
	}
	defer rows.Close()
	var out []store.Group
	for rows.Next() {
		g, err := scanTeam(rows)
		if err != nil {
			return nil, dbErr("scan teams", err)
		}
		out = append(out, g)
	}
	return out, dbErr2("select teams", rows.Err())
}

// dbErr2 is dbErr that lets nil through.
func dbErr2(op string, err error) error {
	if err == nil {
		return nil
	}
	return dbErr(op, err)
}

func (r *reader) User(ctx context.Context, id string) (store.User, error) {
	users, err := r.queryUsers(ctx, `a.id = ?`, "", id)
	if err != nil {
		return store.User{}, err
	}
	if len(users) == 0 {
		return store.User{}, notFound("user", id)
	}
	return users[0], nil
}

// byUserName is the condition that selects the candidates for a userName:
// the indexed SCIM accounts with its fold, and the app's own accounts.
const byUserName = `a.scim_username_fold = ? OR a.scim_doc IS NULL`

func (r *reader) UserByUserName(ctx context.Context, userName string) (store.User, error) {
	if userName != "" {
		users, err := r.queryUsers(ctx, byUserName, "", fold(userName))
		if err != nil {
			return store.User{}, err
		}
		for _, u := range users {
			if fold(u.UserName()) == fold(userName) {
				return u, nil
			}
		}
	}
	return store.User{}, notFound("userName", userName)
}

// ListUsers pushes the cheap conditions down into SQL (see userCondition),
// evaluates the whole filter with store.Eval on the rows that come back,
// and sorts and pages in Go. Only an unfiltered list in the default order
// pages in SQL.
func (r *reader) ListUsers(ctx context.Context, q store.Query) (store.UserPage, error) {
	where, args := "1", []any(nil)
	if q.ManagedOnly {
		where = "a.scim_managed = 1"
	}
	if q.Filter == nil && q.SortBy.IsZero() {
		total, err := r.count(ctx, `SELECT count(*) FROM accounts a WHERE a.org_id = ? AND `+where)
		if err != nil || q.Limit <= 0 {
			return store.UserPage{Total: total, Users: []store.User{}}, err
		}
		users, err := r.queryUsers(ctx, where, "LIMIT ? OFFSET ?", q.Limit, max(q.Offset, 0))
		return store.UserPage{Total: total, Users: orEmpty(users)}, err
	}
	if c, cargs, ok := userCondition(q.Filter); ok {
		where, args = where+" AND ("+c+")", cargs
	}
	candidates, err := r.queryUsers(ctx, where, "", args...)
	if err != nil {
		return store.UserPage{}, err
	}
	var matches []store.User
	for i := range candidates {
		if store.Eval(q.Filter, candidates[i].Resolve) {
			matches = append(matches, candidates[i])
		}
	}
	if !q.SortBy.IsZero() {
		sortBy(matches, func(u *store.User) store.Resolver { return u.Resolve }, q.SortBy, q.Descending)
	}
	return store.UserPage{Total: len(matches), Users: orEmpty(window(matches, q.Offset, q.Limit))}, nil
}

func (r *reader) count(ctx context.Context, query string, args ...any) (int, error) {
	var n int
	err := r.tx.QueryRowContext(ctx, query, append([]any{r.org}, args...)...).Scan(&n)
	return n, dbErr2("count", err)
}

func (r *reader) Group(ctx context.Context, id string, withMembers bool) (store.Group, error) {
	teams, err := r.queryTeams(ctx, `t.id = ?`, "", id)
	if err != nil {
		return store.Group{}, err
	}
	if len(teams) == 0 {
		return store.Group{}, notFound("group", id)
	}
	g := teams[0]
	if withMembers {
		g.Members, err = r.members(ctx, g.ID)
	}
	return g, err
}

// members lists a team's members ordered by account id; it is the only read
// whose cost grows with the size of a team.
func (r *reader) members(ctx context.Context, teamID string) ([]store.Member, error) {
	rows, err := r.tx.QueryContext(ctx, `SELECT account_id, scim_display FROM team_members
		WHERE team_id = ? ORDER BY account_id`, teamID)
	if err != nil {
		return nil, dbErr("select team_members", err)
	}
	defer rows.Close()
	out := []store.Member{}
	for rows.Next() {
		var m store.Member
		if err := rows.Scan(&m.Value, &m.Display); err != nil {
			return nil, dbErr("scan team_members", err)
		}
		out = append(out, m)
	}
	return out, dbErr2("select team_members", rows.Err())
}

// ListGroups works as ListUsers. Members are read only for the groups
// returned with WithMembers, and for the candidates of a filter or sort
// that names members.
func (r *reader) ListGroups(ctx context.Context, q store.Query) (store.GroupPage, error) {
	var page []store.Group
	var total int
	if q.Filter == nil && q.SortBy.IsZero() {
		var err error
		if total, err = r.count(ctx, `SELECT count(*) FROM teams t WHERE t.org_id = ?`); err != nil {
			return store.GroupPage{}, err
		}
		if q.Limit > 0 {
			if page, err = r.queryTeams(ctx, "1", "LIMIT ? OFFSET ?", q.Limit, max(q.Offset, 0)); err != nil {
				return store.GroupPage{}, err
			}
		}
	} else {
		where, args := "1", []any(nil)
		if c, cargs, ok := teamCondition(q.Filter); ok {
			where, args = c, cargs
		}
		candidates, err := r.queryTeams(ctx, where, "", args...)
		if err != nil {
			return store.GroupPage{}, err
		}
		loadMembers := mentionsMembers(q.Filter) || q.SortBy.Name == "members"
		var matches []store.Group
		for i := range candidates {
			g := &candidates[i]
			if loadMembers {
				if g.Members, err = r.members(ctx, g.ID); err != nil {
					return store.GroupPage{}, err
				}
			}
			if store.Eval(q.Filter, g.Resolve) {
				matches = append(matches, *g)
			}
		}
		if !q.SortBy.IsZero() {
			sortBy(matches, func(g *store.Group) store.Resolver { return g.Resolve }, q.SortBy, q.Descending)
		}
		total, page = len(matches), window(matches, q.Offset, q.Limit)
	}
	for i := range page {
		page[i].Members = nil
		if q.WithMembers {
			var err error
			if page[i].Members, err = r.members(ctx, page[i].ID); err != nil {
				return store.GroupPage{}, err
			}
		}
	}
	return store.GroupPage{Total: total, Groups: orEmpty(page)}, nil
}

func (r *reader) GroupsOf(ctx context.Context, userID string) ([]store.GroupRef, error) {
	rows, err := r.tx.QueryContext(ctx, `SELECT t.id, t.name FROM team_members m JOIN teams t ON t.id = m.team_id
		WHERE m.account_id = ? AND t.org_id = ? ORDER BY t.id`, userID, r.org)
	if err != nil {
		return nil, dbErr("select groups of", err)
	}
	defer rows.Close()
	out := []store.GroupRef{}
	for rows.Next() {
		var ref store.GroupRef
		if err := rows.Scan(&ref.ID, &ref.DisplayName); err != nil {
			return nil, dbErr("scan groups of", err)
		}
		out = append(out, ref)
	}
	return out, dbErr2("select groups of", rows.Err())
}

// Filter pushdown. A condition is a superset of the matches of a filter:
// the caller still evaluates the filter with store.Eval on every row it
// selects. ok is false when the filter holds no clause worth pushing down.

var (
	pathID          = store.Path{Name: "id"}
	pathUserName    = store.Path{Name: "userName"}
	pathDisplayName = store.Path{Name: "displayName"}
	pathEmails      = store.Path{Name: "emails"}
	pathEmailValue  = store.Path{Name: "emails", Sub: "value"}
	pathMembers     = store.Path{Name: "members"}
	pathMemberValue = store.Path{Name: "members", Sub: "value"}
	pathValue       = store.Path{Name: "value"}
)

// eqString returns the string an eq clause compares with.
func eqString(f store.Filter) (string, store.Compare, bool) {
	c, ok := f.(store.Compare)
	if !ok || c.Op != store.Eq {
		return "", c, false
	}
	s, ok := c.Value.(string)
	return s, c, ok
}

// valueEq finds, in the filter of a value path, an eq on "value" that every
// match satisfies: the filter itself or a clause of an And.
func valueEq(f store.Filter) (string, store.Compare, bool) {
	if and, ok := f.(store.And); ok {
		if s, c, ok := valueEq(and.Left); ok {
			return s, c, true
		}
		return valueEq(and.Right)
	}
	s, c, ok := eqString(f)
	return s, c, ok && c.Path == pathValue
}

// combine pushes down And and Or: an And needs one side, an Or both.
func combine(f store.Filter, cond func(store.Filter) (string, []any, bool)) (string, []any, bool) {
	var l, r store.Filter
	op := " AND "
	switch f := f.(type) {
	case store.And:
		l, r = f.Left, f.Right
	case store.Or:
		l, r, op = f.Left, f.Right, " OR "
	default:
		return "", nil, false
	}
	lc, la, lok := cond(l)
	rc, ra, rok := cond(r)
	switch {
	case lok && rok:
		return "(" + lc + ")" + op + "(" + rc + ")", append(la, ra...), true
	case op == " OR ":
		return "", nil, false
	case lok:
		return lc, la, true
	}
	return rc, ra, rok
}

// byEmail selects the accounts with an email address of that fold, and the
// app's own accounts (whose one address account_emails does not hold).
const byEmail = `a.id IN (SELECT account_id FROM account_emails WHERE org_id = a.org_id AND email_fold = ?) OR a.scim_doc IS NULL`

// userCondition pushes down id eq, userName eq, emails.value eq and
// emails[value eq …].
func userCondition(f store.Filter) (string, []any, bool) {
	if s, c, ok := eqString(f); ok {
		switch {
		case c.Path == pathID && c.CaseExact:
			return `a.id = ?`, []any{s}, true
		case c.Path == pathUserName:
			return byUserName, []any{fold(s)}, true
		case c.Path == pathEmailValue:
			return byEmail, []any{fold(s)}, true
		}
	}
	if vp, ok := f.(store.ValuePath); ok && vp.Path == pathEmails {
		if s, _, ok := valueEq(vp.Filter); ok {
			return byEmail, []any{fold(s)}, true
		}
	}
	return combine(f, userCondition)
}

const byMember = `t.id IN (SELECT team_id FROM team_members WHERE account_id = ?)`

// teamCondition pushes down id eq, displayName eq, and members.value eq and
// members[value eq …] (Entra's "is this user a member" check).
func teamCondition(f store.Filter) (string, []any, bool) {
	if s, c, ok := eqString(f); ok {
		switch {
		case c.Path == pathID && c.CaseExact:
			return `t.id = ?`, []any{s}, true
		case c.Path == pathDisplayName:
			return `t.scim_name_fold = ? OR t.scim_doc IS NULL`, []any{fold(s)}, true
		case c.Path == pathMemberValue && c.CaseExact:
			return byMember, []any{s}, true
		}
	}
	if vp, ok := f.(store.ValuePath); ok && vp.Path == pathMembers {
		if s, c, ok := valueEq(vp.Filter); ok && c.CaseExact {
			return byMember, []any{s}, true
		}
	}
	return combine(f, teamCondition)
}

// mentionsMembers reports whether f names the members attribute, which
// store.Group.Resolve answers only from loaded Members.
func mentionsMembers(f store.Filter) bool {
	switch f := f.(type) {
	case store.And:
		return mentionsMembers(f.Left) || mentionsMembers(f.Right)
	case store.Or:
		return mentionsMembers(f.Left) || mentionsMembers(f.Right)
	case store.Not:
		return mentionsMembers(f.Filter)
	case store.Compare:
		return f.Path.URN == "" && f.Path.Name == "members"
	case store.ValuePath:
		return f.Path.URN == "" && f.Path.Name == "members"
	}
	return false
}

// sortBy sorts recs, which are in the default order, as Query.SortBy says:
// missing values last when ascending and first when descending, ties in
// the default order.
func sortBy[T any](recs []T, resolver func(*T) store.Resolver, by store.Path, desc bool) {
	type keyed struct {
		rec T
		key any
		ok  bool
	}
	ks := make([]keyed, len(recs))
	for i := range recs {
		k, ok := store.SortKey(resolver(&recs[i]), by)
		ks[i] = keyed{recs[i], k, ok}
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

// window returns the page of s at offset, at most limit long.
func window[T any](s []T, offset, limit int) []T {
	offset = min(max(offset, 0), len(s))
	limit = min(max(limit, 0), len(s)-offset)
	return s[offset : offset+limit]
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
