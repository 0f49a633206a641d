// Package memory is an in-memory store.Store for tests and demos.
//
// IT IS NOT DURABLE: everything lives in the process and is gone when it
// exits. Use store/sql (SQLite by default) for anything you want to keep.
//
// # What it does
//
// The store is safe for concurrent use. Each tenant has its own
// sync.RWMutex: View holds the read lock and Update the write lock for the
// whole of fn, so Updates of one tenant run one after another and a View
// sees a consistent snapshot. Update records the inverse of every write in
// an undo log and applies it, newest first, when fn returns an error or
// panics (the panic then goes on). fn must not call View or Update of the
// same tenant on the same Store: that deadlocks.
//
// Lookups follow the indexes, not the data: users by id, by userName and by
// email value (both case-folded), by externalId; groups by id, by
// displayName (case-folded), by externalId; and membership both ways. A
// filter with an eq on one of those attributes, at the top or inside an And
// (or on both sides of an Or), takes its candidates from the index and
// evaluates the whole filter with store.Eval on them only; other filters
// scan the tenant. Filters on members never copy a group's members. The
// unsorted order is creation order, so an unfiltered page costs the page,
// whatever the offset. Adding or removing members costs the number of ids
// given, not the size of the group. The emails of the users that are not
// managed have an index of their own, which store.UnmanagedEmailFinder
// reads: finding the app user to link by email never looks at managed
// users.
//
// Every method of a Reader or Tx returns its context's error once the
// context has ended, and scans check it as they go, so a request past its
// deadline stops at its next store call; Update undoes fn's writes when
// its context has ended by the time fn returns.
//
// # Memory
//
// Each resource keeps its attributes as compact JSON ([]byte) plus the
// strings its indexes need, and is decoded on every read, so callers always
// get copies they may change freely, and nested map[string]any values,
// which cost several hundred bytes per map, are never kept. Numbers come
// back as float64. With a name, two emails, an externalId and a role, a
// managed user takes about 1.1 KB, indexes included (1,124 bytes at
// 1,000,000 users and 942 at 100,000, measured by BenchmarkBytesPerUser with
// -benchtime=1x). Role and ManagedBy strings are kept as given, so users
// that share one string value share its bytes.
//
// userName and displayName are unique per tenant after Unicode simple case
// folding; a user without a string userName (or a group without a string
// displayName) is not held to uniqueness.
//
// A Query with ManagedOnly walks an index of the managed users, so the
// others are neither decoded nor even looked at, and an unfiltered page of
// managed users also costs the page.
//
// # Events, departures and left groups
//
// The Tx of Update implements store.EventRecorder,
// store.DepartureRecorder and store.LeftGroupsRecorder, and the Store
// implements store.EventLog. Each
// tenant's events are kept, as copies with their users' and groups'
// attributes encoded as JSON like the records', in a slice in Seq order: THE
// OUTBOX GROWS WITHOUT BOUND unless the app drops the events it consumed
// with TrimEvents or PruneEvents (store.EventPruner; scim.Handler.Retain
// calls it). Departures are kept, one per case-folded userName, until the
// Store goes or erasure (store.Eraser) deletes them. The groups a
// deactivated user left are kept until the user is deleted or the record
// replaced. All roll back with their Update.
//
// # Deprovisioning guard
//
// The Tx implements store.GuardTx and the Store store.GuardStore: the
// guard's counts and hold live with the tenant, so every handler over the
// same Store holds and releases as one. The users counted are a map and a
// slice in the order of their times, forgotten from the front as they
// leave the window.
//
// # Data lifecycle
//
// The Store implements store.EventPruner, store.Eraser,
// store.TenantLister and store.TenantDeleter. Erasure walks the tenant's
// outbox and departures: it is rare, and this store is for tests and
// demos.
//
// # Tokens
//
// The Store implements store.TokenStore: bearer-token digests, in a table
// of their own beside the tenants, gone with the process like the rest.
// It implements store.JournalStore the same way: the request journal of
// every Handler over the Store.
package memory

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/scimkit/scim/store"
)

// Store is an in-memory store.Store for tests and demos; it is not durable.
// The zero value is not usable: call New.
type Store struct {
	mu      sync.Mutex
	tenants map[string]*tenant
	tokens  tokenTable   // see token.go
	journal journalTable // see journal.go
}

