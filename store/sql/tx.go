package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/scimkit/scim/internal/jsonenc"
	"github.com/scimkit/scim/store"
)

// queryer is what reads and writes run on: a *sql.Tx.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// reader implements store.Reader within one transaction.
type reader struct {
	s      *Store
	q      queryer
	tenant string
	// pending holds the counter changes of a read-write transaction, not
	// yet written to scim_tenants; nil in a read-only transaction.
	pending *tenantCounts
}

// storeTx implements store.Tx within one transaction.
type storeTx struct {
	reader
}

var (
	_ store.Reader = (*reader)(nil)
	_ store.Tx     = (*storeTx)(nil)
)

// rebind rewrites "?" placeholders as "$1", "$2"… on PostgreSQL. Queries
// passed to it contain no "?" other than placeholders.
func (r *reader) rebind(query string) string {
	if r.s.dialect != Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteString("$" + itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

func (r *reader) exec(ctx context.Context, op, query string, args ...any) (sql.Result, error) {
	res, err := r.q.ExecContext(ctx, r.rebind(query), args...)
	return res, r.s.wrapCtx(ctx, op, err)
}

func (r *reader) query(ctx context.Context, op, query string, args ...any) (*sql.Rows, error) {
	rows, err := r.q.QueryContext(ctx, r.rebind(query), args...)
	return rows, r.s.wrapCtx(ctx, op, err)
}

const userColumns = "r.seq, r.id, r.doc, r.role, r.managed, r.managed_by, r.linked, r.version, r.created, r.last_modified"
const groupColumns = "r.seq, r.id, r.doc, r.app_owned, r.version, r.created, r.last_modified"

type scanner interface{ Scan(dest ...any) error }

// decodeDoc sets u's attributes from doc, the doc column.
func decodeDoc(u *store.User, doc []byte) error {
	if err := json.Unmarshal(doc, &u.Attributes); err != nil {
		return fmt.Errorf("decode user %s: %w", u.ID, err)
	}
	return nil
}

// rawDoc is the doc column as RawUserReader hands it out: "null" (no
// attributes) as nil.
func rawDoc(doc []byte) []byte {
	if string(doc) == "null" {
		return nil
	}
	return doc
}

// scanUserRaw scans a row of userColumns, the attributes left encoded, as
// stored.
func scanUserRaw(sc scanner) (int64, store.User, []byte, error) {
	var (
		seq            int64
		u              store.User
		doc            []byte
		created, modif *int64
		role, by       sql.NullString // NULL on rows older than the columns
	)
	if err := sc.Scan(&seq, &u.ID, &doc, &role, &u.Managed, &by, &u.Linked, &u.Meta.Version, &created, &modif); err != nil {
		return 0, u, nil, err
	}
	u.Role, u.ManagedBy = role.String, by.String
	u.Meta.Created, u.Meta.LastModified = fromNanos(created), fromNanos(modif)
	return seq, u, doc, nil
}

func scanGroup(sc scanner) (int64, store.Group, error) {
	var (
		seq            int64
		g              store.Group
		doc            string
		created, modif *int64
	)
	if err := sc.Scan(&seq, &g.ID, &doc, &g.AppOwned, &g.Meta.Version, &created, &modif); err != nil {
		return 0, g, err
	}
	if err := json.Unmarshal([]byte(doc), &g.Attributes); err != nil {
		return 0, g, fmt.Errorf("decode group %s: %w", g.ID, err)
	}
	g.Meta.Created, g.Meta.LastModified = fromNanos(created), fromNanos(modif)
	return seq, g, nil
}

func (r *reader) oneUser(ctx context.Context, where string, args ...any) (store.User, error) {
	u, doc, err := r.oneUserRaw(ctx, where, args...)
	if err != nil {
		return u, err
	}
	if err := decodeDoc(&u, doc); err != nil {
		return store.User{}, r.s.wrapCtx(ctx, "read user", err)
	}
	return u, nil
}

func (r *reader) oneUserRaw(ctx context.Context, where string, args ...any) (store.User, []byte, error) {
	row := r.q.QueryRowContext(ctx, r.rebind("SELECT "+userColumns+" FROM scim_users r WHERE r.tenant = ? AND "+where), append([]any{r.tenant}, args...)...)
	_, u, doc, err := scanUserRaw(row)
	if errors.Is(err, sql.ErrNoRows) {
		return store.User{}, nil, store.ErrNotFound
	}
	return u, doc, r.s.wrapCtx(ctx, "read user", err)
}

// User implements store.Reader.
func (r *reader) User(ctx context.Context, id string) (store.User, error) {
	return r.oneUser(ctx, "r.id = ?", id)
}

// RawUser implements store.RawUserReader: the doc column holds the
// attributes as the adapter encoded them (json.Marshal's bytes; "null" for
// none), and the row is scanned into bytes of its own.
func (r *reader) RawUser(ctx context.Context, id string) (store.User, []byte, error) {
	u, doc, err := r.oneUserRaw(ctx, "r.id = ?", id)
	return u, rawDoc(doc), err
}

// UserByUserName implements store.Reader.
func (r *reader) UserByUserName(ctx context.Context, userName string) (store.User, error) {
	return r.oneUser(ctx, "r.user_name_folded = ?", fold(userName))
}

// inList returns "(?, ?, …)" for n values.
func inList(n int) string {
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
}

func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// rowsBySeq reads the rows with the given seqs, in chunks that stay under
// the engines' limits on bound parameters; query ends in "IN ".
func rowsBySeq[T any](ctx context.Context, r *reader, op, query string, seqs []int64, scan func(scanner) (int64, T, error)) (map[int64]T, error) {
	out := make(map[int64]T, len(seqs))
	for len(seqs) > 0 {
		chunk := seqs[:min(len(seqs), 500)]
		seqs = seqs[len(chunk):]
		rows, err := r.query(ctx, op, query+inList(len(chunk)), anys(chunk)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			seq, v, err := scan(rows)
			if err != nil {
				rows.Close()
				return nil, r.s.wrapCtx(ctx, op, err)
			}
			out[seq] = v
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, r.s.wrapCtx(ctx, op, err)
		}
	}
	return out, nil
}

// ListUsers implements store.Reader.
func (r *reader) ListUsers(ctx context.Context, q store.Query) (store.UserPage, error) {
	page, docs, err := r.listUsers(ctx, q)
	if err != nil {
		return store.UserPage{}, err
	}
	for i := range page.Users {
		if err := decodeDoc(&page.Users[i], docs[i]); err != nil {
			return store.UserPage{}, r.s.wrapCtx(ctx, "list users", err)
		}
	}
	return page, nil
}

// ListRawUsers implements store.RawUserLister, as RawUser does.
func (r *reader) ListRawUsers(ctx context.Context, q store.Query) (store.UserPage, [][]byte, error) {
	page, docs, err := r.listUsers(ctx, q)
	if err != nil {
		return store.UserPage{}, nil, err
	}
	for i, doc := range docs {
		docs[i] = rawDoc(doc)
	}
	return page, docs, nil
}

// listUsers returns the page of users q asks for with their attributes
// encoded as stored, docs[i] for page.Users[i].
func (r *reader) listUsers(ctx context.Context, q store.Query) (store.UserPage, [][]byte, error) {
	type row struct {
		u   store.User
		doc []byte
	}
	scan := func(sc scanner) (int64, row, error) {
		seq, u, doc, err := scanUserRaw(sc)
		return seq, row{u, doc}, err
	}
	out := store.UserPage{Users: []store.User{}}
	var docs [][]byte
	total, seqs, loaded, err := r.page(ctx, users, q, userColumns, func(rows *sql.Rows) (int64, error) {
		seq, x, err := scan(rows)
		out.Users, docs = append(out.Users, x.u), append(docs, x.doc)
		return seq, err
	})
	if err != nil {
		return store.UserPage{}, nil, err
	}
	out.Total = total
	if loaded || len(seqs) == 0 {
		return out, docs, nil
	}
	bySeq, err := rowsBySeq(ctx, r, "list users", "SELECT "+userColumns+" FROM scim_users r WHERE r.seq IN ", seqs, scan)
	if err != nil {
		return store.UserPage{}, nil, err
	}
	for _, seq := range seqs {
		if x, ok := bySeq[seq]; ok {
			out.Users, docs = append(out.Users, x.u), append(docs, x.doc)
		}
	}
	return out, docs, nil
}

func (r *reader) oneGroup(ctx context.Context, id string) (store.Group, error) {
	row := r.q.QueryRowContext(ctx, r.rebind("SELECT "+groupColumns+" FROM scim_groups r WHERE r.tenant = ? AND r.id = ?"), r.tenant, id)
	_, g, err := scanGroup(row)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Group{}, store.ErrNotFound
	}
	return g, r.s.wrapCtx(ctx, "read group", err)
}

// Group implements store.Reader.
func (r *reader) Group(ctx context.Context, id string, withMembers bool) (store.Group, error) {
	g, err := r.oneGroup(ctx, id)
	if err != nil || !withMembers {
		return g, err
	}
	members, err := r.members(ctx, []string{id})
	if err != nil {
		return store.Group{}, err
	}
	g.Members = members[id]
	if g.Members == nil {
		g.Members = []store.Member{}
	}
	return g, nil
}

// members loads the members of the given groups, ordered by user id.
func (r *reader) members(ctx context.Context, groupIDs []string) (map[string][]store.Member, error) {
	out := map[string][]store.Member{}
	for len(groupIDs) > 0 {
		chunk := groupIDs[:min(len(groupIDs), 500)]
		groupIDs = groupIDs[len(chunk):]
		rows, err := r.query(ctx, "read members",
			"SELECT group_id, user_id, display FROM scim_members WHERE tenant = ? AND group_id IN "+inList(len(chunk))+" ORDER BY group_id, user_id",
			append([]any{r.tenant}, anys(chunk)...)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var gid string
			var m store.Member
			if err := rows.Scan(&gid, &m.Value, &m.Display); err != nil {
				rows.Close()
				return nil, r.s.wrapCtx(ctx, "read members", err)
			}
			out[gid] = append(out[gid], m)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, r.s.wrapCtx(ctx, "read members", err)
		}
	}
	return out, nil
}

// ListGroups implements store.Reader.
func (r *reader) ListGroups(ctx context.Context, q store.Query) (store.GroupPage, error) {
	out := store.GroupPage{Groups: []store.Group{}}
	total, seqs, loaded, err := r.page(ctx, groups, q, groupColumns, func(rows *sql.Rows) (int64, error) {
		seq, g, err := scanGroup(rows)
		out.Groups = append(out.Groups, g)
		return seq, err
	})
	if err != nil {
		return store.GroupPage{}, err
	}
	out.Total = total
	if len(seqs) == 0 {
		return out, nil
	}
	bySeq := map[int64]store.Group{}
	if loaded {
		for i, seq := range seqs {
			bySeq[seq] = out.Groups[i]
		}
		out.Groups = out.Groups[:0]
	} else if bySeq, err = rowsBySeq(ctx, r, "list groups", "SELECT "+groupColumns+" FROM scim_groups r WHERE r.seq IN ", seqs, scanGroup); err != nil {
		return store.GroupPage{}, err
	}
	var ids []string
	for _, seq := range seqs {
		if g, ok := bySeq[seq]; ok {
			out.Groups = append(out.Groups, g)
			ids = append(ids, g.ID)
		}
	}
	if q.WithMembers {
		members, err := r.members(ctx, ids)
		if err != nil {
			return store.GroupPage{}, err
		}
		for i := range out.Groups {
			out.Groups[i].Members = members[out.Groups[i].ID]
			if out.Groups[i].Members == nil {
				out.Groups[i].Members = []store.Member{}
			}
		}
	}
	return out, nil
}

// GroupsOf implements store.Reader.
func (r *reader) GroupsOf(ctx context.Context, userID string) ([]store.GroupRef, error) {
	rows, err := r.query(ctx, "groups of user",
		"SELECT g.id, g.display_name FROM scim_members m JOIN scim_groups g ON g.tenant = m.tenant AND g.id = m.group_id WHERE m.tenant = ? AND m.user_id = ? ORDER BY g.id",
		r.tenant, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.GroupRef{}
	for rows.Next() {
		var ref store.GroupRef
		var name sql.NullString
		if err := rows.Scan(&ref.ID, &name); err != nil {
			return nil, r.s.wrapCtx(ctx, "groups of user", err)
		}
		ref.DisplayName = name.String
		out = append(out, ref)
	}
	return out, r.s.wrapCtx(ctx, "groups of user", rows.Err())
}

// exists reports whether a row matches.
func (r *reader) exists(ctx context.Context, op, query string, args ...any) (bool, error) {
	rows, err := r.query(ctx, op, query, args...)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	found := rows.Next()
	return found, r.s.wrapCtx(ctx, op, rows.Err())
}

func encodeDoc(attrs map[string]any) (doc string, fdoc []byte, err error) {
	raw, err := jsonenc.Marshal(attrs)
	if err != nil {
		return "", nil, fmt.Errorf("sqlstore: encode attributes: %w", err)
	}
	fdoc, err = filterDoc(attrs)
	if err != nil {
		return "", nil, fmt.Errorf("sqlstore: encode attributes: %w", err)
	}
	return string(raw), fdoc, nil
}

func (t *storeTx) fdocArg(fdoc []byte) any { return string(fdoc) }

// CreateUser implements store.Tx.
func (t *storeTx) CreateUser(ctx context.Context, u *store.User) error {
	userName := stringAttr(u.Attributes, "userName")
	// The unique indexes on (tenant, id) and (tenant, user_name_folded)
	// refuse a taken id or userName. SQLite and PostgreSQL skip the row
	// then (ON CONFLICT DO NOTHING, which leaves the transaction usable);
	// MySQL's INSERT IGNORE would also swallow other errors, so MySQL
	// looks first.
	onConflict := " ON CONFLICT DO NOTHING"
	if t.s.dialect == MySQL {
		onConflict = ""
		taken, err := t.exists(ctx, "create user", "SELECT 1 FROM scim_users WHERE tenant = ? AND (id = ? OR user_name_folded = ?)", t.tenant, u.ID, foldPtr(userName))
		if err != nil {
			return err
		}
		if taken {
			return store.ErrConflict
		}
	}
	doc, fdoc, err := encodeDoc(u.Attributes)
	if err != nil {
		return err
	}
	res, err := t.exec(ctx, "create user",
		"INSERT INTO scim_users (tenant, id, user_name, user_name_folded, external_id, role, managed, managed_by, linked, doc, fdoc, version, created, last_modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)"+onConflict,
		t.tenant, u.ID, userName, foldPtr(userName), stringAttr(u.Attributes, "externalId"), u.Role, u.Managed, u.ManagedBy, u.Linked, doc, t.fdocArg(fdoc), nanos(u.Meta.Created), nanos(u.Meta.LastModified))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return t.s.wrapCtx(ctx, "create user", err)
	} else if n == 0 {
		return store.ErrConflict
	}
	if err := t.writeEmails(ctx, u.ID, u.Attributes, false); err != nil {
		return err
	}
	t.pending.users++
	if u.Managed {
		t.pending.managed++
	}
	u.Meta.Version = 1
	return nil
}

func (t *storeTx) writeEmails(ctx context.Context, userID string, attrs map[string]any, replace bool) error {
	if replace {
		if _, err := t.exec(ctx, "write emails", "DELETE FROM scim_emails WHERE tenant = ? AND user_id = ?", t.tenant, userID); err != nil {
			return err
		}
	}
	// In statements of chunkSize rows (9 parameters each), far below the
	// engines' limits on bound parameters (SQLite's 32,766, PostgreSQL's
	// and MySQL's 65,535), however many emails the user has.
	rows := emailRows(attrs)
	for lo := 0; lo < len(rows); lo += chunkSize {
		hi := min(len(rows), lo+chunkSize)
		args := make([]any, 0, 9*(hi-lo))
		for i := lo; i < hi; i++ {
			e := rows[i]
			args = append(args, t.tenant, userID, i, e.value, foldPtr(e.value), e.typ, foldPtr(e.typ), e.primary, e.bare)
		}
		values := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?), ", hi-lo), ", ")
		if _, err := t.exec(ctx, "write emails", "INSERT INTO scim_emails (tenant, user_id, pos, value, value_folded, type, type_folded, is_primary, bare) VALUES "+values, args...); err != nil {
			return err
		}
	}
	return nil
}

