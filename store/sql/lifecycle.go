package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/scimkit/scim/store"
)

// The optional powers of the data lifecycle (store/lifecycle.go).
var (
	_ store.EventPruner   = (*Store)(nil)
	_ store.Eraser        = (*Store)(nil)
	_ store.TenantLister  = (*Store)(nil)
	_ store.TenantDeleter = (*Store)(nil)
)

// tenantTables lists every table that holds rows of a tenant, with the
// column naming the tenant: DeleteTenant deletes from each, in this order
// (scim_tenants, whose row the deletion holds locked, last). A migration
// that adds a table with a tenant column adds one line here; the test
// TestDeleteTenantLeavesNoRow finds such tables in the database's catalog
// and fails when one is missing.
var tenantTables = []struct{ table, column string }{
	{"scim_members", "tenant"},
	{"scim_emails", "tenant"},
	{"scim_users", "tenant"},
	{"scim_groups", "tenant"},
	{"scim_events", "tenant"},
	{"scim_departures", "tenant"},
	{"scim_tokens", "tenant"},
	{"scim_left_groups", "tenant"},
	{"scim_guard_users", "tenant"},
	{"scim_guard_state", "tenant"},
	{"scim_journal", "tenant"},
	{"scim_tenants", "name"},
}

// PruneEvents implements store.EventPruner with one DELETE per rule, each
// an index range of the tenant (by seq, or by time for Before). The
// tenant's event_seq counter in scim_tenants is left alone, so Seq values
// are never reused. It runs outside Update: deleting committed events
// does not conflict with writers, which only insert larger Seq values.
func (s *Store) PruneEvents(ctx context.Context, tenant string, p store.EventPrune) (int, error) {
	if err := s.ready(ctx); err != nil {
		return 0, err
	}
	r := &reader{s: s, q: s.db, tenant: tenant}
	upTo := p.UpTo
	if p.Keep > 0 {
		// The Seq of the newest event that is not kept, if any.
		var seq int64
		err := r.q.QueryRowContext(ctx, r.rebind("SELECT seq FROM scim_events WHERE tenant = ? ORDER BY seq DESC LIMIT 1 OFFSET ?"), tenant, p.Keep).Scan(&seq)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return 0, s.wrapCtx(ctx, "prune events", err)
		default:
			upTo = max(upTo, seq)
		}
	}
	total := 0
	if upTo > 0 {
		res, err := r.exec(ctx, "prune events", "DELETE FROM scim_events WHERE tenant = ? AND seq <= ?", tenant, upTo)
		if err != nil {
			return 0, err
		}
		total += affected(res)
	}
	if !p.Before.IsZero() {
		res, err := r.exec(ctx, "prune events", "DELETE FROM scim_events WHERE tenant = ? AND time < ?", tenant, p.Before.UnixNano())
		if err != nil {
			return total, err
		}
		total += affected(res)
	}
	return total, nil
}

func affected(res sql.Result) int {
	n, _ := res.RowsAffected()
	return int(n)
}

// EraseUser implements store.Eraser in one Update of the tenant: it reads
// the user's events that still hold personal data (an index hit on
// (tenant, user_id)), rewrites each document without it, and deletes the
// user's departures.
func (s *Store) EraseUser(ctx context.Context, tenant, userID string) (int, error) {
	var n int
	err := s.Update(ctx, tenant, func(tx store.Tx) error {
		var err error
		n, err = tx.(*storeTx).eraseUser(ctx, userID)
		return err
	})
	return n, err
}

