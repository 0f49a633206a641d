package memory

import (
	"cmp"
	"context"
	"slices"
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

// PruneEvents implements store.EventPruner under the tenant's write lock.
// Events dropped from the front of the outbox (by UpTo and Keep, and by
// Before while the oldest events are the earliest) cost nothing per event
// kept; with Before, the events left are walked once more, and the outbox
// rebuilt when one between kept ones is selected.
func (s *Store) PruneEvents(ctx context.Context, tenantName string, p store.EventPrune) (int, error) {
	t, err := s.lockTenant(ctx, tenantName)
	if t == nil {
		return 0, err
	}
	defer t.mu.Unlock()
	o := &t.events
	n := o.after(p.UpTo)
	if p.Keep > 0 {
		n = max(n, o.len()-p.Keep)
	}
	selected := func(i int) bool { return !p.Before.IsZero() && o.at(i).e.Time.Before(p.Before) }
	for n < o.len() && selected(n) {
		n++
	}
	o.dropFirst(n)
	if p.Before.IsZero() {
		return n, nil
	}
	var kept outbox
	for i := range o.len() {
		if !selected(i) {
			kept.push(*o.at(i))
		}
	}
	dropped := o.len() - kept.len()
	if dropped > 0 {
		*o = kept
	}
	return n + dropped, nil
}

// EraseUser implements store.Eraser under the tenant's write lock. It
// walks the tenant's outbox and departures: erasure is a rare operation of
// an admin or a periodic pass, and this store is for tests and demos.
func (s *Store) EraseUser(ctx context.Context, tenantName, userID string) (int, error) {
	t, err := s.lockTenant(ctx, tenantName)
	if t == nil {
		return 0, err
	}
	defer t.mu.Unlock()
	n := 0
	names := map[string]bool{}
	for i := range t.events.len() {
		rec := t.events.at(i)
		if rec.e.UserID != userID || !rec.personal() {
			continue
		}
		for j := range 2 {
			if rec.has[j] {
				a := store.User{Attributes: decodeAttrs(rec.attrs[j])}
				if name := a.UserName(); name != "" {
					names[fold(name)] = true
				}
			}
			rec.attrs[j], rec.has[j] = nil, false
		}
		n++
	}
	for k, d := range t.departures {
		if d.UserID == userID || (d.UserID == "" && names[k]) {
			delete(t.departures, k)
			n++
		}
	}
	return n, nil
}

// personal reports whether the event's users still carry attributes.
func (r *eventRec) personal() bool { return r.has[0] || r.has[1] }

// Departed implements store.Eraser by a walk over the tenant's outbox and
// departures.
func (s *Store) Departed(ctx context.Context, tenantName string, before time.Time, limit int) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t := s.tenant(tenantName)
	if t == nil || limit <= 0 {
		return nil, nil
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	first := map[string]time.Time{}
	note := func(id string, at time.Time) {
		if id == "" || at.After(before) {
			return
		}
		if f, ok := first[id]; !ok || at.Before(f) {
			first[id] = at
		}
	}
	for i := range t.events.len() {
		rec := t.events.at(i)
		if rec.e.Type == store.UserDeprovisioned && rec.personal() {
			note(rec.e.UserID, rec.e.Time)
		}
	}
	for _, d := range t.departures {
		note(d.UserID, d.Time)
	}
	ids := make([]string, 0, len(first))
	for id := range first {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int {
		return cmp.Or(first[a].Compare(first[b]), cmp.Compare(a, b))
	})
	return ids[:min(limit, len(ids))], nil
}

// Tenants implements store.TenantLister: every tenant that has been
// written, in ascending order.
func (s *Store) Tenants(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.tenants))
	for name := range s.tenants {
		out = append(out, name)
	}
	slices.Sort(out)
	return out, nil
}

// DeleteTenant implements store.TenantDeleter: it lets go of the tenant
// and its tokens. It waits for the tenant's running Update to finish; an
// Update that starts afterwards begins a new, empty tenant.
func (s *Store) DeleteTenant(ctx context.Context, tenantName string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	t := s.tenants[tenantName]
	delete(s.tenants, tenantName)
	s.mu.Unlock()
	if t != nil {
		t.mu.Lock() // wait for a running Update
		t.mu.Unlock()
	}
	s.tokens.deleteTenant(tenantName)
	s.journal.deleteTenant(tenantName)
	return nil
}

// deleteTenant drops the tenant's tokens.
func (tt *tokenTable) deleteTenant(tenant string) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	for _, tok := range tt.byTenant[tenant] {
		delete(tt.byDigest, tok.Digest)
	}
	delete(tt.byTenant, tenant)
}

// lockTenant returns the tenant write-locked, or nil (and ctx's error, if
// it has ended) when ctx has ended or the tenant has never been written.
func (s *Store) lockTenant(ctx context.Context, name string) (*tenant, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t := s.tenant(name)
	if t != nil {
		t.mu.Lock()
	}
	return t, nil
}