// current reads the version and creation time of a user or group.
func (t *storeTx) current(ctx context.Context, table, id string) (version int64, created *int64, err error) {
	row := t.q.QueryRowContext(ctx, t.rebind("SELECT version, created FROM "+table+" WHERE tenant = ? AND id = ?"), t.tenant, id)
	err = row.Scan(&version, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, store.ErrNotFound
	}
	return version, created, t.s.wrapCtx(ctx, "read version", err)
}

// currentUser reads the version, creation time and managed flag of a user.
func (t *storeTx) currentUser(ctx context.Context, id string) (version int64, created *int64, managed bool, err error) {
	row := t.q.QueryRowContext(ctx, t.rebind("SELECT version, created, managed FROM scim_users WHERE tenant = ? AND id = ?"), t.tenant, id)
	err = row.Scan(&version, &created, &managed)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, false, store.ErrNotFound
	}
	return version, created, managed, t.s.wrapCtx(ctx, "read version", err)
}

// managedChanged counts a user that became managed (delta +1) or stopped
// being managed (-1) in place, which moves it into or out of the managed
// list without a new seq (see page.go).
func (t *storeTx) managedChanged(delta int64) {
	t.pending.managed += delta
	t.pending.managedChanges++
}

// UpdateUser implements store.Tx.
func (t *storeTx) UpdateUser(ctx context.Context, u *store.User) error {
	version, created, wasManaged, err := t.currentUser(ctx, u.ID)
	if err != nil {
		return err
	}
	if version != u.Meta.Version {
		return store.ErrVersionMismatch
	}
	userName := stringAttr(u.Attributes, "userName")
	if userName != nil {
		taken, err := t.exists(ctx, "update user", "SELECT 1 FROM scim_users WHERE tenant = ? AND user_name_folded = ? AND id <> ?", t.tenant, fold(*userName), u.ID)
		if err != nil {
			return err
		}
		if taken {
			return store.ErrConflict
		}
	}
	doc, fdoc, err := encodeDoc(u.Attributes)
	if err != nil {
		return err
	}
	res, err := t.exec(ctx, "update user",
		"UPDATE scim_users SET user_name = ?, user_name_folded = ?, external_id = ?, role = ?, managed = ?, managed_by = ?, linked = ?, doc = ?, fdoc = ?, version = version + 1, last_modified = ? WHERE tenant = ? AND id = ? AND version = ?",
		userName, foldPtr(userName), stringAttr(u.Attributes, "externalId"), u.Role, u.Managed, u.ManagedBy, u.Linked, doc, t.fdocArg(fdoc), nanos(u.Meta.LastModified), t.tenant, u.ID, version)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err == nil && n != 1 {
		return store.ErrVersionMismatch
	}
	if err := t.writeEmails(ctx, u.ID, u.Attributes, true); err != nil {
		return err
	}
	switch {
	case u.Managed && !wasManaged:
		t.managedChanged(+1)
	case !u.Managed && wasManaged:
		t.managedChanged(-1)
	}
	u.Meta.Version = version + 1
	u.Meta.Created = fromNanos(created)
	return nil
}

