package store_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
)

func TestEraseJournalEntry(t *testing.T) {
	about := store.JournalEntry{Seq: 7, Method: "PATCH", Path: "/Users/u-1", Status: 409, UserID: "u-1",
		Error: `userName "ada@example.com" is already taken`, Summary: "replace userName"}
	for _, tc := range []struct {
		name   string
		e      store.JournalEntry
		userID string
		want   store.JournalEntry
	}{
		{"an entry about the user loses what identifies them", about, "u-1",
			store.JournalEntry{Seq: 7, Method: "PATCH", Path: "/Users/" + store.ErasedUserID, Status: 409, Summary: "replace userName"}},
		{"an entry about another user is kept", about, "u-2", about},
		{"no user id erases nothing", store.JournalEntry{Path: "/Users"}, "", store.JournalEntry{Path: "/Users"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, store.EraseJournalEntry(tc.e, tc.userID)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
