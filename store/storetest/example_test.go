package storetest_test

import (
	"context"
	"fmt"
	"log"

	"github.com/scimkit/scim/store/memory"
	"github.com/scimkit/scim/store/storetest"
)

// An adapter's tests run the suite with Run(t, newStore). Powers tells,
// before any test runs, which optional powers the store has and so which
// clauses will skip: the memory store has them all.
func ExamplePowers() {
	powers, err := storetest.Powers(context.Background(), memory.New())
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range powers {
		fmt.Printf("%-28s %-6s %-5v %v\n", p.Name, p.On, p.Has, p.Clauses)
	}
	// Output:
	// store.EventRecorder          Tx     true  [Events]
	// store.EventLog               Store  true  [Events]
	// store.DepartureRecorder      Tx     true  [Departures]
	// store.TokenStore             Store  true  [Tokens]
	// store.MemberCounter          Reader true  [MemberCounts]
	// store.RawUserReader          Reader true  [RawUser]
	// store.RawUserLister          Reader true  [RawUserList]
	// store.UnmanagedEmailFinder   Reader true  [UnmanagedByEmail]
	// store.LeftGroupsRecorder     Tx     true  [LeftGroups]
	// store.GuardTx                Tx     true  [Guard]
	// store.GuardStore             Store  true  [Guard]
	// store.JournalStore           Store  true  [Journal]
	// store.EventPruner            Store  true  [EventPruning]
	// store.Eraser                 Store  true  [Erasure]
	// store.TenantLister           Store  true  [TenantDeletion]
	// store.TenantDeleter          Store  true  [TenantDeletion]
}
