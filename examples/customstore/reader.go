package main

import (
	"context"
	"database/sql"
	"slices"

	"github.com/scimkit/scim/store"
)

// reader is the store.Reader of View, and the read half of tx.
type reader struct {
	tx            *sql.Tx
	org           string
	roleAttribute string
}

const userColumns = `a.id, a.email, a.full_name, a.role, a.active, a.created_at, a.updated_at,
	a.scim_doc, a.scim_managed, a.scim_connection, a.scim_linked, a.version`

const teamColumns = `t.id, t.name, t.created_at, t.updated_at, t.scim_doc, t.scim_app_owned, t.version`

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
	if err := row.Scan(&g.ID, &name, &created, &modified, &doc, &g.AppOwned, &g.Meta.Version); err != nil {
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

// queryUsers returns the accounts matching the SQL condition where (over
// alias a), which must select rows of one org, in the default order:
// creation, then id. page is "" or a LIMIT clause.
func (r *reader) queryUsers(ctx context.Context, where, page string, args ...any) ([]store.User, error) {
	rows, err := r.tx.QueryContext(ctx, `SELECT `+userColumns+` FROM accounts a
		WHERE `+where+` ORDER BY a.created_at, a.id `+page, args...)
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
		if r.roleAttribute != "" && u.Role != "" {
			u.Attributes[r.roleAttribute] = u.Role
		}
		out = append(out, u)
	}
	return out, dbErr2("select accounts", rows.Err())
}

// queryTeams is queryUsers for teams (alias t).
func (r *reader) queryTeams(ctx context.Context, where, page string, args ...any) ([]store.Group, error) {
	rows, err := r.tx.QueryContext(ctx, `SELECT `+teamColumns+` FROM teams t
		WHERE `+where+` ORDER BY t.created_at, t.id `+page, args...)
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
	users, err := r.queryUsers(ctx, `a.id = ? AND a.org_id = ?`, "", id, r.org)
	if err != nil {
		return store.User{}, err
	}
	if len(users) == 0 {
		return store.User{}, notFound("user", id)
	}
	return users[0], nil
}