var _ store.Store = (*Store)(nil)

// New returns an empty Store.
func New() *Store {
	return &Store{tenants: map[string]*tenant{}}
}

// errClosed is returned by a Reader or Tx used after its View or Update
// returned.
var errClosed = errors.New("memory: Reader or Tx used after its View or Update returned")

// emptyTenant is what View reads for a tenant that has never been written:
// a tenant whose nil maps read as empty.
var emptyTenant = &tenant{}

// View calls fn with a Reader on a consistent snapshot of the tenant.
func (s *Store) View(ctx context.Context, tenantName string, fn func(store.Reader) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t := s.tenant(tenantName)
	if t == nil {
		t = emptyTenant
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	r := &reader{t: t}
	defer r.closed.Store(true)
	return fn(r)
}

// Update calls fn with a Tx holding the tenant's write lock, and undoes
// every write fn made when fn returns an error or panics, or when ctx has
// ended by the time fn returns (Update then returns ctx's error). Every
// method of the Tx returns ctx's error once ctx has ended.
func (s *Store) Update(ctx context.Context, tenantName string, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	t := s.tenants[tenantName]
	if t == nil {
		t = newTenant()
		s.tenants[tenantName] = t
	}
	s.mu.Unlock()

	t.mu.Lock()
	defer t.mu.Unlock()
	tx := &tx{reader: reader{t: t}}
	committed := false
	// Runs before the unlock, also while panicking; the panic goes on after.
	defer func() {
		tx.closed.Store(true)
		if !committed {
			tx.rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		// Past the deadline (or the caller left): the caller answers
		// with an error, so nothing of fn may stay.
		return err
	}
	committed = true
	return nil
}

// tenant holds one tenant's resources and indexes. Index keys of
// case-insensitive attributes are fold(value).
type tenant struct {
	mu  sync.RWMutex
	seq uint64 // creation counter, orders users and groups

	users       map[string]*userRec // by id
	userByName  map[string]*userRec // by fold(userName)
	usersByExt  multiIndex[*userRec]
	usersByMail multiIndex[*userRec]
	// unmanagedByMail indexes the emails of the users that are not
	// managed only, so that finding the app user to link by email never
	// looks at the managed users sharing an address.
	unmanagedByMail multiIndex[*userRec]
	userOrder       []*userRec // by seq

	// managedOrder holds the users with managed set, by seq, so that a
	// ManagedOnly query never looks at (let alone decodes) the others.
	managedOrder []*userRec

	groups      map[string]*groupRec // by id
	groupByName map[string]*groupRec // by fold(displayName)
	groupsByExt multiIndex[*groupRec]
	groupOrder  []*groupRec // by seq

	events     outbox                     // by Seq
	eventSeq   int64                      // the last Seq assigned
	departures map[string]store.Departure // by fold(userName)
	leftGroups map[string][]string        // by user id, sorted group ids
	guard      *guardRec                  // nil until a deprovisioning is counted or held
}

func newTenant() *tenant {
	return &tenant{
		users:           map[string]*userRec{},
		userByName:      map[string]*userRec{},
		usersByExt:      multiIndex[*userRec]{},
		usersByMail:     multiIndex[*userRec]{},
		unmanagedByMail: multiIndex[*userRec]{},
		groups:          map[string]*groupRec{},
		groupByName:     map[string]*groupRec{},
		groupsByExt:     multiIndex[*groupRec]{},
		departures:      map[string]store.Departure{},
		leftGroups:      map[string][]string{},
	}
}

// userData is what UpdateUser replaces.
type userData struct {
	attrs      []byte // JSON object
	userName   string // "" when absent or not a string
	externalID string
	emails     []string // email values, distinct after folding
	role       string
	managedBy  string
	managed    bool
	linked     bool
	meta       store.Meta
}

type userRec struct {
	seq uint64
	id  string
	userData
	groups map[*groupRec]struct{} // nil until the user joins a group
}

type groupData struct {
	attrs       []byte
	displayName string
	externalID  string
	meta        store.Meta
}

type groupRec struct {
	seq      uint64
	id       string
	appOwned bool
	groupData
	members map[*userRec]string // member → Display
}

// multiIndex maps a key to the records holding it, usually one.
type multiIndex[T comparable] map[string][]T

func (m multiIndex[T]) add(k string, v T) { m[k] = append(m[k], v) }

func (m multiIndex[T]) remove(k string, v T) {
	list := m[k]
	if i := slices.Index(list, v); i >= 0 {
		list = slices.Delete(list, i, i+1)
	}
	if len(list) == 0 {
		delete(m, k)
		return
	}
	m[k] = list
}

// fold returns the key under which a case-insensitive string is indexed
// (store.Fold, as Eval and every adapter compare).
func fold(s string) string { return store.Fold(s) }

// Index bookkeeping, without undo.

func (t *tenant) linkUser(u *userRec) {
	t.users[u.id] = u
	t.userOrder = insertBySeq(t.userOrder, u)
	if u.managed {
		t.managedOrder = insertBySeq(t.managedOrder, u)
	}
	t.indexUser(u)
}

func (t *tenant) unlinkUser(u *userRec) {
	delete(t.users, u.id)
	t.userOrder = deleteBySeq(t.userOrder, u)
	if u.managed {
		t.managedOrder = deleteBySeq(t.managedOrder, u)
	}
	t.unindexUser(u)
}

// setUserData replaces what UpdateUser replaces, keeping the indexes right;
// managedOrder moves only when managed changes.
func (t *tenant) setUserData(u *userRec, d userData) {
	t.unindexUser(u)
	switch {
	case u.managed && !d.managed:
		t.managedOrder = deleteBySeq(t.managedOrder, u)
	case !u.managed && d.managed:
		t.managedOrder = insertBySeq(t.managedOrder, u)
	}
	u.userData = d
	t.indexUser(u)
}

func (t *tenant) indexUser(u *userRec) {
	if u.userName != "" {
		t.userByName[fold(u.userName)] = u
	}
	if u.externalID != "" {
		t.usersByExt.add(fold(u.externalID), u)
	}
	for _, e := range u.emails {
		t.usersByMail.add(fold(e), u)
		if !u.managed {
			t.unmanagedByMail.add(fold(e), u)
		}
	}
}

func (t *tenant) unindexUser(u *userRec) {
	if u.userName != "" {
		delete(t.userByName, fold(u.userName))
	}
	if u.externalID != "" {
		t.usersByExt.remove(fold(u.externalID), u)
	}
	for _, e := range u.emails {
		t.usersByMail.remove(fold(e), u)
		if !u.managed {
			t.unmanagedByMail.remove(fold(e), u)
		}
	}
}

func (t *tenant) linkGroup(g *groupRec) {
	t.groups[g.id] = g
	t.groupOrder = insertBySeq(t.groupOrder, g)
	t.indexGroup(g)
}

func (t *tenant) unlinkGroup(g *groupRec) {
	delete(t.groups, g.id)
	t.groupOrder = deleteBySeq(t.groupOrder, g)
	t.unindexGroup(g)
}

func (t *tenant) indexGroup(g *groupRec) {
	if g.displayName != "" {
		t.groupByName[fold(g.displayName)] = g
	}
	if g.externalID != "" {
		t.groupsByExt.add(fold(g.externalID), g)
	}
}

func (t *tenant) unindexGroup(g *groupRec) {
	if g.displayName != "" {
		delete(t.groupByName, fold(g.displayName))
	}
	if g.externalID != "" {
		t.groupsByExt.remove(fold(g.externalID), g)
	}
}

type seqer interface {
	comparable
	seqNo() uint64
}

func (u *userRec) seqNo() uint64  { return u.seq }
func (g *groupRec) seqNo() uint64 { return g.seq }

func bySeq[T seqer](r T, seq uint64) int { return cmp.Compare(r.seqNo(), seq) }

// insertBySeq inserts r into s, which is ordered by seq.
func insertBySeq[T seqer](s []T, r T) []T {
	i, _ := slices.BinarySearchFunc(s, r.seqNo(), bySeq[T])
	return slices.Insert(s, i, r)
}

// deleteBySeq removes r from s, which is ordered by seq.
func deleteBySeq[T seqer](s []T, r T) []T {
	if i, ok := slices.BinarySearchFunc(s, r.seqNo(), bySeq[T]); ok {
		return slices.Delete(s, i, i+1)
	}
	return s
}

// Encoding.

func encodeAttrs(a store.Attributes) ([]byte, error) {
	if len(a) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("memory: encoding attributes: %w", err)
	}
	return b, nil
}

func decodeAttrs(b []byte) store.Attributes {
	a := store.Attributes{}
	if len(b) > 0 && !decodeObject(b, a) {
		a = store.Attributes{}
		if err := json.Unmarshal(b, &a); err != nil {
			// The bytes were written by encodeAttrs.
			panic("memory: corrupt attributes: " + err.Error())
		}
	}
	return a
}

func newUserData(u *store.User) (userData, error) {
	b, err := encodeAttrs(u.Attributes)
	if err != nil {
		return userData{}, err
	}
	d := userData{
		attrs:      b,
		userName:   u.UserName(),
		externalID: u.ExternalID(),
		role:       u.Role,
		managedBy:  u.ManagedBy,
		managed:    u.Managed,
		linked:     u.Linked,
		meta:       u.Meta,
	}
	// Every string the emails[value eq …] and emails.value eq filters can
	// match: the value of each element, or the element itself when it is a
	// bare string.
	list, _ := u.Attributes["emails"].([]any)
	seen := map[string]bool{}
	for _, el := range list {
		v, ok := el.(string)
		if m, isMap := el.(map[string]any); isMap {
			v, ok = m["value"].(string)
		}
		if ok && v != "" && !seen[fold(v)] {
			seen[fold(v)] = true
			d.emails = append(d.emails, v)
		}
	}
	return d, nil
}

func newGroupData(g *store.Group) (groupData, error) {
	b, err := encodeAttrs(g.Attributes)
	if err != nil {
		return groupData{}, err
	}
	return groupData{attrs: b, displayName: g.DisplayName(), externalID: g.ExternalID(), meta: g.Meta}, nil
}

func (u *userRec) user() store.User {
	out := u.userWithoutAttrs()
	out.Attributes = decodeAttrs(u.attrs)
	return out
}

// userWithoutAttrs is user but for the attributes, which stay encoded.
func (u *userRec) userWithoutAttrs() store.User {
	return store.User{
		ID:        u.id,
		Role:      u.role,
		Managed:   u.managed,
		ManagedBy: u.managedBy,
		Linked:    u.linked,
		Meta:      u.meta,
	}
}

func (g *groupRec) group(withMembers bool) store.Group {
	out := store.Group{ID: g.id, Attributes: decodeAttrs(g.attrs), AppOwned: g.appOwned, Meta: g.meta}
	if withMembers {
		out.Members = g.memberList()
	}
	return out
}

// memberList returns the members ordered by user id.
func (g *groupRec) memberList() []store.Member {
	out := make([]store.Member, 0, len(g.members))
	for u, display := range g.members {
		out = append(out, store.Member{Value: u.id, Display: display})
	}
	slices.SortFunc(out, func(a, b store.Member) int { return strings.Compare(a.Value, b.Value) })
	return out
}

// resolver resolves paths of the user, decoding its attributes only when a
// path needs them.
func (u *userRec) resolver() store.Resolver {
	var full *store.User
	return func(p store.Path) []any {
		if p.URN == "" && p.Sub == "" {
			switch {
			case p.Name == "userName" && u.userName != "":
				return []any{u.userName}
			case p.Name == "externalId" && u.externalID != "":
				return []any{u.externalID}
			}
		}
		if p.URN == "" && (p.Name == "id" || p.Name == "meta") {
			bare := store.User{ID: u.id, Meta: u.meta}
			return bare.Resolve(p)
		}
		if full == nil {
			v := u.user()
			full = &v
		}
		return full.Resolve(p)
	}
}

// resolver resolves paths of the group; members come from the membership
// index, never from a copy of the whole group.
func (g *groupRec) resolver() store.Resolver {
	var full *store.Group
	return func(p store.Path) []any {
		if p.URN == "" && p.Sub == "" {
			switch {
			case p.Name == "displayName" && g.displayName != "":
				return []any{g.displayName}
			case p.Name == "externalId" && g.externalID != "":
				return []any{g.externalID}
			}
		}
		if p.URN == "" && (p.Name == "id" || p.Name == "meta" || p.Name == "members") {
			bare := store.Group{ID: g.id, Meta: g.meta}
			if p.Name == "members" {
				bare.Members = g.memberList()
			}
			return bare.Resolve(p)
		}
		if full == nil {
			v := g.group(false)
			full = &v
		}
		return full.Resolve(p)
	}
}
