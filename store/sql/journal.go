package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/scimkit/scim/store"
)

var _ store.JournalStore = (*Store)(nil)

const journalColumns = "seq, time, method, path, status, latency, client, token_id, summary, error, user_id"

// journalRowsPerInsert bounds the rows of one INSERT: 11 parameters a row
// stay far below every engine's limit on parameters.
const journalRowsPerInsert = 500

// AppendJournal implements store.JournalStore with one multi-row INSERT
// per 500 entries. The database assigns Seq (an identity column).
func (s *Store) AppendJournal(ctx context.Context, tenant string, entries []store.JournalEntry) error {
	if len(entries) == 0 {
		return s.ready(ctx)
	}
	return s.journalWrite(ctx, tenant, func(r *reader) error {
		for chunk := range sliceChunks(entries, journalRowsPerInsert) {
			var b strings.Builder
			b.WriteString("INSERT INTO scim_journal (tenant, time, method, path, status, latency, client, token_id, summary, error, user_id) VALUES ")
			args := make([]any, 0, 11*len(chunk))
			for i, e := range chunk {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
				args = append(args, tenant, e.Time.UnixNano(), e.Method, e.Path, e.Status, int64(e.Latency),
					e.Client, e.TokenID, e.Summary, e.Error, e.UserID)
			}
			if _, err := r.exec(ctx, "append journal", b.String(), args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// sliceChunks yields xs in consecutive pieces of at most n elements.
func sliceChunks[T any](xs []T, n int) func(yield func([]T) bool) {
	return func(yield func([]T) bool) {
		for len(xs) > 0 {
			k := min(n, len(xs))
			if !yield(xs[:k]) {
				return
			}
			xs = xs[k:]
		}
	}
}

// Journal implements store.JournalStore with one index range scan.
func (s *Store) Journal(ctx context.Context, tenant string, limit int) ([]store.JournalEntry, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	out := []store.JournalEntry{}
	if limit <= 0 {
		return out, nil
	}
	r := &reader{s: s, q: s.db}
	rows, err := r.query(ctx, "read journal", "SELECT "+journalColumns+" FROM scim_journal WHERE tenant = ? ORDER BY time DESC, seq DESC LIMIT ?", tenant, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			e           store.JournalEntry
			at, latency int64
		)
		if err := rows.Scan(&e.Seq, &at, &e.Method, &e.Path, &e.Status, &latency, &e.Client, &e.TokenID, &e.Summary, &e.Error, &e.UserID); err != nil {
			return nil, s.wrap("read journal", err)
		}
		e.Time, e.Latency = time.Unix(0, at).UTC(), time.Duration(latency)
		out = append(out, e)
	}
	return out, s.wrapCtx(ctx, "read journal", rows.Err())
}

// PruneJournal implements store.JournalStore: it finds the newest entry
// beyond keep with one index probe, then deletes it and everything older,
// and what is older than olderThan, in one DELETE.
func (s *Store) PruneJournal(ctx context.Context, tenant string, keep int, olderThan time.Time) (int, error) {
	var n int64
	err := s.journalWrite(ctx, tenant, func(r *reader) error {
		where := "time < ?"
		var cut int64 = minTime
		if !olderThan.IsZero() {
			cut = olderThan.UnixNano()
		}
		args := []any{tenant, cut}
		if keep >= 0 {
			var at, seq int64
			err := r.q.QueryRowContext(ctx, r.rebind("SELECT time, seq FROM scim_journal WHERE tenant = ? ORDER BY time DESC, seq DESC LIMIT 1 OFFSET ?"), tenant, keep).Scan(&at, &seq)
			switch {
			case err == nil:
				where = "(time < ? OR time < ? OR (time = ? AND seq <= ?))"
				args = append(args, at, at, seq)
			case !errors.Is(err, sql.ErrNoRows):
				return s.wrapCtx(ctx, "prune journal", err)
			}
		}
		res, err := r.exec(ctx, "prune journal", "DELETE FROM scim_journal WHERE tenant = ? AND "+where, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return s.wrap("prune journal", err)
	})
	return int(n), err
}

// minTime is below every stored time: "time < minTime" holds for none.
const minTime = -1 << 63

// EraseJournal implements store.JournalStore with one UPDATE on the index
// of (tenant, user_id).
func (s *Store) EraseJournal(ctx context.Context, tenant, userID string) (int, error) {
	if userID == "" {
		return 0, s.ready(ctx)
	}
	var n int64
	err := s.journalWrite(ctx, tenant, func(r *reader) error {
		res, err := r.exec(ctx, "erase journal", "UPDATE scim_journal SET user_id = '', error = '', path = REPLACE(path, ?, ?) WHERE tenant = ? AND user_id = ?",
			userID, store.ErasedUserID, tenant, userID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return s.wrap("erase journal", err)
	})
	return int(n), err
}

// journalWrite runs a write of the journal outside any tenant's lock: on
// SQLite in the write queue, with the writes waiting there (see
// groupcommit.go), since SQLite has one writer at a time anyway; on
// PostgreSQL and MySQL on the pool, so that it never waits for the
// tenant's writes nor holds them up.
func (s *Store) journalWrite(ctx context.Context, tenant string, fn func(r *reader) error) error {
	if s.dialect == SQLite {
		return s.Update(ctx, tenant, func(tx store.Tx) error { return fn(&tx.(*storeTx).reader) })
	}
	if err := s.ready(ctx); err != nil {
		return err
	}
	return fn(&reader{s: s, q: s.db})
}
