package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/scimkit/scim/store"
)

// The deprovisioning guard's state, in scim_guard_state (one row per
// tenant) and scim_guard_users (the users counted in the window).
var (
	_ store.GuardTx    = (*storeTx)(nil)
	_ store.GuardStore = (*Store)(nil)
)

// GuardWindow implements store.GuardTx: one DELETE through the index on
// (tenant, at) forgets the users that left the window, and one SELECT
// reads the state and looks the user up by primary key. Both run under
// the tenant's lock that Update took, so they see every deprovisioning
// committed before, by any handler.
func (t *storeTx) GuardWindow(ctx context.Context, since time.Time, userID string) (store.GuardState, bool, error) {
	res, err := t.exec(ctx, "guard window", "DELETE FROM scim_guard_users WHERE tenant = ? AND at < ?", t.tenant, since.UnixNano())
	if err != nil {
		return store.GuardState{}, false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return store.GuardState{}, false, t.s.wrapCtx(ctx, "guard window", err)
	}
	if n > 0 {
		if _, err := t.exec(ctx, "guard window", "UPDATE scim_guard_state SET counted = counted - ? WHERE tenant = ?", n, t.tenant); err != nil {
			return store.GuardState{}, false, err
		}
	}
	var st store.GuardState
	var counted int
	err = t.q.QueryRowContext(ctx, t.rebind("SELECT s.counted, s.base, s.held, s.reason, "+
		"(SELECT COUNT(*) FROM scim_guard_users u WHERE u.tenant = s.tenant AND u.user_id = ?) "+
		"FROM scim_guard_state s WHERE s.tenant = ?"), userID, t.tenant).Scan(&st.Count, &st.Base, &st.Held, &st.Reason, &counted)
	if errors.Is(err, sql.ErrNoRows) {
		// No row, no user counted: a release deletes both.
		return store.GuardState{}, false, nil
	}
	if err != nil {
		return store.GuardState{}, false, t.s.wrapCtx(ctx, "guard window", err)
	}
	return st, counted > 0, nil
}

// upsertGuard writes the tenant's row of scim_guard_state: insert sets
// the columns of a new row (tenant first, then counted, base, held,
// reason), set those of an existing one.
func (t *storeTx) upsertGuard(ctx context.Context, op string, insert []any, set string, setArgs ...any) error {
	q := "INSERT INTO scim_guard_state (tenant, counted, base, held, reason) VALUES (?, ?, ?, ?, ?) "
	if t.s.dialect == MySQL {
		q += "ON DUPLICATE KEY UPDATE "
	} else {
		q += "ON CONFLICT (tenant) DO UPDATE SET "
	}
	_, err := t.exec(ctx, op, q+set, append(append([]any{t.tenant}, insert...), setArgs...)...)
	return err
}

// CountDeprovisioning implements store.GuardTx.
func (t *storeTx) CountDeprovisioning(ctx context.Context, userID string, at time.Time, base int) error {
	const op = "count deprovisioning"
	// SQLite and PostgreSQL skip a user already counted (ON CONFLICT DO
	// NOTHING); MySQL, whose INSERT IGNORE would swallow other errors
	// too, looks first.
	onConflict := " ON CONFLICT DO NOTHING"
	if t.s.dialect == MySQL {
		onConflict = ""
		counted, err := t.exists(ctx, op, "SELECT 1 FROM scim_guard_users WHERE tenant = ? AND user_id = ?", t.tenant, userID)
		if err != nil || counted {
			return err
		}
	}
	res, err := t.exec(ctx, op, "INSERT INTO scim_guard_users (tenant, user_id, at) VALUES (?, ?, ?)"+onConflict, t.tenant, userID, at.UnixNano())
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return t.s.wrapCtx(ctx, op, err)
	} else if n == 0 {
		return nil
	}
	return t.upsertGuard(ctx, op, []any{1, base, false, ""},
		"counted = scim_guard_state.counted + 1, base = ?", base)
}

// HoldDeprovisioning implements store.GuardTx.
func (t *storeTx) HoldDeprovisioning(ctx context.Context, reason string) error {
	return t.upsertGuard(ctx, "hold deprovisioning", []any{0, 0, true, reason}, "held = ?, reason = ?", true, reason)
}

// ReleaseDeprovisioning implements store.GuardTx.
func (t *storeTx) ReleaseDeprovisioning(ctx context.Context) (bool, error) {
	const op = "release deprovisioning"
	var held bool
	err := t.q.QueryRowContext(ctx, t.rebind("SELECT held FROM scim_guard_state WHERE tenant = ?"), t.tenant).Scan(&held)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil || !held {
		return false, t.s.wrapCtx(ctx, op, err)
	}
	for _, table := range []string{"scim_guard_users", "scim_guard_state"} {
		if _, err := t.exec(ctx, op, "DELETE FROM "+table+" WHERE tenant = ?", t.tenant); err != nil {
			return false, err
		}
	}
	return held, nil
}

// GuardState implements store.GuardStore: one read of the tenant's row,
// outside any Update.
func (s *Store) GuardState(ctx context.Context, tenant string) (store.GuardState, error) {
	if err := s.ready(ctx); err != nil {
		return store.GuardState{}, err
	}
	r := &reader{s: s, q: s.db, tenant: tenant}
	var st store.GuardState
	err := r.q.QueryRowContext(ctx, r.rebind("SELECT counted, base, held, reason FROM scim_guard_state WHERE tenant = ?"), tenant).
		Scan(&st.Count, &st.Base, &st.Held, &st.Reason)
	if errors.Is(err, sql.ErrNoRows) {
		return store.GuardState{}, nil
	}
	return st, s.wrapCtx(ctx, "read guard state", err)
}
