package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"

	"github.com/scimkit/scim/store"
)

// Paging without O(N²) walks.
//
// An identity provider imports a tenant by walking its users page by page
// (startIndex 1, 101, 201, …). With LIMIT/OFFSET and a COUNT(*) per page,
// each page costs the number of rows before it, and a walk of N users
// costs O(N²). Two things keep an unfiltered walk in the Store's own order
// (seq) linear:
//
//   - The total comes from per-tenant counters in scim_tenants (user_count,
//     group_count), which every write keeps in its own transaction.
//   - A cursor cache remembers, per tenant and kind, where recently served
//     pages ended: "the first n resources are those with seq <= s". The
//     next page at offset n seeks seq > s instead of skipping n rows.
//
// A remembered position stays true as long as no resource of the tenant
// was deleted: writers of a tenant are serialised (see Store.Update), so
// each new row gets a larger seq than every committed one and never lands
// before a remembered position, and updates do not move rows. Deletions
// are counted (user_deletes, group_deletes); a position is used only when
// the count read in the same snapshot as the page equals the count it was
// remembered under, else the page falls back to OFFSET. Positions are
// remembered only from read-only transactions (View), which see committed
// data, never from an Update that might roll back.
//
// A ManagedOnly list of users is a list of its own, with its own counter
// (managed_count) and its own remembered positions. Besides deletions, a
// user that becomes managed or stops being managed in place (an update,
// keeping its seq) moves rows of that list before a remembered position;
// such changes are counted (managed_changes), and a position of the
// managed list is valid while user_deletes + managed_changes is unchanged.

// tenantCounts is one tenant's row of counters.
type tenantCounts struct {
	users, groups             int64
	userDeletes, groupDeletes int64
	// managed counts the managed users; managedChanges counts users that
	// became managed or stopped being managed without being created or
	// deleted.
	managed, managedChanges int64
	// epoch is when the tenant's row was created (0 when it has none):
	// a tenant deleted and written again has a new epoch, so positions
	// remembered of the deleted one, by any process, are never used.
	// Read by counts only; never pending.
	epoch int64
}

// of returns the number of resources of a list and the count of changes
// that invalidate its remembered positions.
func (c tenantCounts) of(k kind, managedOnly bool) (count, deletes int64) {
	switch {
	case k == groups:
		return c.groups, c.groupDeletes
	case managedOnly:
		return c.managed, c.userDeletes + c.managedChanges
	}
	return c.users, c.userDeletes
}

// counts reads the tenant's counters, plus the changes of the running
// transaction that are not flushed yet.
func (r *reader) counts(ctx context.Context) (tenantCounts, error) {
	var c tenantCounts
	err := r.q.QueryRowContext(ctx, r.rebind("SELECT user_count, group_count, user_deletes, group_deletes, managed_count, managed_changes, created FROM scim_tenants WHERE name = ?"), r.tenant).
		Scan(&c.users, &c.groups, &c.userDeletes, &c.groupDeletes, &c.managed, &c.managedChanges, &c.epoch)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return c, r.s.wrapCtx(ctx, "count", err)
	}
	if p := r.pending; p != nil {
		c.users += p.users
		c.groups += p.groups
		c.userDeletes += p.userDeletes
		c.groupDeletes += p.groupDeletes
		c.managed += p.managed
		c.managedChanges += p.managedChanges
	}
	return c, nil
}

// flushCounts writes the transaction's counter changes to the tenant's row,
// which the transaction has locked.
func (t *storeTx) flushCounts(ctx context.Context) error {
	if *t.pending == (tenantCounts{}) {
		return nil
	}
	_, err := t.writeCounts(ctx, "update counters", 0)
	return err
}

