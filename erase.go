package scim

import (
	"context"
	"errors"
	"fmt"

	"github.com/scimkit/scim/store"
)

// ErrUserExists is returned by EraseUser for a user that has not been
// deleted: erasure is for the records kept of users who left.
var ErrUserExists = errors.New("scim: the user still exists; delete it before erasing its personal data")

// eraser erases what one place keeps of a deleted user's personal data,
// returning how many records it changed.
type eraser struct {
	name  string
	erase func(ctx context.Context, tenant, userID string) (int, error)
}

// erasers lists every place that keeps personal data of deleted users.
// EraseUser and Retain run them all, in this order; a new place is one
// entry here.
func (h *Handler) erasers() []eraser {
	var out []eraser
	if e, ok := powerOf[store.Eraser](h.store); ok {
		out = append(out, eraser{"events and departures", e.EraseUser})
	}
	out = append(out, eraser{"journal", h.journal.erase})
	return out
}

// EraseUser erases the personal data of the tenant's deleted user userID
// from what the handler keeps of it: in the store's events, every
// attribute of the user (userName, name, emails, externalId, role
// attribute, extensions: store.EraseEvent), while the events keep their
// Seq, time, type, ids and client; the user's departures (so a later
// re-provisioning of the same userName starts from the default role); and
// in the journal, what identifies the user in the entries of the user's
// requests (see store.JournalStore.EraseJournal). With a store that keeps
// the journal, that covers the entries every Handler over the store has
// written: each writes its entries within a fraction of a second (Close
// writes them at once), so erase a user deleted through another instance
// a second or more after the deletion. It returns the number of records changed: 0 when there was nothing (left)
// to erase.
//
// It returns ErrUserExists when the user still exists, and an error
// wrapping errors.ErrUnsupported when the store does not implement
// store.Eraser (the memory and SQL stores do). Erasing twice is harmless.
// Config.Retention.EraseAfter runs it for every user deprovisioned long
// enough ago, in Retain.
func (h *Handler) EraseUser(ctx context.Context, tenant, userID string) (int, error) {
	if _, ok := powerOf[store.Eraser](h.store); !ok {
		return 0, fmt.Errorf("scim: EraseUser: the store does not implement store.Eraser: %w", errors.ErrUnsupported)
	}
	err := h.store.View(ctx, tenant, func(r store.Reader) error {
		_, err := r.User(ctx, userID)
		return err
	})
	switch {
	case err == nil:
		return 0, ErrUserExists
	case !errors.Is(err, store.ErrNotFound):
		return 0, fmt.Errorf("scim: EraseUser: %w", err)
	}
	total := 0
	for _, e := range h.erasers() {
		n, err := e.erase(ctx, tenant, userID)
		total += n
		if err != nil {
			return total, fmt.Errorf("scim: EraseUser: erase from the %s: %w", e.name, err)
		}
	}
	return total, nil
}

// erase removes from the tenant's journal what identifies the user, as
// store.JournalStore.EraseJournal says: in the entries about the user
// (UserID userID), UserID becomes "", the id in Path
// becomes store.ErasedUserID and Error (a refusal such as "userName … is
// already taken" quotes a value the request carried) becomes "". The
// entries stay, with their time, method, status and summary, which hold no
// value. With a store that keeps the journal, this Handler's buffered
// entries are written first, so that none escapes the erasure.
func (j *journal) erase(ctx context.Context, tenant, userID string) (int, error) {
	if userID == "" {
		return 0, nil
	}
	if j.js != nil {
		if err := j.flush(ctx); err != nil {
			return 0, err
		}
		return j.js.EraseJournal(ctx, tenant, userID)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	rg := j.tenants[tenant]
	if rg == nil {
		return 0, nil
	}
	n := 0
	for i, e := range rg.entries {
		if e.UserID == userID {
			rg.entries[i] = store.EraseJournalEntry(e, userID)
			n++
		}
	}
	return n, nil
}

// forget drops this Handler's journal of the tenant: its ring, or the
// entries not yet written to the store (written after the tenant's
// deletion, they would start the tenant again). The store's journal goes
// with the tenant's other rows (store.TenantDeleter).
func (j *journal) forget(tenant string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	delete(j.tenants, tenant)
	if j.js != nil {
		j.npending -= len(j.pending[tenant])
		delete(j.pending, tenant)
	}
}
