package store

import (
	"context"
	"strings"
	"time"
)

// JournalEntry is one request as the audit journal keeps it: enough for an
// admin page's "last SCIM request" and for troubleshooting, and nothing
// secret — the summary names attributes and operations, never values, and
// the error is the detail the identity provider was sent.
type JournalEntry struct {
	// Seq identifies the entry in the store that holds it; the store
	// assigns it when the entry is appended (a Seq given to AppendJournal
	// is ignored). It increases in the order entries are appended.
	Seq int64
	// Time is when the request arrived.
	Time time.Time
	// Method is the request's HTTP method.
	Method string
	// Path is the request's path below the handler's mount point, without
	// the query.
	Path string
	// Status is the HTTP status answered.
	Status int
	// Latency is how long the handler took to answer.
	Latency time.Duration
	// Client is the identity provider recognised from the User-Agent.
	Client string
	// TokenID identifies the credential used.
	TokenID string
	// Summary says what the request asked, built only from what carries
	// no value: operation names, the schema's attribute names, filter
	// operators and counts ("replace active", "add members (3)",
	// "remove members[value eq …]", "attributes: emails, name, userName,
	// 1 unknown"). A key, path or operation the schema does not define
	// is counted or shown as unknown-path / unknown-op, never copied.
	Summary string
	// Error is the SCIM error detail of a failed request.
	Error string
	// UserID is the id of the user the request concerned (the user read,
	// replaced, patched, deleted or created), "" when it concerned none.
	UserID string
}

// ErasedUserID is what JournalStore.EraseJournal writes in place of the
// erased user's id in an entry's Path.
const ErasedUserID = "…"

// JournalStore is implemented by a Store that keeps the request journal
// (the memory and SQL stores do), so that every Handler over the store
// shows the requests every other one served, and the journal outlives a
// restart. Its methods stand outside View and Update: appending to the
// journal is never part of a request's write.
type JournalStore interface {
	// AppendJournal adds the entries to the tenant's journal, assigning
	// each a Seq. Entries need not be in time order: the journal is read
	// in order of Time.
	AppendJournal(ctx context.Context, tenant string, entries []JournalEntry) error

	// Journal returns the tenant's newest entries, newest first (by Time,
	// then by Seq descending), limit of them at most. limit <= 0 means
	// none. A tenant without entries has none: an empty slice and no
	// error.
	Journal(ctx context.Context, tenant string, limit int) ([]JournalEntry, error)

	// PruneJournal deletes the tenant's entries beyond the keep newest
	// (in Journal's order), and those whose Time is before olderThan (the
	// zero time: none by age). keep < 0 keeps any number. It returns how
	// many entries it deleted. Its cost follows the entries deleted, not
	// those kept.
	PruneJournal(ctx context.Context, tenant string, keep int, olderThan time.Time) (int, error)

	// EraseJournal removes from the tenant's entries what identifies the
	// user userID: in every entry whose UserID is userID, UserID becomes
	// "", each occurrence of userID in Path becomes ErasedUserID and Error
	// (a detail that may quote what the identity provider sent) becomes
	// "". The entries stay, so that the journal still shows that the
	// requests were served. It returns how many entries it changed; an
	// empty userID changes none.
	EraseJournal(ctx context.Context, tenant, userID string) (int, error)
}

// EraseJournalEntry returns e as JournalStore.EraseJournal leaves an entry
// about the user userID: UserID "", each occurrence of userID in Path
// replaced by ErasedUserID, and Error "". An entry about another user, or
// any entry when userID is "", is returned unchanged.
func EraseJournalEntry(e JournalEntry, userID string) JournalEntry {
	if userID == "" || e.UserID != userID {
		return e
	}
	e.UserID, e.Error = "", ""
	e.Path = strings.ReplaceAll(e.Path, userID, ErasedUserID)
	return e
}