func (t *storeTx) eraseUser(ctx context.Context, userID string) (int, error) {
	rows, err := t.query(ctx, "erase user", "SELECT seq, doc FROM scim_events WHERE tenant = ? AND user_id = ? AND personal = ?", t.tenant, userID, true)
	if err != nil {
		return 0, err
	}
	type erased struct {
		seq int64
		doc string
	}
	var docs []erased
	names := map[string]bool{}
	for rows.Next() {
		var seq int64
		var doc string
		if err := rows.Scan(&seq, &doc); err != nil {
			rows.Close()
			return 0, t.s.wrapCtx(ctx, "erase user", err)
		}
		var e store.Event
		if err := json.Unmarshal([]byte(doc), &e); err != nil {
			rows.Close()
			return 0, fmt.Errorf("sqlstore: decode event %d of tenant %q: %w", seq, t.tenant, err)
		}
		for _, u := range []*store.User{e.Before, e.After} {
			if u != nil && u.UserName() != "" {
				names[fold(u.UserName())] = true
			}
		}
		raw, err := json.Marshal(store.EraseEvent(e))
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("sqlstore: encode event %d: %w", seq, err)
		}
		docs = append(docs, erased{seq, string(raw)})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, t.s.wrapCtx(ctx, "erase user", err)
	}
	for _, d := range docs {
		if _, err := t.exec(ctx, "erase user", "UPDATE scim_events SET doc = ?, personal = ? WHERE tenant = ? AND seq = ?", d.doc, false, t.tenant, d.seq); err != nil {
			return 0, err
		}
	}
	n := len(docs)
	res, err := t.exec(ctx, "erase user", "DELETE FROM scim_departures WHERE tenant = ? AND user_id = ?", t.tenant, userID)
	if err != nil {
		return 0, err
	}
	n += affected(res)
	// Departures recorded without a user id, under a name the user had.
	folded := make([]string, 0, len(names))
	for k := range names {
		folded = append(folded, k)
	}
	for lo := 0; lo < len(folded); lo += chunkSize {
		part := folded[lo:min(len(folded), lo+chunkSize)]
		res, err := t.exec(ctx, "erase user", "DELETE FROM scim_departures WHERE tenant = ? AND user_id = '' AND user_name_folded IN "+inList(len(part)),
			append([]any{t.tenant}, anys(part)...)...)
		if err != nil {
			return 0, err
		}
		n += affected(res)
	}
	return n, nil
}

// Departed implements store.Eraser: the users whose UserDeprovisioned
// event still holds personal data, and the users with a departure, at or
// before the time given.
func (s *Store) Departed(ctx context.Context, tenant string, before time.Time, limit int) ([]string, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	r := &reader{s: s, q: s.db, tenant: tenant}
	at := before.UnixNano()
	rows, err := r.query(ctx, "list departed users", `SELECT user_id, MIN(time) AS first FROM (
	SELECT user_id, time FROM scim_events WHERE tenant = ? AND type = ? AND personal = ? AND time <= ? AND user_id <> ''
	UNION ALL
	SELECT user_id, time FROM scim_departures WHERE tenant = ? AND user_id <> '' AND time <= ?
) d GROUP BY user_id ORDER BY first, user_id LIMIT ?`, tenant, string(store.UserDeprovisioned), true, at, tenant, at, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		var first int64
		if err := rows.Scan(&id, &first); err != nil {
			return nil, s.wrap("list departed users", err)
		}
		out = append(out, id)
	}
	return out, s.wrap("list departed users", rows.Err())
}

// Tenants implements store.TenantLister: the rows of scim_tenants, one per
// tenant that has been written.
func (s *Store) Tenants(ctx context.Context) ([]string, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	r := &reader{s: s, q: s.db}
	rows, err := r.query(ctx, "list tenants", "SELECT name FROM scim_tenants ORDER BY name")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, s.wrap("list tenants", err)
		}
		out = append(out, name)
	}
	return out, s.wrap("list tenants", rows.Err())
}

// DeleteTenant implements store.TenantDeleter: one Update of the tenant
// that deletes its rows from every table of tenantTables. Taking the
// tenant's write lock first, it waits for the tenant's running writes; a
// write that starts afterwards creates the tenant again, empty. This
// process forgets its remembered paging positions of the tenant.
func (s *Store) DeleteTenant(ctx context.Context, tenant string) error {
	err := s.Update(ctx, tenant, func(tx store.Tx) error {
		t := tx.(*storeTx)
		for _, tt := range tenantTables {
			if _, err := t.exec(ctx, "delete tenant", "DELETE FROM "+tt.table+" WHERE "+tt.column+" = ?", t.tenant); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		s.cursors.forget(tenant)
	}
	return err
}

// forget drops the remembered positions of the tenant.
func (c *cursorCache) forget(tenant string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if k.tenant == tenant {
			delete(c.m, k)
		}
	}
}
