package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/scimkit/scim/store"
)

// refoldVersion is the migration after whose statements Migrate runs the
// Go part of the change of store.Fold (see Refold).
const refoldVersion = 5

// FoldCollisionError is the error of Migrate and Refold when two users (or
// two groups) of a tenant, distinct under the case folding of earlier
// versions, share one key under store.Fold: "admin" and "ＡＤＭＩＮ",
// "straße" and "STRASSE", "é" written composed and decomposed. Nothing was
// changed: rename or delete all but one of each set (through SCIM with the
// previous version, or in the database), then run Migrate again.
type FoldCollisionError struct {
	// Collisions lists each set of rows that would share a key.
	Collisions []FoldCollision
}

// FoldCollision is one set of rows that share a key under store.Fold.
type FoldCollision struct {
	Table  string   // "scim_users" or "scim_groups"
	Tenant string   // the rows' tenant
	Key    string   // the key they share
	IDs    []string // the ids of the users or groups, in id order
	Names  []string // their userName or displayName, in the order of IDs
}

// Error names every collision, so that the log says what to rename.
func (e *FoldCollisionError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sqlstore: %d sets of rows share a case-folded key under the current folding; nothing was changed; rename or delete all but one of each, then migrate again:", len(e.Collisions))
	for i, c := range e.Collisions {
		if i == 20 {
			fmt.Fprintf(&b, " … and %d more", len(e.Collisions)-i)
			break
		}
		fmt.Fprintf(&b, " %s tenant %q ids %q names %q;", c.Table, c.Tenant, c.IDs, c.Names)
	}
	return strings.TrimSuffix(b.String(), ";")
}

// Refold recomputes what the adapter derives from the attributes with
// store.Fold, on the rows whose text is not all ASCII (on ASCII text the
// folding of every version is strings.ToLower): the folded userName,
// group displayName, email values and types, member displays and the
// filter documents, and the keys of scim_departures. Migrate runs it as
// part of migration 0005_fold.sql; apps that apply Migrations with their
// own tool call it once after applying that file, before serving. It is
// idempotent and runs in one transaction.
//
// When two users or two groups of a tenant would share a key, Refold
// changes nothing and returns a *FoldCollisionError naming them. When two
// remembered departures of a tenant would share a key, the most recent is
// kept.
func (s *Store) Refold(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap("refold: begin", err)
	}
	defer tx.Rollback()
	plan, err := s.planRefold(ctx, tx)
	if err != nil {
		return err
	}
	if err := s.applyRefold(ctx, tx, plan); err != nil {
		return err
	}
	return s.wrap("refold: commit", tx.Commit())
}

// notASCII returns SQL that is true when the text in col has a character
// beyond ASCII.
func (s *Store) notASCII(col string) string {
	switch s.dialect {
	case SQLite:
		return "length(CAST(" + col + " AS BLOB)) <> length(" + col + ")"
	case Postgres:
		return "octet_length(" + col + ") <> char_length(" + col + ")"
	}
	return "LENGTH(" + col + ") <> CHAR_LENGTH(CONVERT(" + col + " USING utf8mb4))"
}

// rekey is a row whose folded key the current store.Fold changes.
type rekey struct {
	tenant, id, name string
	key              string // the new key
}

// refoldPlan is what Refold will change, computed before any change.
type refoldPlan struct {
	users, groups []rekey
}

func (s *Store) planRefold(ctx context.Context, q execQueryer) (*refoldPlan, error) {
	var p refoldPlan
	var collisions []FoldCollision
	for _, t := range []struct {
		table, name, folded string
		out                 *[]rekey
	}{
		{"scim_users", "user_name", "user_name_folded", &p.users},
		{"scim_groups", "display_name", "display_name_folded", &p.groups},
	} {
		keys, cs, err := s.planKeys(ctx, q, t.table, t.name, t.folded)
		if err != nil {
			return nil, err
		}
		*t.out = keys
		collisions = append(collisions, cs...)
	}
	if len(collisions) > 0 {
		return nil, &FoldCollisionError{Collisions: collisions}
	}
	return &p, nil
}