// DeleteUser implements store.Tx.
func (t *storeTx) DeleteUser(ctx context.Context, id string) error {
	_, _, managed, err := t.currentUser(ctx, id)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, "delete user",
		"UPDATE scim_groups SET version = version + 1 WHERE tenant = ? AND id IN (SELECT group_id FROM scim_members WHERE tenant = ? AND user_id = ?)",
		t.tenant, t.tenant, id); err != nil {
		return err
	}
	for _, q := range []string{
		"DELETE FROM scim_members WHERE tenant = ? AND user_id = ?",
		"DELETE FROM scim_left_groups WHERE tenant = ? AND user_id = ?",
		"DELETE FROM scim_emails WHERE tenant = ? AND user_id = ?",
		"DELETE FROM scim_users WHERE tenant = ? AND id = ?",
	} {
		if _, err := t.exec(ctx, "delete user", q, t.tenant, id); err != nil {
			return err
		}
	}
	t.pending.users--
	t.pending.userDeletes++
	if managed {
		t.pending.managed--
	}
	return nil
}

// CreateGroup implements store.Tx.
func (t *storeTx) CreateGroup(ctx context.Context, g *store.Group) error {
	name := stringAttr(g.Attributes, "displayName")
	taken, err := t.exists(ctx, "create group", "SELECT 1 FROM scim_groups WHERE tenant = ? AND (id = ? OR display_name_folded = ?)", t.tenant, g.ID, foldPtr(name))
	if err != nil {
		return err
	}
	if taken {
		return store.ErrConflict
	}
	doc, fdoc, err := encodeDoc(g.Attributes)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, "create group",
		"INSERT INTO scim_groups (tenant, id, display_name, display_name_folded, external_id, doc, fdoc, app_owned, version, created, last_modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
		t.tenant, g.ID, name, foldPtr(name), stringAttr(g.Attributes, "externalId"), doc, t.fdocArg(fdoc), g.AppOwned, nanos(g.Meta.Created), nanos(g.Meta.LastModified))
	if err != nil {
		return err
	}
	t.pending.groups++
	g.Meta.Version = 1
	return nil
}

