package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/scimkit/scim/store"
)

// tx is the store.Tx of Update. Each write checks what can fail (unknown
// id, version, uniqueness) before it changes anything, and runs under a
// savepoint, so that a write that fails changes nothing and fn may go on.
type tx struct {
	reader
}

var (
	_ store.Tx                = (*tx)(nil)
	_ store.DepartureRecorder = (*tx)(nil)
)

func conflict(format string, args ...any) error {
	return fmt.Errorf("customstore: "+format+": %w", append(args, store.ErrConflict)...)
}

func versionMismatch(kind, id string, got, stored int64) error {
	return fmt.Errorf("customstore: %s %q has version %d, not %d: %w", kind, id, stored, got, store.ErrVersionMismatch)
}

func (x *tx) exec(ctx context.Context, query string, args ...any) error {
	_, err := x.tx.ExecContext(ctx, query, args...)
	return dbErr2(strings.Fields(query)[0], err)
}

// atomic runs one write's statements as a unit.
func (x *tx) atomic(ctx context.Context, write func() error) error {
	if err := x.exec(ctx, `SAVEPOINT write`); err != nil {
		return err
	}
	if err := write(); err != nil {
		x.exec(ctx, `ROLLBACK TO write`)
		x.exec(ctx, `RELEASE write`)
		return err
	}
	return x.exec(ctx, `RELEASE write`)
}

// version returns the version of the org's row with the given id in table,
// or ErrNotFound.
func (x *tx) version(ctx context.Context, table, kind, id string) (int64, error) {
	var v int64
	err := x.tx.QueryRowContext(ctx, `SELECT version FROM `+table+` WHERE org_id = ? AND id = ?`, x.org, id).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound(kind, id)
	}
	return v, dbErr2("select version", err)
}

// idTaken reports whether a row of table has the id, in any org: ids are
// the table's primary key.
func (x *tx) idTaken(ctx context.Context, table, id string) (bool, error) {
	var n int
	err := x.tx.QueryRowContext(ctx, `SELECT count(*) FROM `+table+` WHERE id = ?`, id).Scan(&n)
	return n > 0, dbErr2("select id", err)
}

// userNameTaken reports whether a user other than self has the userName,
// case-insensitively. The app's own accounts are compared in Go (see
// Store); the unique index on scim_username_fold backs the rest.
func (x *tx) userNameTaken(ctx context.Context, userName, self string) (bool, error) {
	if userName == "" {
		return false, nil
	}
	where, args := x.byUserName(userName)
	users, err := x.queryUsers(ctx, where, "", args...)
	for _, u := range users {
		if u.ID != self && fold(u.UserName()) == fold(userName) {
			return true, nil
		}
	}
	return false, err
}

func (x *tx) teamNameTaken(ctx context.Context, name, self string) (bool, error) {
	if name == "" {
		return false, nil
	}
	where, args := x.byTeamName(name)
	teams, err := x.queryTeams(ctx, where, "", args...)
	for _, g := range teams {
		if g.ID != self && fold(g.DisplayName()) == fold(name) {
			return true, nil
		}
	}
	return false, err
}

