package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/scimkit/scim/store"
)

// The optional powers of package store: an event outbox (scim_events) and
// departures (scim_departures).
var (
	_ store.EventLog           = (*Store)(nil)
	_ store.EventRecorder      = (*storeTx)(nil)
	_ store.DepartureRecorder  = (*storeTx)(nil)
	_ store.LeftGroupsRecorder = (*storeTx)(nil)
)

// RecordEvents implements store.EventRecorder: it writes the events to
// scim_events in the Update's transaction, numbered from one above the
// last Seq the tenant assigned (the Seq they carry is ignored), and sets
// each event's Seq in the slice.
//
// The last Seq is a counter in the tenant's row of scim_tenants, which
// the Update has locked: writers of a tenant apply one after another, so
// Seq values increase in commit order, and an event with a larger Seq
// never becomes visible before one with a smaller Seq. A roll-back takes
// its Seq values back with its events.
func (t *storeTx) RecordEvents(ctx context.Context, events []store.Event) error {
	if len(events) == 0 {
		return nil
	}
	docs := make([]string, len(events))
	for i := range events {
		// Seq is kept out of the document: it lives in its own column.
		e := events[i]
		e.Seq = 0
		raw, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("sqlstore: encode event %s: %w", e.Type, err)
		}
		docs[i] = string(raw)
	}
	// The counters fn changed so far are written by the same statement.
	last, err := t.writeCounts(ctx, "record events", int64(len(events)))
	if err != nil {
		return err
	}
	first := last - int64(len(events)) + 1
	for lo := 0; lo < len(events); lo += chunkSize {
		hi := min(len(events), lo+chunkSize)
		var args []any
		for i := lo; i < hi; i++ {
			args = append(args, t.tenant, first+int64(i), string(events[i].Type), nanos(events[i].Time), docs[i],
				events[i].UserID, events[i].UserID != "" && !store.Erased(events[i]))
		}
		values := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?), ", hi-lo), ", ")
		if _, err := t.exec(ctx, "record events", "INSERT INTO scim_events (tenant, seq, type, time, doc, user_id, personal) VALUES "+values, args...); err != nil {
			return err
		}
	}
	for i := range events {
		events[i].Seq = first + int64(i)
	}
	return nil
}

// Events implements store.EventLog: it returns up to limit events of the
// tenant with Seq greater than after, in Seq order; none when limit is not
// positive. See the package documentation for a consumer's loop.
//
// Events is one statement outside any Update, so it may run while
// writers of the tenant commit: since a Seq is assigned under the tenant's
// lock and committed with it, an event is never seen after a larger Seq
// of the same tenant was. Numbers in the events' attributes come back as
// float64.
func (s *Store) Events(ctx context.Context, tenant string, after int64, limit int) ([]store.Event, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	r := &reader{s: s, q: s.db, tenant: tenant}
	rows, err := r.query(ctx, "read events", "SELECT seq, doc FROM scim_events WHERE tenant = ? AND seq > ? ORDER BY seq LIMIT ?", tenant, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Event
	for rows.Next() {
		var seq int64
		var doc string
		if err := rows.Scan(&seq, &doc); err != nil {
			return nil, s.wrap("read events", err)
		}
		var e store.Event
		if err := json.Unmarshal([]byte(doc), &e); err != nil {
			return nil, fmt.Errorf("sqlstore: decode event %d of tenant %q: %w", seq, tenant, err)
		}
		e.Seq = seq
		out = append(out, e)
	}
	return out, s.wrap("read events", rows.Err())
}

// RecordDeparture implements store.DepartureRecorder, keyed by the
// case-folded userName as UserByUserName compares.
func (t *storeTx) RecordDeparture(ctx context.Context, d store.Departure) error {
	folded := fold(d.UserName)
	// Delete then insert: the tenant lock makes the pair atomic to other
	// writers, and it needs no dialect's upsert.
	if _, err := t.exec(ctx, "record departure", "DELETE FROM scim_departures WHERE tenant = ? AND user_name_folded = ?", t.tenant, folded); err != nil {
		return err
	}
	_, err := t.exec(ctx, "record departure",
		"INSERT INTO scim_departures (tenant, user_name_folded, user_name, role, time, user_id) VALUES (?, ?, ?, ?, ?, ?)",
		t.tenant, folded, d.UserName, d.Role, nanos(d.Time), d.UserID)
	return err
}

// Departure implements store.DepartureRecorder.
func (t *storeTx) Departure(ctx context.Context, userName string) (store.Departure, error) {
	var d store.Departure
	var at *int64
	err := t.q.QueryRowContext(ctx, t.rebind("SELECT user_name, role, time, user_id FROM scim_departures WHERE tenant = ? AND user_name_folded = ?"), t.tenant, fold(userName)).
		Scan(&d.UserName, &d.Role, &at, &d.UserID)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Departure{}, fmt.Errorf("sqlstore: departure of %q: %w", userName, store.ErrNotFound)
	}
	if err != nil {
		return store.Departure{}, t.s.wrapCtx(ctx, "read departure", err)
	}
	d.Time = fromNanos(at)
	return d, nil
}

// RecordLeftGroups implements store.LeftGroupsRecorder: one row per group
// in scim_left_groups, replaced as a whole.
func (t *storeTx) RecordLeftGroups(ctx context.Context, userID string, groupIDs []string) error {
	if _, err := t.exec(ctx, "record left groups", "DELETE FROM scim_left_groups WHERE tenant = ? AND user_id = ?", t.tenant, userID); err != nil {
		return err
	}
	seen := make(map[string]bool, len(groupIDs))
	for _, id := range groupIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		if _, err := t.exec(ctx, "record left groups", "INSERT INTO scim_left_groups (tenant, user_id, group_id) VALUES (?, ?, ?)", t.tenant, userID, id); err != nil {
			return err
		}
	}
	return nil
}

// LeftGroups implements store.LeftGroupsRecorder.
func (t *storeTx) LeftGroups(ctx context.Context, userID string) ([]string, error) {
	rows, err := t.query(ctx, "read left groups", "SELECT group_id FROM scim_left_groups WHERE tenant = ? AND user_id = ? ORDER BY group_id", t.tenant, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, t.s.wrapCtx(ctx, "read left groups", err)
		}
		out = append(out, id)
	}
	return out, t.s.wrapCtx(ctx, "read left groups", rows.Err())
}
