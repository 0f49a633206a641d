package storetest

import (
	"context"
	"fmt"
	"reflect"

	"github.com/scimkit/scim/store"
)

// Power is one optional power of the store contract: an interface that a
// Store, its Reader or its Tx may implement beyond store.Store, and the
// clauses of Run that need it.
type Power struct {
	// Name is the interface's name, such as "store.EventRecorder".
	Name string
	// On says what implements it: "Store", "Reader" (the Reader of View and
	// the Tx of Update) or "Tx".
	On string
	// Clauses are the subtests of Run that skip, saying so, without it.
	Clauses []string
	// Has reports whether the store has the power.
	Has bool
}

// power describes a Power and asks for it.
type power struct {
	on      string
	clauses []string
	name    string
	has     func(s store.Store, r store.Reader, tx store.Tx) bool
}

func storePower[P any](clauses ...string) power {
	return power{on: "Store", clauses: clauses, name: reflect.TypeFor[P]().String(),
		has: func(s store.Store, _ store.Reader, _ store.Tx) bool { _, ok := s.(P); return ok }}
}

func readerPower[P any](clauses ...string) power {
	return power{on: "Reader", clauses: clauses, name: reflect.TypeFor[P]().String(),
		has: func(_ store.Store, r store.Reader, _ store.Tx) bool { _, ok := r.(P); return ok }}
}

func txPower[P any](clauses ...string) power {
	return power{on: "Tx", clauses: clauses, name: reflect.TypeFor[P]().String(),
		has: func(_ store.Store, _ store.Reader, tx store.Tx) bool { _, ok := tx.(P); return ok }}
}

// powers lists every optional power Run knows, in the order Powers reports
// them.
var powers = []power{
	txPower[store.EventRecorder]("Events"),
	storePower[store.EventLog]("Events"),
	txPower[store.DepartureRecorder]("Departures"),
	storePower[store.TokenStore]("Tokens"),
	readerPower[store.MemberCounter]("MemberCounts"),
	readerPower[store.RawUserReader]("RawUser"),
	readerPower[store.RawUserLister]("RawUserList"),
	readerPower[store.UnmanagedEmailFinder]("UnmanagedByEmail"),
	txPower[store.LeftGroupsRecorder]("LeftGroups"),
	txPower[store.GuardTx]("Guard"),
	storePower[store.GuardStore]("Guard"),
	storePower[store.JournalStore]("Journal"),
	storePower[store.EventPruner]("EventPruning"),
	storePower[store.Eraser]("Erasure"),
	storePower[store.TenantLister]("TenantDeletion"),
	storePower[store.TenantDeleter]("TenantDeletion"),
}

// Powers reports which optional powers st has, asking as Run's clauses do:
// type assertions on st, on the Reader of a View and on the Tx of an
// Update, both in a tenant of its own that holds nothing. The Update
// writes nothing. An adapter's tests may print it, or require the powers
// the adapter means to have, so that a wrapper that hides one (and makes
// its clauses skip) fails loudly.
func Powers(ctx context.Context, st store.Store) ([]Power, error) {
	tenant := "storetest-powers-" + newSuffix()
	var r store.Reader
	var tx store.Tx
	// The Reader and Tx are only inspected, never used, after fn returns.
	if err := st.View(ctx, tenant, func(v store.Reader) error { r = v; return nil }); err != nil {
		return nil, fmt.Errorf("storetest: View: %w", err)
	}
	if err := st.Update(ctx, tenant, func(t store.Tx) error { tx = t; return nil }); err != nil {
		return nil, fmt.Errorf("storetest: Update: %w", err)
	}
	out := make([]Power, len(powers))
	for i, p := range powers {
		out[i] = Power{Name: p.name, On: p.on, Clauses: p.clauses, Has: p.has(st, r, tx)}
	}
	return out, nil
}
