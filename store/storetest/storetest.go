// Package storetest is the conformance suite of the store.Store contract.
// Every adapter runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return memory.New() })
//	}
//
// # Isolation between subtests
//
// Each subtest calls newStore and works in a tenant of its own, named after
// the subtest plus a nonce unique to the process, and gives its users and
// groups ids carrying the same nonce. newStore may therefore return a fresh
// store per call or one store shared by every call (for example backed by a
// single database, even one kept between runs).
//
// # What the suite assumes beyond the doc comments of package store
//
//   - Resources without a value for Query.SortBy sort last when ascending and
//     first when descending (RFC 7644 §3.4.2.3); ties, including resources
//     without a value, keep the adapter's stable order in both directions.
//     Strings sort case-insensitively, as store.CompareSortKeys with
//     caseExact false orders them.
//   - The order of Group.Members is not checked (the suite sorts them).
//   - A write that failed inside Update (ErrConflict, ErrVersionMismatch,
//     ErrNotFound) changed nothing, and fn may go on using the Tx and commit.
//   - RemoveMembers reports an id that is not a user of the tenant either in
//     NotMembers or in Skipped.
//   - Timestamps round-trip with at least microsecond precision
//     (time.Time.Equal); the suite only uses UTC times truncated to
//     microseconds.
//   - Numbers in Attributes come back as float64 or json.Number of equal
//     value.
//
// # Optional powers
//
// The subtests Events, Departures and LeftGroups skip, saying so, when the
// store's Tx does not implement store.EventRecorder,
// store.DepartureRecorder or store.LeftGroupsRecorder (asked with a type
// assertion inside Update). When it implements EventRecorder,
// the Store must implement store.EventLog. The suite checks that Seq
// increases in commit order, not that it starts anywhere or has no gaps.
// The subtest Tokens skips when the Store does not implement
// store.TokenStore, UnmanagedByEmail when the Reader does not implement
// store.UnmanagedEmailFinder, Journal when the Store does not implement
// store.JournalStore. The subtest Guard skips when the Tx does not
// implement store.GuardTx; when it does, the Store must implement
// store.GuardStore. Powers lists every optional power, the clauses that
// need it and whether a store has it.
//
// # Contexts
//
// A call whose context has ended returns an error matching the context's
// error (errors.Is), and an Update whose context ends before fn returns
// (or while it commits) applies nothing of fn's writes and returns such an
// error, as a commit on an ended context does in database/sql.
//
// The suite keeps its data sets small (the largest has 250 users, and one
// user has 20,000 emails and one membership write 70,000 ids, for the
// limits of SQL statements) and never
// sleeps, so that it runs in seconds against a real database.
package storetest

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/scimkit/scim/store"
)

// Run runs the conformance suite against the stores newStore returns, one
// named subtest per clause of the contract. newStore is called once per
// subtest; it may return a new store or a shared one (see the package doc),
// and may register clean-up with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	RunWith(t, newStore, Options{})
}

// RunWith is Run with options: an adapter over the app's own tables tells
// the suite how the app creates users outside SCIM (Options.SeedAppUser),
// so that the subtest AppUsers checks linking on the rows the app really
// has.
func RunWith(t *testing.T, newStore func(t *testing.T) store.Store, opts Options) {
	t.Helper()
	suite := []struct {
		name string
		run  func(t *testing.T, newStore func(t *testing.T) store.Store)
	}{
		{"Users", testUsers},
		{"Groups", testGroups},
		{"Uniqueness", testUniqueness},
		{"NotFound", testNotFound},
		{"FilterUsers", testFilterUsers},
		{"FilterGroups", testFilterGroups},
		{"Folding", testFolding},
		{"Sort", testSort},
		{"Paging", testPaging},
		{"Members", testMembers},
		{"Tx", testTx},
		{"TenantIsolation", testTenantIsolation},
		{"Concurrency", testConcurrency},
		{"UserFields", testUserFields},
		{"Events", testEvents},
		{"Departures", testDepartures},
		{"AppOwned", testAppOwned},
		{"LeftGroups", testLeftGroups},
		{"Tokens", testTokens},
		{"MemberCounts", testMemberCounts},
		{"RawUser", testRawUser},
		{"RawUserList", testRawUserList},
		{"ManyEmails", testManyEmails},
		{"ManyMemberIDs", testManyMemberIDs},
		{"UnmanagedByEmail", testUnmanagedByEmail},
		{"AppUsers", func(t *testing.T, newStore func(t *testing.T) store.Store) { testAppUsers(t, newStore, opts) }},
		{"Guard", testGuard},
		{"Journal", testJournal},
		{"Context", testContext},
		{"EventPruning", testEventPruning},
		{"Erasure", testErasure},
		{"TenantDeletion", testTenantDeletion},
	}
	for _, s := range suite {
		t.Run(s.name, func(t *testing.T) { s.run(t, newStore) })
	}
}