func (r *reader) UserByUserName(ctx context.Context, userName string) (store.User, error) {
	if userName != "" {
		where, args := r.byUserName(userName)
		users, err := r.queryUsers(ctx, where, "", args...)
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
	managed := ""
	if q.ManagedOnly {
		managed = " AND a.scim_managed = 1"
	}
	if q.Filter == nil && q.SortBy.IsZero() {
		var total int
		err := r.tx.QueryRowContext(ctx, `SELECT count(*) FROM accounts a WHERE a.org_id = ?`+managed, r.org).Scan(&total)
		if err != nil || q.Limit <= 0 {
			return store.UserPage{Total: total, Users: []store.User{}}, dbErr2("count accounts", err)
		}
		users, err := r.queryUsers(ctx, `a.org_id = ?`+managed, "LIMIT ? OFFSET ?", r.org, q.Limit, max(q.Offset, 0))
		return store.UserPage{Total: total, Users: orEmpty(users)}, err
	}
	where, args, ok := r.userCondition(q.Filter)
	if !ok {
		where, args = `a.org_id = ?`, []any{r.org}
	}
	candidates, err := r.queryUsers(ctx, "("+where+")"+managed, "", args...)
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

func (r *reader) Group(ctx context.Context, id string, withMembers bool) (store.Group, error) {
	teams, err := r.queryTeams(ctx, `t.id = ? AND t.org_id = ?`, "", id, r.org)
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
		err := r.tx.QueryRowContext(ctx, `SELECT count(*) FROM teams WHERE org_id = ?`, r.org).Scan(&total)
		if err != nil {
			return store.GroupPage{}, dbErr("count teams", err)
		}
		if q.Limit > 0 {
			if page, err = r.queryTeams(ctx, `t.org_id = ?`, "LIMIT ? OFFSET ?", r.org, q.Limit, max(q.Offset, 0)); err != nil {
				return store.GroupPage{}, err
			}
		}
	} else {
		where, args, ok := r.teamCondition(q.Filter)
		if !ok {
			where, args = `t.org_id = ?`, []any{r.org}
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
		switch {
		case !q.WithMembers:
			page[i].Members = nil // read for the filter only
		case page[i].Members == nil:
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

// Filter pushdown. A condition selects a superset of the org's rows that
// match a filter: the caller still evaluates the filter with store.Eval on
// every row it selects. ok is false when the filter holds no clause worth
// pushing down. Each condition names the org itself, inside a subquery
// where it can, so that SQLite looks the rows up by the index of the
// lookup rather than walking the org in the default order.

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

// appOnlyAccounts selects the app's own accounts of an org, which every
// lookup takes as candidates (see Store).
const appOnlyAccounts = `SELECT id FROM accounts WHERE org_id = ? AND scim_doc IS NULL`

// byUserName selects the candidates for a userName.
func (r *reader) byUserName(userName string) (string, []any) {
	return `a.id IN (SELECT id FROM accounts WHERE org_id = ? AND scim_username_fold = ?
		UNION ALL ` + appOnlyAccounts + `)`, []any{r.org, fold(userName), r.org}
}

// byEmail selects the candidates for an email address: account_emails
// indexes every address of the accounts SCIM wrote.
func (r *reader) byEmail(email string) (string, []any) {
	return `a.id IN (SELECT account_id FROM account_emails WHERE org_id = ? AND email_fold = ?
		UNION ALL ` + appOnlyAccounts + `)`, []any{r.org, fold(email), r.org}
}

// byTeamName selects the candidates for a team name.
func (r *reader) byTeamName(name string) (string, []any) {
	return `t.id IN (SELECT id FROM teams WHERE org_id = ? AND scim_name_fold = ?
		UNION ALL SELECT id FROM teams WHERE org_id = ? AND scim_doc IS NULL)`, []any{r.org, fold(name), r.org}
}

// byMember selects the teams the account belongs to, when it is an
// account of the org (a membership joins an account and a team of one
// org).
func (r *reader) byMember(accountID string) (string, []any) {
	return `t.id IN (SELECT team_id FROM team_members
		WHERE account_id IN (SELECT id FROM accounts WHERE id = ? AND org_id = ?))`, []any{accountID, r.org}
}

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

// userCondition pushes down id eq, userName eq, emails.value eq and
// emails[value eq …].
func (r *reader) userCondition(f store.Filter) (string, []any, bool) {
	if s, c, ok := eqString(f); ok {
		switch {
		case c.Path == pathID && c.CaseExact:
			return `a.id = ? AND a.org_id = ?`, []any{s, r.org}, true
		case c.Path == pathUserName:
			where, args := r.byUserName(s)
			return where, args, true
		case c.Path == pathEmailValue:
			where, args := r.byEmail(s)
			return where, args, true
		}
	}
	if vp, ok := f.(store.ValuePath); ok && vp.Path == pathEmails {
		if s, _, ok := valueEq(vp.Filter); ok {
			where, args := r.byEmail(s)
			return where, args, true
		}
	}
	return combine(f, r.userCondition)
}

// teamCondition pushes down id eq, displayName eq, and members.value eq and
// members[value eq …] (Entra's "is this user a member" check).
func (r *reader) teamCondition(f store.Filter) (string, []any, bool) {
	if s, c, ok := eqString(f); ok {
		switch {
		case c.Path == pathID && c.CaseExact:
			return `t.id = ? AND t.org_id = ?`, []any{s, r.org}, true
		case c.Path == pathDisplayName:
			where, args := r.byTeamName(s)
			return where, args, true
		case c.Path == pathMemberValue && c.CaseExact:
			where, args := r.byMember(s)
			return where, args, true
		}
	}
	if vp, ok := f.(store.ValuePath); ok && vp.Path == pathMembers {
		if s, c, ok := valueEq(vp.Filter); ok && c.CaseExact {
			where, args := r.byMember(s)
			return where, args, true
		}
	}
	return combine(f, r.teamCondition)
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
