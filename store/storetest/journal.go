package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/scimkit/scim/store"
)

// journalFixture returns a fixture for a Journal subtest and the store as
// a JournalStore, or skips.
func journalFixture(t *testing.T, newStore func(t *testing.T) store.Store) (*fixture, store.JournalStore) {
	t.Helper()
	return powerFixture[store.JournalStore](t, newStore, "no shared journal to test")
}

// entry returns a journal entry of a request at at(minute) about userID.
func entry(minute int, method, path, userID string) store.JournalEntry {
	return store.JournalEntry{
		Time: at(minute), Method: method, Path: path, Status: 200, Latency: time.Duration(minute+1) * time.Millisecond,
		Client: "okta", TokenID: "tok-1", Summary: "attributes: userName", UserID: userID,
	}
}

func (f *fixture) appendJournal(js store.JournalStore, entries ...store.JournalEntry) {
	f.t.Helper()
	if err := js.AppendJournal(f.ctx, f.tenant, entries); err != nil {
		f.t.Fatalf("AppendJournal: %v", err)
	}
}

func (f *fixture) journal(js store.JournalStore, limit int) []store.JournalEntry {
	f.t.Helper()
	got, err := js.Journal(f.ctx, f.tenant, limit)
	if err != nil {
		f.t.Fatalf("Journal: %v", err)
	}
	return got
}

// ignoreSeq compares entries without the Seq the store assigned.
var ignoreSeq = cmpopts.IgnoreFields(store.JournalEntry{}, "Seq")

// paths returns the Path of each entry, in order.
func paths(entries []store.JournalEntry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Path
	}
	return out
}