// planKeys lists the rows of table whose key changes, and the sets of rows
// that would share a key.
func (s *Store) planKeys(ctx context.Context, q execQueryer, table, name, folded string) ([]rekey, []FoldCollision, error) {
	r := &reader{s: s, q: q}
	rows, err := r.query(ctx, "refold: read "+table,
		"SELECT tenant, id, "+name+", "+folded+" FROM "+table+" WHERE "+name+" IS NOT NULL AND "+s.notASCII(name))
	if err != nil {
		return nil, nil, err
	}
	var changed []rekey
	for rows.Next() {
		var k rekey
		var old sql.NullString
		if err := rows.Scan(&k.tenant, &k.id, &k.name, &old); err != nil {
			rows.Close()
			return nil, nil, s.wrap("refold: read "+table, err)
		}
		if k.key = fold(k.name); !old.Valid || old.String != k.key {
			changed = append(changed, k)
		}
	}
	if err := doneRows(rows); err != nil {
		return nil, nil, s.wrap("refold: read "+table, err)
	}

	// The rows each new key will belong to: the changed rows, and a row
	// that has the key now and keeps it.
	type tk struct{ tenant, key string }
	owners := map[tk][]rekey{}
	moving := map[[2]string]bool{}
	byTenant := map[string][]string{}
	for _, k := range changed {
		owners[tk{k.tenant, k.key}] = append(owners[tk{k.tenant, k.key}], k)
		moving[[2]string{k.tenant, k.id}] = true
		byTenant[k.tenant] = append(byTenant[k.tenant], k.key)
	}
	for tenant, keys := range byTenant {
		slices.Sort(keys)
		keys = slices.Compact(keys)
		for len(keys) > 0 {
			chunk := keys[:min(len(keys), chunkSize)]
			keys = keys[len(chunk):]
			rows, err := r.query(ctx, "refold: read "+table,
				"SELECT id, "+name+", "+folded+" FROM "+table+" WHERE tenant = ? AND "+folded+" IN "+inList(len(chunk)),
				append([]any{tenant}, anys(chunk)...)...)
			if err != nil {
				return nil, nil, err
			}
			for rows.Next() {
				var k rekey
				var n sql.NullString
				if err := rows.Scan(&k.id, &n, &k.key); err != nil {
					rows.Close()
					return nil, nil, s.wrap("refold: read "+table, err)
				}
				k.tenant, k.name = tenant, n.String
				if !moving[[2]string{tenant, k.id}] {
					owners[tk{tenant, k.key}] = append(owners[tk{tenant, k.key}], k)
				}
			}
			if err := doneRows(rows); err != nil {
				return nil, nil, s.wrap("refold: read "+table, err)
			}
		}
	}
	var collisions []FoldCollision
	for at, ks := range owners {
		if len(ks) < 2 {
			continue
		}
		slices.SortFunc(ks, func(a, b rekey) int { return strings.Compare(a.id, b.id) })
		c := FoldCollision{Table: table, Tenant: at.tenant, Key: at.key}
		for _, k := range ks {
			c.IDs, c.Names = append(c.IDs, k.id), append(c.Names, k.name)
		}
		collisions = append(collisions, c)
	}
	slices.SortFunc(collisions, func(a, b FoldCollision) int {
		return strings.Compare(a.Tenant+"\x00"+a.Key, b.Tenant+"\x00"+b.Key)
	})
	return changed, collisions, nil
}

// applyRefold writes the plan's keys and recomputes the rest.
func (s *Store) applyRefold(ctx context.Context, q execQueryer, p *refoldPlan) error {
	r := &reader{s: s, q: q}
	for _, t := range []struct {
		table, folded string
		keys          []rekey
	}{
		{"scim_users", "user_name_folded", p.users},
		{"scim_groups", "display_name_folded", p.groups},
	} {
		// Keys go away first, so that a row may take the old key of
		// another whatever the order.
		for _, k := range t.keys {
			if _, err := r.exec(ctx, "refold: "+t.table, "UPDATE "+t.table+" SET "+t.folded+" = NULL WHERE tenant = ? AND id = ?", k.tenant, k.id); err != nil {
				return err
			}
		}
		for _, k := range t.keys {
			if _, err := r.exec(ctx, "refold: "+t.table, "UPDATE "+t.table+" SET "+t.folded+" = ? WHERE tenant = ? AND id = ?", k.key, k.tenant, k.id); err != nil {
				return err
			}
		}
	}
	for _, table := range []string{"scim_users", "scim_groups"} {
		if err := s.refoldDocs(ctx, r, table); err != nil {
			return err
		}
	}
	if err := s.refoldMembers(ctx, r); err != nil {
		return err
	}
	return s.refoldDepartures(ctx, r)
}