// UpdateGroup implements store.Tx.
func (t *storeTx) UpdateGroup(ctx context.Context, g *store.Group) error {
	version, created, err := t.current(ctx, "scim_groups", g.ID)
	if err != nil {
		return err
	}
	if version != g.Meta.Version {
		return store.ErrVersionMismatch
	}
	name := stringAttr(g.Attributes, "displayName")
	if name != nil {
		taken, err := t.exists(ctx, "update group", "SELECT 1 FROM scim_groups WHERE tenant = ? AND display_name_folded = ? AND id <> ?", t.tenant, fold(*name), g.ID)
		if err != nil {
			return err
		}
		if taken {
			return store.ErrConflict
		}
	}
	doc, fdoc, err := encodeDoc(g.Attributes)
	if err != nil {
		return err
	}
	res, err := t.exec(ctx, "update group",
		"UPDATE scim_groups SET display_name = ?, display_name_folded = ?, external_id = ?, doc = ?, fdoc = ?, version = version + 1, last_modified = ? WHERE tenant = ? AND id = ? AND version = ?",
		name, foldPtr(name), stringAttr(g.Attributes, "externalId"), doc, t.fdocArg(fdoc), nanos(g.Meta.LastModified), t.tenant, g.ID, version)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err == nil && n != 1 {
		return store.ErrVersionMismatch
	}
	g.Meta.Version = version + 1
	g.Meta.Created = fromNanos(created)
	return nil
}

