package memory

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/scimkit/scim/store"
)

var _ store.JournalStore = (*Store)(nil)

// journalTable holds the Store's request journal, apart from the tenants'
// data: appending to it is never part of a write. Its zero value is empty
// and ready.
type journalTable struct {
	mu      sync.Mutex
	seq     int64
	tenants map[string][]store.JournalEntry // oldest first, by Time then Seq
}

// journalOrder orders entries oldest first: by Time, then by Seq.
func journalOrder(a, b store.JournalEntry) int {
	if c := a.Time.Compare(b.Time); c != 0 {
		return c
	}
	return cmp.Compare(a.Seq, b.Seq)
}

// AppendJournal implements store.JournalStore. Entries arriving in time
// order go at the end; an older one is inserted in its place.
func (s *Store) AppendJournal(ctx context.Context, tenant string, entries []store.JournalEntry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	jt := &s.journal
	jt.mu.Lock()
	defer jt.mu.Unlock()
	if jt.tenants == nil {
		jt.tenants = map[string][]store.JournalEntry{}
	}
	list := jt.tenants[tenant]
	for _, e := range entries {
		jt.seq++
		e.Seq = jt.seq
		i, _ := slices.BinarySearchFunc(list, e, journalOrder)
		list = slices.Insert(list, i, e)
	}
	jt.tenants[tenant] = list
	return nil
}

// Journal implements store.JournalStore.
func (s *Store) Journal(ctx context.Context, tenant string, limit int) ([]store.JournalEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	jt := &s.journal
	jt.mu.Lock()
	defer jt.mu.Unlock()
	list := jt.tenants[tenant]
	out := make([]store.JournalEntry, 0, max(0, min(limit, len(list))))
	for i := len(list) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, list[i])
	}
	return out, nil
}

// PruneJournal implements store.JournalStore.
func (s *Store) PruneJournal(ctx context.Context, tenant string, keep int, olderThan time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	jt := &s.journal
	jt.mu.Lock()
	defer jt.mu.Unlock()
	list := jt.tenants[tenant]
	drop := 0
	if keep >= 0 && len(list) > keep {
		drop = len(list) - keep
	}
	for drop < len(list) && list[drop].Time.Before(olderThan) {
		drop++
	}
	if drop == 0 {
		return 0, nil
	}
	if drop == len(list) {
		delete(jt.tenants, tenant)
	} else {
		jt.tenants[tenant] = slices.Clone(list[drop:])
	}
	return drop, nil
}

// EraseJournal implements store.JournalStore.
func (s *Store) EraseJournal(ctx context.Context, tenant, userID string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if userID == "" {
		return 0, nil
	}
	jt := &s.journal
	jt.mu.Lock()
	defer jt.mu.Unlock()
	n := 0
	for i, e := range jt.tenants[tenant] {
		if e.UserID == userID {
			jt.tenants[tenant][i] = store.EraseJournalEntry(e, userID)
			n++
		}
	}
	return n, nil
}

// deleteTenant drops the tenant's journal.
func (jt *journalTable) deleteTenant(tenant string) {
	jt.mu.Lock()
	defer jt.mu.Unlock()
	delete(jt.tenants, tenant)
}
