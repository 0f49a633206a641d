package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/scimkit/scim/store"
)

var _ store.TokenStore = (*Store)(nil)

// tokenTable holds the Store's bearer tokens, apart from the tenants'
// data: a token is looked up before its tenant is known. Its zero value is
// empty and ready.
type tokenTable struct {
	mu       sync.RWMutex
	byDigest map[string]*store.Token
	byTenant map[string]map[string]*store.Token // tenant → id → token
}

// CreateToken implements store.TokenStore.
func (s *Store) CreateToken(ctx context.Context, t store.Token) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tt := &s.tokens
	tt.mu.Lock()
	defer tt.mu.Unlock()
	if _, ok := tt.byDigest[t.Digest]; ok {
		return fmt.Errorf("memory: token digest: %w", store.ErrConflict)
	}
	if _, ok := tt.byTenant[t.Tenant][t.ID]; ok {
		return fmt.Errorf("memory: token %s: %w", t.ID, store.ErrConflict)
	}
	if tt.byDigest == nil {
		tt.byDigest = map[string]*store.Token{}
		tt.byTenant = map[string]map[string]*store.Token{}
	}
	if tt.byTenant[t.Tenant] == nil {
		tt.byTenant[t.Tenant] = map[string]*store.Token{}
	}
	tt.byDigest[t.Digest] = &t
	tt.byTenant[t.Tenant][t.ID] = &t
	return nil
}

// TokenByDigest implements store.TokenStore.
func (s *Store) TokenByDigest(ctx context.Context, digest string) (store.Token, error) {
	if err := ctx.Err(); err != nil {
		return store.Token{}, err
	}
	tt := &s.tokens
	tt.mu.RLock()
	defer tt.mu.RUnlock()
	t, ok := tt.byDigest[digest]
	if !ok {
		return store.Token{}, store.ErrNotFound
	}
	return *t, nil
}

// Tokens implements store.TokenStore.
func (s *Store) Tokens(ctx context.Context, tenant string) ([]store.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	tt := &s.tokens
	tt.mu.RLock()
	out := make([]store.Token, 0, len(tt.byTenant[tenant]))
	for _, t := range tt.byTenant[tenant] {
		out = append(out, *t)
	}
	tt.mu.RUnlock()
	slices.SortFunc(out, func(a, b store.Token) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return out, nil
}

// RevokeToken implements store.TokenStore.
func (s *Store) RevokeToken(ctx context.Context, tenant, id string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tt := &s.tokens
	tt.mu.Lock()
	defer tt.mu.Unlock()
	t, ok := tt.byTenant[tenant][id]
	if !ok {
		return fmt.Errorf("memory: token %s: %w", id, store.ErrNotFound)
	}
	if t.Revoked.IsZero() || at.Before(t.Revoked) {
		t.Revoked = at
	}
	return nil
}

// TouchToken implements store.TokenStore.
func (s *Store) TouchToken(ctx context.Context, tenant, id string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tt := &s.tokens
	tt.mu.Lock()
	defer tt.mu.Unlock()
	if t, ok := tt.byTenant[tenant][id]; ok && at.After(t.LastUsed) {
		t.LastUsed = at
	}
	return nil
}