func testJournal(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("NewestFirstAcrossAppends", func(t *testing.T) {
		f, js := journalFixture(t, newStore)
		failed := entry(2, "POST", "/Users", "")
		failed.Status, failed.Error = 409, "userName is already taken"
		f.appendJournal(js, entry(0, "GET", "/Users/u1", "u1"), failed)
		// A batch flushed late by another instance: older than the last.
		f.appendJournal(js, entry(1, "PATCH", "/Users/u2", "u2"), entry(3, "DELETE", "/Groups/g1", ""))
		want := []store.JournalEntry{entry(3, "DELETE", "/Groups/g1", ""), failed, entry(1, "PATCH", "/Users/u2", "u2"), entry(0, "GET", "/Users/u1", "u1")}
		got := f.journal(js, 10)
		if diff := gocmp.Diff(want, got, ignoreSeq); diff != "" {
			t.Errorf("Journal (-want +got):\n%s", diff)
		}
		// Seq increases in the order of appending.
		if len(got) == 4 && !(got[3].Seq < got[1].Seq && got[1].Seq < got[2].Seq && got[2].Seq < got[0].Seq) {
			t.Errorf("Seq of GET, POST, PATCH, DELETE = %d, %d, %d, %d: want increasing in append order", got[3].Seq, got[1].Seq, got[2].Seq, got[0].Seq)
		}
		if diff := gocmp.Diff(want[:2], f.journal(js, 2), ignoreSeq); diff != "" {
			t.Errorf("Journal(limit 2) (-want +got):\n%s", diff)
		}
		if got := f.journal(js, 0); len(got) != 0 {
			t.Errorf("Journal(limit 0) = %d entries, want none", len(got))
		}
		if got := f.otherTenant().journal(js, 10); got == nil || len(got) != 0 {
			t.Errorf("another tenant's Journal = %#v, want an empty slice", got)
		}
	})

	t.Run("SameTimeBySeq", func(t *testing.T) {
		f, js := journalFixture(t, newStore)
		f.appendJournal(js, entry(0, "GET", "/a", ""), entry(0, "GET", "/b", ""))
		f.appendJournal(js, entry(0, "GET", "/c", ""))
		if diff := gocmp.Diff([]string{"/c", "/b", "/a"}, paths(f.journal(js, 10))); diff != "" {
			t.Errorf("entries of one time, newest first (-want +got):\n%s", diff)
		}
		if n, err := js.PruneJournal(f.ctx, f.tenant, 1, time.Time{}); err != nil || n != 2 {
			t.Errorf("PruneJournal(keep 1) = %d, %v; want 2", n, err)
		}
		if diff := gocmp.Diff([]string{"/c"}, paths(f.journal(js, 10))); diff != "" {
			t.Errorf("after pruning to 1 (-want +got):\n%s", diff)
		}
	})

	t.Run("Prune", func(t *testing.T) {
		for _, c := range []struct {
			name      string
			keep      int
			olderThan time.Time
			want      []string
		}{
			{"ByCount", 3, time.Time{}, []string{"/4", "/3", "/2"}},
			{"ByAge", -1, at(2), []string{"/4", "/3", "/2"}},
			{"ByCountAndAge", 4, at(3), []string{"/4", "/3"}},
			{"AgeDropsMoreThanCount", 2, at(4), []string{"/4"}},
			{"Nothing", -1, time.Time{}, []string{"/4", "/3", "/2", "/1", "/0"}},
			{"KeepMoreThanHeld", 10, at(0), []string{"/4", "/3", "/2", "/1", "/0"}},
			{"KeepNone", 0, time.Time{}, nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				f, js := journalFixture(t, newStore)
				other := f.otherTenant()
				for _, g := range []*fixture{f, other} {
					g.appendJournal(js, entry(3, "GET", "/3", ""), entry(0, "GET", "/0", ""), entry(4, "GET", "/4", ""))
					g.appendJournal(js, entry(1, "GET", "/1", ""), entry(2, "GET", "/2", ""))
				}
				n, err := js.PruneJournal(f.ctx, f.tenant, c.keep, c.olderThan)
				if err != nil {
					t.Fatalf("PruneJournal: %v", err)
				}
				if n != 5-len(c.want) {
					t.Errorf("PruneJournal = %d deleted, want %d", n, 5-len(c.want))
				}
				if diff := gocmp.Diff(c.want, paths(f.journal(js, 10)), cmpOpts...); diff != "" {
					t.Errorf("kept (-want +got):\n%s", diff)
				}
				if got := len(other.journal(js, 10)); got != 5 {
					t.Errorf("the other tenant has %d entries left, want its 5", got)
				}
			})
		}
	})

	t.Run("Erase", func(t *testing.T) {
		f, js := journalFixture(t, newStore)
		other := f.otherTenant()
		u, v := f.id("alice"), f.id("bob")
		failed := entry(1, "PUT", "/Users/"+u, u)
		failed.Status, failed.Error = 400, "alice@example.com is not a valid role"
		f.appendJournal(js, entry(0, "GET", "/Users/"+u, u), failed, entry(2, "GET", "/Users/"+v, v), entry(3, "GET", "/Users", ""))
		other.appendJournal(js, entry(0, "GET", "/Users/"+u, u))

		n, err := js.EraseJournal(f.ctx, f.tenant, u)
		if err != nil || n != 2 {
			t.Fatalf("EraseJournal = %d, %v; want 2 entries changed", n, err)
		}
		erasedGet, erasedPut := entry(0, "GET", "/Users/"+store.ErasedUserID, ""), entry(1, "PUT", "/Users/"+store.ErasedUserID, "")
		erasedPut.Status = 400
		want := []store.JournalEntry{entry(3, "GET", "/Users", ""), entry(2, "GET", "/Users/"+v, v), erasedPut, erasedGet}
		if diff := gocmp.Diff(want, f.journal(js, 10), ignoreSeq); diff != "" {
			t.Errorf("after erasing (-want +got):\n%s", diff)
		}
		if diff := gocmp.Diff([]store.JournalEntry{entry(0, "GET", "/Users/"+u, u)}, other.journal(js, 10), ignoreSeq); diff != "" {
			t.Errorf("the other tenant's journal (-want +got):\n%s", diff)
		}
		for _, id := range []string{u, ""} {
			if n, err := js.EraseJournal(f.ctx, f.tenant, id); err != nil || n != 0 {
				t.Errorf("EraseJournal(%q) again = %d, %v; want 0", id, n, err)
			}
		}
	})

	t.Run("ConcurrentAppends", func(t *testing.T) {
		f, js := journalFixture(t, newStore)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				batch := make([]store.JournalEntry, 5)
				for i := range batch {
					batch[i] = entry(w*5+i, "GET", fmt.Sprintf("/%d", w*5+i), "")
				}
				errs <- js.AppendJournal(f.ctx, f.tenant, batch)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("AppendJournal: %v", err)
			}
		}
		got := f.journal(js, 100)
		seqs := map[int64]bool{}
		for i, e := range got {
			if want := fmt.Sprintf("/%d", 39-i); e.Path != want {
				t.Errorf("entry %d is %s, want %s", i, e.Path, want)
			}
			seqs[e.Seq] = true
		}
		if len(got) != 40 || len(seqs) != 40 {
			t.Errorf("%d entries with %d distinct Seq, want 40 and 40", len(got), len(seqs))
		}
	})

	t.Run("EndedContext", func(t *testing.T) {
		f, js := journalFixture(t, newStore)
		ctx, cancel := context.WithCancel(f.ctx)
		cancel()
		_, jerr := js.Journal(ctx, f.tenant, 10)
		_, perr := js.PruneJournal(ctx, f.tenant, 0, time.Time{})
		_, eerr := js.EraseJournal(ctx, f.tenant, "x")
		for name, err := range map[string]error{
			"AppendJournal": js.AppendJournal(ctx, f.tenant, []store.JournalEntry{entry(0, "GET", "/", "")}),
			"Journal":       jerr, "PruneJournal": perr, "EraseJournal": eerr,
		} {
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s on an ended context: %v, want context.Canceled", name, err)
			}
		}
		if got := len(f.journal(js, 10)); got != 0 {
			t.Errorf("an append on an ended context left %d entries", got)
		}
	})
}