// nonce makes tenants and ids unique to this process, so that a database
// kept between runs does not collide with an earlier run.
var (
	nonce   = fmt.Sprintf("%08x", uint32(time.Now().UnixNano()))
	counter atomic.Int64
)

// t0 is the base of every timestamp the suite writes: UTC, microseconds.
var t0 = time.Date(2024, 3, 1, 12, 0, 0, 123456000, time.UTC)

// at returns t0 plus n minutes.
func at(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }

// errBoom is what fn returns to make Update roll back.
var errBoom = errors.New("storetest: boom")

// fixture is one subtest's view of a store: a tenant of its own and ids
// unique to it.
type fixture struct {
	t      *testing.T
	s      store.Store
	ctx    context.Context
	tenant string
	suffix string
}

func newFixture(t *testing.T, newStore func(t *testing.T) store.Store) *fixture {
	t.Helper()
	s := newStore(t)
	if s == nil {
		t.Fatal("newStore returned nil")
	}
	return &fixture{t: t, s: s, ctx: t.Context(), tenant: newTenant(t), suffix: newSuffix()}
}

// otherTenant returns a fixture on the same store with another tenant.
func (f *fixture) otherTenant() *fixture {
	g := *f
	g.tenant = newTenant(f.t) + "-other"
	g.suffix = newSuffix()
	return &g
}

func newSuffix() string { return fmt.Sprintf("%s-%d", nonce, counter.Add(1)) }

func newTenant(t *testing.T) string {
	name := t.Name()
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	if len(name) > 40 {
		name = name[:40]
	}
	return fmt.Sprintf("st-%s-%d-%s", nonce, counter.Add(1), name)
}

// id returns the id the fixture gives to the resource called name.
func (f *fixture) id(name string) string { return name + "-" + f.suffix }

func (f *fixture) update(fn func(tx store.Tx) error) {
	f.t.Helper()
	if err := f.s.Update(f.ctx, f.tenant, fn); err != nil {
		f.t.Fatalf("Update: %v", err)
	}
}

func (f *fixture) view(fn func(r store.Reader) error) {
	f.t.Helper()
	if err := f.s.View(f.ctx, f.tenant, fn); err != nil {
		f.t.Fatalf("View: %v", err)
	}
}

// newUser returns a user called name (its userName unless attrs sets one),
// created at at(0).
// skipWithout skips t unless the store's Readers implement the optional
// power P.
func skipWithout[P any](t *testing.T, f *fixture) {
	t.Helper()
	supported := false
	f.view(func(r store.Reader) error {
		_, supported = r.(P)
		return nil
	})
	if !supported {
		t.Skip("the Reader does not implement " + reflect.TypeFor[P]().String())
	}
}

func (f *fixture) newUser(name string, attrs store.Attributes) *store.User {
	a := store.Attributes{"userName": name}
	maps.Copy(a, attrs)
	return &store.User{ID: f.id(name), Attributes: a, Meta: store.Meta{Created: at(0), LastModified: at(0)}}
}

func (f *fixture) newGroup(name string, attrs store.Attributes) *store.Group {
	a := store.Attributes{"displayName": name}
	maps.Copy(a, attrs)
	return &store.Group{ID: f.id(name), Attributes: a, Meta: store.Meta{Created: at(0), LastModified: at(0)}}
}

// createUsers stores the users in one Update, in the order given.
func (f *fixture) createUsers(users ...*store.User) {
	f.t.Helper()
	f.update(func(tx store.Tx) error {
		for _, u := range users {
			if err := tx.CreateUser(f.ctx, u); err != nil {
				return fmt.Errorf("CreateUser %s: %w", u.ID, err)
			}
		}
		return nil
	})
}

func (f *fixture) createGroups(groups ...*store.Group) {
	f.t.Helper()
	f.update(func(tx store.Tx) error {
		for _, g := range groups {
			if err := tx.CreateGroup(f.ctx, g); err != nil {
				return fmt.Errorf("CreateGroup %s: %w", g.ID, err)
			}
		}
		return nil
	})
}

func (f *fixture) user(id string) (store.User, error) {
	var u store.User
	err := f.s.View(f.ctx, f.tenant, func(r store.Reader) error {
		var err error
		u, err = r.User(f.ctx, id)
		return err
	})
	return u, err
}

func (f *fixture) mustUser(id string) store.User {
	f.t.Helper()
	u, err := f.user(id)
	if err != nil {
		f.t.Fatalf("User(%q): %v", id, err)
	}
	return u
}

func (f *fixture) group(id string, withMembers bool) (store.Group, error) {
	var g store.Group
	err := f.s.View(f.ctx, f.tenant, func(r store.Reader) error {
		var err error
		g, err = r.Group(f.ctx, id, withMembers)
		return err
	})
	return g, err
}

func (f *fixture) mustGroup(id string, withMembers bool) store.Group {
	f.t.Helper()
	g, err := f.group(id, withMembers)
	if err != nil {
		f.t.Fatalf("Group(%q, %v): %v", id, withMembers, err)
	}
	return g
}