// DeleteGroup implements store.Tx.
func (t *storeTx) DeleteGroup(ctx context.Context, id string) error {
	if _, _, err := t.current(ctx, "scim_groups", id); err != nil {
		return err
	}
	if _, err := t.exec(ctx, "delete group", "DELETE FROM scim_members WHERE tenant = ? AND group_id = ?", t.tenant, id); err != nil {
		return err
	}
	if _, err := t.exec(ctx, "delete group", "DELETE FROM scim_groups WHERE tenant = ? AND id = ?", t.tenant, id); err != nil {
		return err
	}
	t.pending.groups--
	t.pending.groupDeletes++
	return nil
}

// chunkSize bounds the number of ids in one IN list or multi-row INSERT.
const chunkSize = 200

// readChunk bounds the number of ids in the IN list of a read: a round
// trip per chunk, 500 parameters and a few more.
const readChunk = 500

// existingIDs returns which of ids match the query, which selects one id
// column and ends in "IN " for the list.
func (r *reader) existingIDs(ctx context.Context, op, query string, prefix []any, ids []string) (map[string]bool, error) {
	found := map[string]bool{}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), readChunk)]
		ids = ids[len(chunk):]
		rows, err := r.query(ctx, op, query+inList(len(chunk)), append(append([]any{}, prefix...), anys(chunk)...)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, r.s.wrapCtx(ctx, op, err)
			}
			found[id] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, r.s.wrapCtx(ctx, op, err)
		}
	}
	return found, nil
}