// writeCounts adds the transaction's counter changes not written yet to the
// tenant's row, and events to its last event Seq. When events is positive
// it returns the new last Seq (read by the same statement on SQLite and
// PostgreSQL, by a second one on MySQL, which lacks RETURNING).
func (t *storeTx) writeCounts(ctx context.Context, op string, events int64) (lastSeq int64, err error) {
	p := t.pending
	const update = "UPDATE scim_tenants SET user_count = user_count + ?, group_count = group_count + ?, user_deletes = user_deletes + ?, group_deletes = group_deletes + ?, managed_count = managed_count + ?, managed_changes = managed_changes + ?, event_seq = event_seq + ? WHERE name = ?"
	args := []any{p.users, p.groups, p.userDeletes, p.groupDeletes, p.managed, p.managedChanges, events, t.tenant}
	switch {
	case events == 0:
		_, err = t.exec(ctx, op, update, args...)
	case t.s.dialect == MySQL:
		if _, err = t.exec(ctx, op, update, args...); err == nil {
			err = t.s.wrapCtx(ctx, op, t.q.QueryRowContext(ctx, "SELECT event_seq FROM scim_tenants WHERE name = ?", t.tenant).Scan(&lastSeq))
		}
	default:
		err = t.s.wrapCtx(ctx, op, t.q.QueryRowContext(ctx, t.rebind(update+" RETURNING event_seq"), args...).Scan(&lastSeq))
	}
	if err != nil {
		return 0, err
	}
	*p = tenantCounts{}
	return lastSeq, nil
}