func (f *fixture) listUsers(q store.Query) store.UserPage {
	f.t.Helper()
	var p store.UserPage
	f.view(func(r store.Reader) error {
		var err error
		p, err = r.ListUsers(f.ctx, q)
		return err
	})
	return p
}

func (f *fixture) listGroups(q store.Query) store.GroupPage {
	f.t.Helper()
	var p store.GroupPage
	f.view(func(r store.Reader) error {
		var err error
		p, err = r.ListGroups(f.ctx, q)
		return err
	})
	return p
}

func (f *fixture) groupsOf(userID string) []store.GroupRef {
	f.t.Helper()
	var refs []store.GroupRef
	f.view(func(r store.Reader) error {
		var err error
		refs, err = r.GroupsOf(f.ctx, userID)
		return err
	})
	return refs
}

// membership runs one membership write in its own Update.
func (f *fixture) membership(fn func(tx store.Tx) (store.MemberChange, error)) store.MemberChange {
	f.t.Helper()
	var c store.MemberChange
	f.update(func(tx store.Tx) error {
		var err error
		c, err = fn(tx)
		return err
	})
	return c
}

func (f *fixture) addMembers(groupID string, at time.Time, members ...store.Member) store.MemberChange {
	f.t.Helper()
	return f.membership(func(tx store.Tx) (store.MemberChange, error) {
		return tx.AddMembers(f.ctx, groupID, members, at)
	})
}

// members returns the members of the group, sorted by Value.
func (f *fixture) members(groupID string) []store.Member {
	f.t.Helper()
	g := f.mustGroup(groupID, true)
	return sortedMembers(g.Members)
}

func sortedMembers(ms []store.Member) []store.Member {
	ms = slices.Clone(ms)
	slices.SortFunc(ms, func(a, b store.Member) int { return cmp.Compare(a.Value, b.Value) })
	return ms
}

// snapshot is everything a tenant holds, in a form cmp.Diff compares.
type snapshot struct {
	Users    []store.User
	Groups   []store.Group
	GroupsOf map[string][]store.GroupRef
}

// snapshot reads the whole tenant: users and groups by id, with members.
func (f *fixture) snapshot() snapshot {
	f.t.Helper()
	var s snapshot
	users := f.listUsers(store.Query{Limit: 10000})
	groups := f.listGroups(store.Query{Limit: 10000, WithMembers: true})
	s.Users = users.Users
	s.Groups = groups.Groups
	for i := range s.Users {
		s.Users[i] = normUser(s.Users[i])
	}
	for i := range s.Groups {
		s.Groups[i] = normGroup(s.Groups[i])
		s.Groups[i].Members = sortedMembers(s.Groups[i].Members)
	}
	slices.SortFunc(s.Users, func(a, b store.User) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(s.Groups, func(a, b store.Group) int { return cmp.Compare(a.ID, b.ID) })
	s.GroupsOf = map[string][]store.GroupRef{}
	for _, u := range s.Users {
		if refs := f.groupsOf(u.ID); len(refs) > 0 {
			s.GroupsOf[u.ID] = refs
		}
	}
	return s
}

// cmpOpts are the options of every cmp.Diff of the suite: empty and nil
// slices and maps are equal (time.Time compares with Equal by itself).
var cmpOpts = []gocmp.Option{cmpopts.EquateEmpty()}

// normUser returns u with its attributes normalised by normValue.
func normUser(u store.User) store.User {
	u.Attributes = normAttrs(u.Attributes)
	return u
}

func normGroup(g store.Group) store.Group {
	g.Attributes = normAttrs(g.Attributes)
	return g
}

func normAttrs(a store.Attributes) store.Attributes {
	if a == nil {
		return nil
	}
	return normValue(a).(map[string]any)
}

// normValue returns a copy of v with every number as float64, so that
// adapters returning json.Number compare equal.
func normValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = normValue(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = normValue(e)
		}
		return out
	case json.Number:
		if f, err := v.Float64(); err == nil {
			return f
		}
	case int:
		return float64(v)
	case int64:
		return float64(v)
	}
	return v
}

// wantErr fails the test unless errors.Is(err, want); want nil means success.
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Errorf("%s: unexpected error %v", what, err)
	case want != nil && !errors.Is(err, want):
		t.Errorf("%s: error = %v, want %v", what, err, want)
	}
}

// userNames returns the userName of each user, in order.
func userNames(users []store.User) []string {
	out := make([]string, len(users))
	for i := range users {
		out[i] = users[i].UserName()
	}
	return out
}

func displayNames(groups []store.Group) []string {
	out := make([]string, len(groups))
	for i := range groups {
		out[i] = groups[i].DisplayName()
	}
	return out
}

func ids(users []store.User) []string {
	out := make([]string, len(users))
	for i := range users {
		out[i] = users[i].ID
	}
	return out
}