func (t *storeTx) usersAmong(ctx context.Context, ids []string) (map[string]bool, error) {
	return t.existingIDs(ctx, "read users", "SELECT id FROM scim_users WHERE tenant = ? AND id IN ", []any{t.tenant}, ids)
}

func (t *storeTx) membersAmong(ctx context.Context, groupID string, ids []string) (map[string]bool, error) {
	return t.existingIDs(ctx, "read members", "SELECT user_id FROM scim_members WHERE tenant = ? AND group_id = ? AND user_id IN ", []any{t.tenant, groupID}, ids)
}

func (t *storeTx) insertMembers(ctx context.Context, groupID string, ms []store.Member) error {
	for len(ms) > 0 {
		chunk := ms[:min(len(ms), chunkSize)]
		ms = ms[len(chunk):]
		var args []any
		for _, m := range chunk {
			args = append(args, t.tenant, groupID, m.Value, m.Display, fold(m.Display))
		}
		values := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", len(chunk)), ", ")
		// The tenant lock makes conflicts impossible; ignoring them anyway
		// keeps a membership single even if a caller bypasses it.
		q := "INSERT INTO scim_members (tenant, group_id, user_id, display, display_folded) VALUES " + values + " ON CONFLICT DO NOTHING"
		if t.s.dialect == MySQL {
			q = "INSERT IGNORE INTO scim_members (tenant, group_id, user_id, display, display_folded) VALUES " + values
		}
		if _, err := t.exec(ctx, "add members", q, args...); err != nil {
			return err
		}
	}
	return nil
}