// refoldDocs recomputes the filter documents of the rows of table whose
// document is not ASCII, and the folded columns of their emails, in pages
// of rows.
func (s *Store) refoldDocs(ctx context.Context, r *reader, table string) error {
	type row struct {
		seq        int64
		tenant, id string
		doc        []byte
	}
	after := int64(0)
	for {
		rows, err := r.query(ctx, "refold: read "+table,
			"SELECT seq, tenant, id, doc FROM "+table+" WHERE seq > ? AND "+s.notASCII("doc")+" ORDER BY seq LIMIT 500", after)
		if err != nil {
			return err
		}
		var page []row
		for rows.Next() {
			var x row
			if err := rows.Scan(&x.seq, &x.tenant, &x.id, &x.doc); err != nil {
				rows.Close()
				return s.wrap("refold: read "+table, err)
			}
			page = append(page, x)
		}
		if err := doneRows(rows); err != nil {
			return s.wrap("refold: read "+table, err)
		}
		if len(page) == 0 {
			return nil
		}
		for _, x := range page {
			u := store.User{ID: x.id}
			if err := decodeDoc(&u, x.doc); err != nil {
				return fmt.Errorf("sqlstore: refold: %s: %w", table, err)
			}
			fdoc, err := filterDoc(u.Attributes)
			if err != nil {
				return fmt.Errorf("sqlstore: refold: %s %s: %w", table, x.id, err)
			}
			if _, err := r.exec(ctx, "refold: "+table, "UPDATE "+table+" SET fdoc = ? WHERE tenant = ? AND id = ?", string(fdoc), x.tenant, x.id); err != nil {
				return err
			}
			if table == "scim_users" {
				tx := &storeTx{reader{s: s, q: r.q, tenant: x.tenant}}
				if err := tx.writeEmails(ctx, x.id, u.Attributes, true); err != nil {
					return err
				}
			}
		}
		after = page[len(page)-1].seq
	}
}

// refoldMembers folds the member displays that are not ASCII.
func (s *Store) refoldMembers(ctx context.Context, r *reader) error {
	rows, err := r.query(ctx, "refold: read scim_members",
		"SELECT tenant, group_id, user_id, display FROM scim_members WHERE "+s.notASCII("display"))
	if err != nil {
		return err
	}
	var ms [][4]string
	for rows.Next() {
		var m [4]string
		if err := rows.Scan(&m[0], &m[1], &m[2], &m[3]); err != nil {
			rows.Close()
			return s.wrap("refold: read scim_members", err)
		}
		ms = append(ms, m)
	}
	if err := doneRows(rows); err != nil {
		return s.wrap("refold: read scim_members", err)
	}
	for _, m := range ms {
		if _, err := r.exec(ctx, "refold: scim_members", "UPDATE scim_members SET display_folded = ? WHERE tenant = ? AND group_id = ? AND user_id = ?", fold(m[3]), m[0], m[1], m[2]); err != nil {
			return err
		}
	}
	return nil
}

// refoldDepartures re-keys the departures whose userName is not ASCII;
// of departures that come to share a key, the most recent stays.
func (s *Store) refoldDepartures(ctx context.Context, r *reader) error {
	type dep struct {
		tenant, key, name, role string
		at                      sql.NullInt64
	}
	rows, err := r.query(ctx, "refold: read scim_departures",
		"SELECT tenant, user_name_folded, user_name, role, time FROM scim_departures WHERE "+s.notASCII("user_name"))
	if err != nil {
		return err
	}
	var moved []dep
	for rows.Next() {
		var d dep
		if err := rows.Scan(&d.tenant, &d.key, &d.name, &d.role, &d.at); err != nil {
			rows.Close()
			return s.wrap("refold: read scim_departures", err)
		}
		if fold(d.name) != d.key {
			moved = append(moved, d)
		}
	}
	if err := doneRows(rows); err != nil {
		return s.wrap("refold: read scim_departures", err)
	}
	for _, d := range moved {
		if _, err := r.exec(ctx, "refold: scim_departures", "DELETE FROM scim_departures WHERE tenant = ? AND user_name_folded = ?", d.tenant, d.key); err != nil {
			return err
		}
	}
	for _, d := range moved {
		key := fold(d.name)
		var at sql.NullInt64
		err := r.q.QueryRowContext(ctx, r.rebind("SELECT time FROM scim_departures WHERE tenant = ? AND user_name_folded = ?"), d.tenant, key).Scan(&at)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return s.wrap("refold: read scim_departures", err)
		case at.Int64 >= d.at.Int64:
			continue // the one there is as recent
		default:
			if _, err := r.exec(ctx, "refold: scim_departures", "DELETE FROM scim_departures WHERE tenant = ? AND user_name_folded = ?", d.tenant, key); err != nil {
				return err
			}
		}
		if _, err := r.exec(ctx, "refold: scim_departures",
			"INSERT INTO scim_departures (tenant, user_name_folded, user_name, role, time) VALUES (?, ?, ?, ?, ?)",
			d.tenant, key, d.name, d.role, d.at); err != nil {
			return err
		}
	}
	return nil
}

// doneRows closes rows and returns the error that ended them, if any.
func doneRows(rows *sql.Rows) error {
	if err := rows.Err(); err != nil {
		rows.Close()
		return err
	}
	return rows.Close()
}