func (x *tx) CreateUser(ctx context.Context, u *store.User) error {
	doc, err := encodeDoc(u.Attributes)
	if err != nil {
		return err
	}
	if taken, err := x.idTaken(ctx, "accounts", u.ID); err != nil || taken {
		return cmpErr(err, taken, conflict("user id %q exists", u.ID))
	}
	if taken, err := x.userNameTaken(ctx, u.UserName(), u.ID); err != nil || taken {
		return cmpErr(err, taken, conflict("userName %q is taken", u.UserName()))
	}
	app := appColumns(u)
	err = x.atomic(ctx, func() error {
		err := x.exec(ctx, `INSERT INTO accounts (id, org_id, email, full_name, role, active, created_at, updated_at,
			scim_doc, scim_username_fold, scim_managed, scim_connection, scim_linked, version)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
			u.ID, x.org, app.email, app.fullName, app.role, app.active,
			formatTime(u.Meta.Created), formatTime(u.Meta.LastModified),
			doc, nullFold(u.UserName()), u.Managed, u.ManagedBy, u.Linked)
		if err != nil {
			return err
		}
		return x.setEmails(ctx, u.ID, u.Attributes)
	})
	if err == nil {
		u.Meta.Version = 1
	}
	return err
}

// cmpErr returns err when a check failed, else the conflict when taken.
func cmpErr(err error, taken bool, conflict error) error {
	if err != nil {
		return err
	}
	if taken {
		return conflict
	}
	return nil
}

// setEmails indexes the user's email addresses in account_emails.
func (x *tx) setEmails(ctx context.Context, id string, a store.Attributes) error {
	if err := x.exec(ctx, `DELETE FROM account_emails WHERE account_id = ?`, id); err != nil {
		return err
	}
	for _, k := range emailKeys(a) {
		if err := x.exec(ctx, `INSERT INTO account_emails (org_id, email_fold, account_id) VALUES (?, ?, ?)`, x.org, k, id); err != nil {
			return err
		}
	}
	return nil
}

func (x *tx) UpdateUser(ctx context.Context, u *store.User) error {
	doc, err := encodeDoc(u.Attributes)
	if err != nil {
		return err
	}
	stored, err := x.version(ctx, "accounts", "user", u.ID)
	if err != nil {
		return err
	}
	if stored != u.Meta.Version {
		return versionMismatch("user", u.ID, u.Meta.Version, stored)
	}
	if taken, err := x.userNameTaken(ctx, u.UserName(), u.ID); err != nil || taken {
		return cmpErr(err, taken, conflict("userName %q is taken", u.UserName()))
	}
	app := appColumns(u)
	err = x.atomic(ctx, func() error {
		err := x.exec(ctx, `UPDATE accounts SET email = ?, full_name = ?, role = ?, active = ?, updated_at = ?,
			scim_doc = ?, scim_username_fold = ?, scim_managed = ?, scim_connection = ?, scim_linked = ?,
			version = version + 1
			WHERE id = ?`,
			app.email, app.fullName, app.role, app.active, formatTime(u.Meta.LastModified),
			doc, nullFold(u.UserName()), u.Managed, u.ManagedBy, u.Linked, u.ID)
		if err != nil {
			return err
		}
		return x.setEmails(ctx, u.ID, u.Attributes)
	})
	if err == nil {
		u.Meta.Version = stored + 1
	}
	return err
}

func (x *tx) DeleteUser(ctx context.Context, id string) error {
	if _, err := x.version(ctx, "accounts", "user", id); err != nil {
		return err
	}
	return x.atomic(ctx, func() error {
		for _, q := range []string{
			// Every team that loses the member gets a new version.
			`UPDATE teams SET version = version + 1 WHERE id IN (SELECT team_id FROM team_members WHERE account_id = ?)`,
			`DELETE FROM team_members WHERE account_id = ?`,
			`DELETE FROM account_emails WHERE account_id = ?`,
			`DELETE FROM accounts WHERE id = ?`,
		} {
			if err := x.exec(ctx, q, id); err != nil {
				return err
			}
		}
		return nil
	})
}

func (x *tx) CreateGroup(ctx context.Context, g *store.Group) error {
	doc, err := encodeDoc(g.Attributes)
	if err != nil {
		return err
	}
	if taken, err := x.idTaken(ctx, "teams", g.ID); err != nil || taken {
		return cmpErr(err, taken, conflict("group id %q exists", g.ID))
	}
	name := g.DisplayName()
	if taken, err := x.teamNameTaken(ctx, name, g.ID); err != nil || taken {
		return cmpErr(err, taken, conflict("displayName %q is taken", name))
	}
	err = x.exec(ctx, `INSERT INTO teams (id, org_id, name, created_at, updated_at, scim_doc, scim_name_fold, scim_app_owned, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)`,
		g.ID, x.org, name, formatTime(g.Meta.Created), formatTime(g.Meta.LastModified), doc, nullFold(name), g.AppOwned)
	if err == nil {
		g.Meta.Version = 1
	}
	return err
}

func (x *tx) UpdateGroup(ctx context.Context, g *store.Group) error {
	doc, err := encodeDoc(g.Attributes)
	if err != nil {
		return err
	}
	stored, err := x.version(ctx, "teams", "group", g.ID)
	if err != nil {
		return err
	}
	if stored != g.Meta.Version {
		return versionMismatch("group", g.ID, g.Meta.Version, stored)
	}
	name := g.DisplayName()
	if taken, err := x.teamNameTaken(ctx, name, g.ID); err != nil || taken {
		return cmpErr(err, taken, conflict("displayName %q is taken", name))
	}
	err = x.exec(ctx, `UPDATE teams SET name = ?, updated_at = ?, scim_doc = ?, scim_name_fold = ?, version = version + 1
		WHERE id = ?`, name, formatTime(g.Meta.LastModified), doc, nullFold(name), g.ID)
	if err == nil {
		g.Meta.Version = stored + 1
	}
	return err
}

func (x *tx) DeleteGroup(ctx context.Context, id string) error {
	if _, err := x.version(ctx, "teams", "group", id); err != nil {
		return err
	}
	return x.atomic(ctx, func() error {
		if err := x.exec(ctx, `DELETE FROM team_members WHERE team_id = ?`, id); err != nil {
			return err
		}
		return x.exec(ctx, `DELETE FROM teams WHERE id = ?`, id)
	})
}

// Membership. Each write reads and changes only the rows of the ids it is
// given (ReplaceMembers also reads the current members, which it must
// compare with), so adding 100 members costs the same in a team of 10 or of
// 100,000.

// maxIn bounds the ids of one IN list, well under SQLite's limit on bound
// parameters.
const maxIn = 500

// selectIDs runs query, whose IN list is written %s, over ids in chunks,
// and returns the set of ids it selects. args come before the ids.
func (x *tx) selectIDs(ctx context.Context, query string, args []any, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	for chunk := range slices.Chunk(ids, maxIn) {
		all := append(append([]any(nil), args...), anys(chunk)...)
		rows, err := x.tx.QueryContext(ctx, fmt.Sprintf(query, placeholders(len(chunk))), all...)
		if err != nil {
			return nil, dbErr("select ids", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, dbErr("scan ids", err)
			}
			out[id] = true
		}
		if err := rows.Close(); err != nil {
			return nil, dbErr("select ids", err)
		}
		if err := rows.Err(); err != nil {
			return nil, dbErr("select ids", err)
		}
	}
	return out, nil
}

// known returns which of ids are accounts of the org.
func (x *tx) known(ctx context.Context, ids []string) (map[string]bool, error) {
	return x.selectIDs(ctx, `SELECT id FROM accounts WHERE org_id = ? AND id IN (%s)`, []any{x.org}, ids)
}

// membersAmong returns which of ids are members of the team.
func (x *tx) membersAmong(ctx context.Context, teamID string, ids []string) (map[string]bool, error) {
	return x.selectIDs(ctx, `SELECT account_id FROM team_members WHERE team_id = ? AND account_id IN (%s)`, []any{teamID}, ids)
}

// touch gives the team a new version and updated_at when c changed it.
func (x *tx) touch(ctx context.Context, teamID string, c store.MemberChange, at time.Time) error {
	if !c.Changed() {
		return nil
	}
	return x.exec(ctx, `UPDATE teams SET version = version + 1, updated_at = ? WHERE id = ?`, formatTime(at), teamID)
}

func memberIDs(ms []store.Member) []string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.Value
	}
	return ids
}

func (x *tx) AddMembers(ctx context.Context, groupID string, members []store.Member, at time.Time) (store.MemberChange, error) {
	var c store.MemberChange
	if _, err := x.version(ctx, "teams", "group", groupID); err != nil {
		return c, err
	}
	ids := memberIDs(members)
	known, err := x.known(ctx, ids)
	if err != nil {
		return c, err
	}
	in, err := x.membersAmong(ctx, groupID, ids)
	if err != nil {
		return c, err
	}
	err = x.atomic(ctx, func() error {
		for _, m := range members {
			switch {
			case !known[m.Value]:
				c.Skipped = append(c.Skipped, m.Value)
			case in[m.Value]:
				c.Unchanged = append(c.Unchanged, m.Value)
			default:
				if err := x.exec(ctx, `INSERT INTO team_members (team_id, account_id, scim_display) VALUES (?, ?, ?)`,
					groupID, m.Value, m.Display); err != nil {
					return err
				}
				in[m.Value] = true
				c.Added = append(c.Added, m.Value)
			}
		}
		return x.touch(ctx, groupID, c, at)
	})
	if err != nil {
		return store.MemberChange{}, err
	}
	return c, nil
}

// RemoveMembers reports ids that are not accounts of the org in
// NotMembers, like accounts that are not members.
func (x *tx) RemoveMembers(ctx context.Context, groupID string, userIDs []string, at time.Time) (store.MemberChange, error) {
	var c store.MemberChange
	if _, err := x.version(ctx, "teams", "group", groupID); err != nil {
		return c, err
	}
	in, err := x.membersAmong(ctx, groupID, userIDs)
	if err != nil {
		return c, err
	}
	for _, id := range userIDs {
		if in[id] {
			delete(in, id)
			c.Removed = append(c.Removed, id)
		} else {
			c.NotMembers = append(c.NotMembers, id)
		}
	}
	err = x.atomic(ctx, func() error {
		if err := x.deleteMembers(ctx, groupID, c.Removed); err != nil {
			return err
		}
		return x.touch(ctx, groupID, c, at)
	})
	if err != nil {
		return store.MemberChange{}, err
	}
	return c, nil
}

func (x *tx) deleteMembers(ctx context.Context, teamID string, ids []string) error {
	for chunk := range slices.Chunk(ids, maxIn) {
		q := fmt.Sprintf(`DELETE FROM team_members WHERE team_id = ? AND account_id IN (%s)`, placeholders(len(chunk)))
		if err := x.exec(ctx, q, append([]any{teamID}, anys(chunk)...)...); err != nil {
			return err
		}
	}
	return nil
}

// ReplaceMembers reports the members kept in Unchanged and the removed ones
// in Removed, ordered by id.
func (x *tx) ReplaceMembers(ctx context.Context, groupID string, members []store.Member, at time.Time) (store.MemberChange, error) {
	var c store.MemberChange
	if _, err := x.version(ctx, "teams", "group", groupID); err != nil {
		return c, err
	}
	known, err := x.known(ctx, memberIDs(members))
	if err != nil {
		return c, err
	}
	current, err := x.members(ctx, groupID) // ordered by id
	if err != nil {
		return c, err
	}
	in := map[string]bool{}
	for _, m := range current {
		in[m.Value] = true
	}
	keep := map[string]bool{}
	for _, m := range members {
		if known[m.Value] {
			keep[m.Value] = true
		} else {
			c.Skipped = append(c.Skipped, m.Value)
		}
	}
	for _, m := range current {
		if !keep[m.Value] {
			c.Removed = append(c.Removed, m.Value)
			delete(in, m.Value)
		}
	}
	err = x.atomic(ctx, func() error {
		if err := x.deleteMembers(ctx, groupID, c.Removed); err != nil {
			return err
		}
		for _, m := range members {
			switch {
			case !known[m.Value]:
			case in[m.Value]:
				c.Unchanged = append(c.Unchanged, m.Value)
			default:
				if err := x.exec(ctx, `INSERT INTO team_members (team_id, account_id, scim_display) VALUES (?, ?, ?)`,
					groupID, m.Value, m.Display); err != nil {
					return err
				}
				in[m.Value] = true
				c.Added = append(c.Added, m.Value)
			}
		}
		return x.touch(ctx, groupID, c, at)
	})
	if err != nil {
		return store.MemberChange{}, err
	}
	return c, nil
}

// RecordDeparture remembers d in scim_departures, replacing the departure
// of the same userName (case-folded).
func (x *tx) RecordDeparture(ctx context.Context, d store.Departure) error {
	return x.exec(ctx, `INSERT INTO scim_departures (org_id, username_fold, username, role, departed_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (org_id, username_fold) DO UPDATE SET
			username = excluded.username, role = excluded.role, departed_at = excluded.departed_at`,
		x.org, fold(d.UserName), d.UserName, d.Role, formatTime(d.Time))
}

// Departure returns the departure recorded for userName, or ErrNotFound.
func (x *tx) Departure(ctx context.Context, userName string) (store.Departure, error) {
	var d store.Departure
	var departed string
	err := x.tx.QueryRowContext(ctx, `SELECT username, role, departed_at FROM scim_departures
		WHERE org_id = ? AND username_fold = ?`, x.org, fold(userName)).Scan(&d.UserName, &d.Role, &departed)
	if errors.Is(err, sql.ErrNoRows) {
		return d, notFound("departure", userName)
	}
	if err != nil {
		return d, dbErr("select departure", err)
	}
	d.Time, err = parseTime(departed)
	return d, err
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

func anys(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