func (t *storeTx) deleteMembers(ctx context.Context, groupID string, ids []string) error {
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), chunkSize)]
		ids = ids[len(chunk):]
		if _, err := t.exec(ctx, "remove members", "DELETE FROM scim_members WHERE tenant = ? AND group_id = ? AND user_id IN "+inList(len(chunk)),
			append([]any{t.tenant, groupID}, anys(chunk)...)...); err != nil {
			return err
		}
	}
	return nil
}

func (t *storeTx) touchGroup(ctx context.Context, groupID string, at time.Time) error {
	_, err := t.exec(ctx, "touch group", "UPDATE scim_groups SET version = version + 1, last_modified = ? WHERE tenant = ? AND id = ?", nanos(at), t.tenant, groupID)
	return err
}

func memberIDs(ms []store.Member) []string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.Value
	}
	return ids
}

// AddMembers implements store.Tx.
func (t *storeTx) AddMembers(ctx context.Context, groupID string, members []store.Member, at time.Time) (store.MemberChange, error) {
	var ch store.MemberChange
	if _, _, err := t.current(ctx, "scim_groups", groupID); err != nil {
		return ch, err
	}
	ids := memberIDs(members)
	known, err := t.usersAmong(ctx, ids)
	if err != nil {
		return ch, err
	}
	already, err := t.membersAmong(ctx, groupID, ids)
	if err != nil {
		return ch, err
	}
	var add []store.Member
	for _, m := range members {
		switch {
		case !known[m.Value]:
			ch.Skipped = append(ch.Skipped, m.Value)
		case already[m.Value]:
			ch.Unchanged = append(ch.Unchanged, m.Value)
		default:
			already[m.Value] = true // a repeated id is added once
			add = append(add, m)
			ch.Added = append(ch.Added, m.Value)
		}
	}
	if len(add) == 0 {
		return ch, nil
	}
	if err := t.insertMembers(ctx, groupID, add); err != nil {
		return store.MemberChange{}, err
	}
	return ch, t.touchGroup(ctx, groupID, at)
}