// page runs the count and the page query of a list and returns the seqs of
// the page's rows in order, honouring q.ManagedOnly for users. A filtered
// first page (a lookup by userName, externalId, displayName…) selects the
// given columns at once and hands each row to load, saving a second query;
// loaded reports that it did.
// Other pages select seqs only, so that an OFFSET skips narrow index
// entries, and the caller reads the rows by seq.
func (r *reader) page(ctx context.Context, k kind, q store.Query, columns string, load func(*sql.Rows) (int64, error)) (total int, seqs []int64, loaded bool, err error) {
	table := "scim_users"
	if k == groups {
		table = "scim_groups"
	}
	b := &builder{d: r.s.dialect}
	tenantArg := b.bind(r.tenant)
	cond, err := b.where(k, q.Filter)
	if err != nil {
		return 0, nil, false, err
	}
	// ManagedOnly is served by the index on (tenant, managed, seq).
	managedOnly := q.ManagedOnly && k == users
	where := " FROM " + table + " r WHERE r.tenant = " + tenantArg
	if managedOnly {
		if _, ids := idList(q.Filter, nil); ids && r.s.dialect == SQLite {
			// Unary plus keeps SQLite's planner off the (tenant, managed,
			// seq) index, which would walk every managed user of the
			// tenant, rather than look the ids up (a membership batch).
			where += " AND +r.managed = TRUE"
		} else {
			where += " AND r.managed = TRUE"
		}
	}
	where += " AND " + cond

	// Only a list without a filter has its total in the counters: every
	// resource of the tenant (user_count, group_count) or, with
	// ManagedOnly, every managed user (managed_count). Any other selection
	// added to the query must turn this path off or keep a counter of its
	// own, see tenantCounts.of.
	plain := cond == sqlTrue
	countSQL, countArgs := "SELECT COUNT(*)"+where, len(b.args)
	count := func() (int, error) {
		var n int
		err := r.q.QueryRowContext(ctx, countSQL, b.args[:countArgs]...).Scan(&n)
		return n, r.s.wrapCtx(ctx, "count", err)
	}
	total = -1 // not known yet
	var deletes, epoch int64
	if plain {
		c, err := r.counts(ctx)
		if err != nil {
			return 0, nil, false, err
		}
		n, d := c.of(k, managedOnly)
		total, deletes, epoch = int(n), d, c.epoch
		if q.Limit <= 0 || q.Offset >= total {
			return total, nil, false, nil
		}
	} else if q.Limit <= 0 {
		total, err := count()
		return total, nil, false, err
	}
	offset := max(q.Offset, 0)

	// The cursor cache serves the Store's own order, unfiltered, in
	// read-only transactions.
	cacheable := plain && q.SortBy.IsZero() && r.pending == nil
	key := cursorKey{tenant: r.tenant, epoch: epoch, kind: k, managedOnly: managedOnly}
	if cacheable {
		if from, ok := r.s.cursors.find(key, deletes, offset); ok {
			where += " AND r.seq > " + b.bind(from.seq)
			offset -= from.offset
		}
	}
	order := b.orderBy(k, q.SortBy, q.Descending)
	loaded = !plain && offset == 0
	selected := "r.seq"
	if loaded {
		selected = columns
	}
	sqlText := "SELECT " + selected + where + " ORDER BY " + order + " LIMIT " + b.bind(q.Limit)
	if offset > 0 {
		sqlText += " OFFSET " + b.bind(offset)
	}
	rows, err := r.q.QueryContext(ctx, sqlText, b.args...)
	if err != nil {
		return 0, nil, false, r.s.wrapCtx(ctx, "list", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		if loaded {
			seq, err = load(rows)
		} else {
			err = rows.Scan(&seq)
		}
		if err != nil {
			return 0, nil, false, r.s.wrapCtx(ctx, "list", err)
		}
		seqs = append(seqs, seq)
	}
	if err := rows.Err(); err != nil {
		return 0, nil, false, r.s.wrapCtx(ctx, "list", err)
	}
	if total < 0 {
		switch {
		case len(seqs) > 0 && len(seqs) < q.Limit:
			// A page that is not full ends the result: no COUNT(*) needed,
			// which halves the cost of a lookup by userName or externalId.
			total = max(q.Offset, 0) + len(seqs)
		case len(seqs) == 0 && q.Offset <= 0:
			total = 0
		default:
			if total, err = count(); err != nil {
				return 0, nil, false, err
			}
		}
	}
	if cacheable && len(seqs) > 0 {
		r.s.cursors.remember(key, cursor{deletes: deletes, offset: max(q.Offset, 0) + len(seqs), seq: seqs[len(seqs)-1]})
	}
	return total, seqs, loaded, nil
}

// cursorKey names one list whose positions are remembered.
type cursorKey struct {
	tenant      string
	epoch       int64 // see tenantCounts.epoch
	kind        kind
	managedOnly bool
}

// cursor says that, while the tenant's deletion count is deletes (for a
// ManagedOnly list, deletions plus managed changes), the first offset
// resources of the list (in seq order) are those with seq <= seq.
type cursor struct {
	deletes int64
	offset  int
	seq     int64
}

// Bounds of the cursor cache: a few positions per list (walks of several
// clients at once), for a bounded number of tenants.
const (
	cursorsPerKey = 8
	cursorKeys    = 4096
)

// cursorCache remembers recent page ends; it is safe for concurrent use.
type cursorCache struct {
	mu sync.Mutex
	m  map[cursorKey][]cursor // most recent first
}

// find returns the remembered position nearest below offset that is valid
// under the given deletion count.
func (c *cursorCache) find(key cursorKey, deletes int64, offset int) (cursor, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var best cursor
	found := false
	for _, cur := range c.m[key] {
		if cur.deletes == deletes && cur.offset <= offset && (!found || cur.offset > best.offset) {
			best, found = cur, true
		}
	}
	return best, found
}

// remember records a page end, dropping positions made stale by deletions.
func (c *cursorCache) remember(key cursorKey, cur cursor) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[cursorKey][]cursor{}
	}
	old, ok := c.m[key]
	if !ok && len(c.m) >= cursorKeys {
		for k := range c.m { // evict an arbitrary list
			delete(c.m, k)
			break
		}
	}
	list := make([]cursor, 0, cursorsPerKey)
	list = append(list, cur)
	for _, o := range old {
		if len(list) == cursorsPerKey {
			break
		}
		if o.deletes == cur.deletes && o.offset != cur.offset {
			list = append(list, o)
		}
	}
	c.m[key] = list
}