// RemoveMembers implements store.Tx.
func (t *storeTx) RemoveMembers(ctx context.Context, groupID string, userIDs []string, at time.Time) (store.MemberChange, error) {
	var ch store.MemberChange
	if _, _, err := t.current(ctx, "scim_groups", groupID); err != nil {
		return ch, err
	}
	current, err := t.membersAmong(ctx, groupID, userIDs)
	if err != nil {
		return ch, err
	}
	var remove []string
	for _, id := range userIDs {
		if current[id] {
			delete(current, id) // a repeated id is removed once
			remove = append(remove, id)
			ch.Removed = append(ch.Removed, id)
		} else {
			ch.NotMembers = append(ch.NotMembers, id)
		}
	}
	if len(remove) == 0 {
		return ch, nil
	}
	if err := t.deleteMembers(ctx, groupID, remove); err != nil {
		return store.MemberChange{}, err
	}
	return ch, t.touchGroup(ctx, groupID, at)
}

// ReplaceMembers implements store.Tx. Its cost is proportional to the
// size of the group: it reads the current member ids.
func (t *storeTx) ReplaceMembers(ctx context.Context, groupID string, members []store.Member, at time.Time) (store.MemberChange, error) {
	var ch store.MemberChange
	if _, _, err := t.current(ctx, "scim_groups", groupID); err != nil {
		return ch, err
	}
	rows, err := t.query(ctx, "read members", "SELECT user_id FROM scim_members WHERE tenant = ? AND group_id = ? ORDER BY user_id", t.tenant, groupID)
	if err != nil {
		return ch, err
	}
	var currentOrder []string
	current := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return ch, t.s.wrapCtx(ctx, "read members", err)
		}
		current[id] = true
		currentOrder = append(currentOrder, id)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return ch, t.s.wrapCtx(ctx, "read members", err)
	}
	known, err := t.usersAmong(ctx, memberIDs(members))
	if err != nil {
		return ch, err
	}
	keep := map[string]bool{}
	var add []store.Member
	for _, m := range members {
		switch {
		case !known[m.Value]:
			ch.Skipped = append(ch.Skipped, m.Value)
		case keep[m.Value]:
			// repeated in the list
		case current[m.Value]:
			keep[m.Value] = true
			ch.Unchanged = append(ch.Unchanged, m.Value)
		default:
			keep[m.Value] = true
			add = append(add, m)
			ch.Added = append(ch.Added, m.Value)
		}
	}
	var remove []string
	for _, id := range currentOrder {
		if !keep[id] {
			remove = append(remove, id)
		}
	}
	ch.Removed = remove
	if len(add) == 0 && len(remove) == 0 {
		return ch, nil
	}
	if err := t.deleteMembers(ctx, groupID, remove); err != nil {
		return store.MemberChange{}, err
	}
	if err := t.insertMembers(ctx, groupID, add); err != nil {
		return store.MemberChange{}, err
	}
	return ch, t.touchGroup(ctx, groupID, at)
}
