package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
)

// tokenFixture returns a fixture for a Tokens subtest and the store as a
// TokenStore, or skips.
func tokenFixture(t *testing.T, newStore func(t *testing.T) store.Store) (*fixture, store.TokenStore) {
	t.Helper()
	return powerFixture[store.TokenStore](t, newStore, "no tokens to test")
}

// powerFixture returns a fixture and its store as the optional power P,
// or skips saying that the store lacks it and so there is nothing to test.
func powerFixture[P any](t *testing.T, newStore func(t *testing.T) store.Store, nothing string) (*fixture, P) {
	t.Helper()
	f := newFixture(t, newStore)
	p, ok := f.s.(P)
	if !ok {
		t.Skip("the store does not implement " + reflect.TypeFor[P]().String() + " (optional): " + nothing)
	}
	return f, p
}

// token returns a token of the fixture's tenant called name, created at
// at(minute), with a digest unique to the process and the fixture.
func (f *fixture) token(name string, minute int) store.Token {
	return store.Token{
		ID:      f.id(name),
		Tenant:  f.tenant,
		Name:    "token " + name,
		Prefix:  "scim_" + name,
		Digest:  fmt.Sprintf("%064x", counter.Add(1)) + f.suffix,
		Created: at(minute),
	}
}

func (f *fixture) createTokens(ts store.TokenStore, tokens ...store.Token) {
	f.t.Helper()
	for _, tok := range tokens {
		if err := ts.CreateToken(f.ctx, tok); err != nil {
			f.t.Fatalf("CreateToken %s: %v", tok.ID, err)
		}
	}
}

// checkToken fails unless the token with want's digest is want.
func checkToken(t *testing.T, f *fixture, ts store.TokenStore, what string, want store.Token) {
	t.Helper()
	got, err := ts.TokenByDigest(f.ctx, want.Digest)
	if err != nil {
		t.Errorf("%s: TokenByDigest: %v", what, err)
		return
	}
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("%s: TokenByDigest (-want +got):\n%s", what, diff)
	}
}

func tokenIDs(tokens []store.Token) []string {
	out := []string{}
	for _, t := range tokens {
		out = append(out, t.ID)
	}
	return out
}

func testTokens(t *testing.T, newStore func(t *testing.T) store.Store) {
	tokenFixture(t, newStore) // skips the whole clause

	t.Run("created, then found by digest", func(t *testing.T) {
		f, ts := tokenFixture(t, newStore)
		full := f.token("full", 1)
		full.Connection, full.Expires, full.LastUsed = "okta", at(60), at(2)
		bare := f.token("bare", 2)
		f.createTokens(ts, full, bare)
		checkToken(t, f, ts, "a token with every field", full)
		checkToken(t, f, ts, "a token without expiry, revocation or use", bare)
	})

	t.Run("ErrNotFound for an unknown digest", func(t *testing.T) {
		f, ts := tokenFixture(t, newStore)
		f.createTokens(ts, f.token("known", 1))
		if _, err := ts.TokenByDigest(f.ctx, "unknown-"+f.suffix); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("TokenByDigest(unknown): %v, want ErrNotFound", err)
		}
	})

	t.Run("ErrConflict for a taken id or digest", func(t *testing.T) {
		f, ts := tokenFixture(t, newStore)
		g := f.otherTenant()
		a := f.token("a", 1)
		f.createTokens(ts, a)
		sameID := f.token("a", 2)
		if err := ts.CreateToken(f.ctx, sameID); !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateToken with a taken id: %v, want ErrConflict", err)
		}
		sameDigest := g.token("b", 2)
		sameDigest.Digest = a.Digest
		if err := ts.CreateToken(f.ctx, sameDigest); !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateToken in another tenant with a taken digest: %v, want ErrConflict", err)
		}
		checkToken(t, f, ts, "after the conflicts", a)
		// An id is unique per tenant only.
		otherID := g.token("x", 3)
		otherID.ID = a.ID
		if err := ts.CreateToken(f.ctx, otherID); err != nil {
			t.Errorf("CreateToken in another tenant with the same id: %v", err)
		}
	})

	t.Run("listed newest first, per tenant", func(t *testing.T) {
		f, ts := tokenFixture(t, newStore)
		g := f.otherTenant()
		old, newest, middle := f.token("old", 1), f.token("newest-b", 3), f.token("middle", 2)
		tie := f.token("newest-a", 3)
		revoked := f.token("revoked", 0)
		revoked.Revoked = at(1)
		f.createTokens(ts, old, newest, middle, tie, revoked, g.token("other", 4))
		got, err := ts.Tokens(f.ctx, f.tenant)
		if err != nil {
			t.Fatalf("Tokens: %v", err)
		}
		if diff := gocmp.Diff([]store.Token{newest, tie, middle, old, revoked}, got); diff != "" {
			t.Errorf("Tokens (-want +got):\n%s", diff)
		}
		none, err := ts.Tokens(f.ctx, f.otherTenant().tenant)
		if err != nil || len(none) != 0 {
			t.Errorf("Tokens of a tenant without tokens: %v, %v; want none", tokenIDs(none), err)
		}
	})

	t.Run("revoked within the tenant only, the earliest time kept", func(t *testing.T) {
		f, ts := tokenFixture(t, newStore)
		g := f.otherTenant()
		tok := f.token("t", 1)
		f.createTokens(ts, tok)
		if err := ts.RevokeToken(f.ctx, g.tenant, tok.ID, at(2)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RevokeToken from another tenant: %v, want ErrNotFound", err)
		}
		checkToken(t, f, ts, "after another tenant's revocation", tok)
		if err := ts.RevokeToken(f.ctx, f.tenant, "unknown-"+f.suffix, at(2)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RevokeToken(unknown id): %v, want ErrNotFound", err)
		}
		for _, step := range []struct {
			what string
			at   int
			want int
		}{
			{"scheduled in the future", 30, 30},
			{"brought forward", 5, 5},
			{"revoked again later", 9, 5},
			{"revoked again at the same time", 5, 5},
		} {
			if err := ts.RevokeToken(f.ctx, f.tenant, tok.ID, at(step.at)); err != nil {
				t.Fatalf("%s: RevokeToken: %v", step.what, err)
			}
			tok.Revoked = at(step.want)
			checkToken(t, f, ts, step.what, tok)
		}
	})

	t.Run("touched forward only, within the tenant", func(t *testing.T) {
		f, ts := tokenFixture(t, newStore)
		g := f.otherTenant()
		tok := f.token("t", 1)
		f.createTokens(ts, tok)
		touch := func(tenant, id string, minute int) {
			t.Helper()
			if err := ts.TouchToken(f.ctx, tenant, id, at(minute)); err != nil {
				t.Errorf("TouchToken(%s, %s, at(%d)): %v", tenant, id, minute, err)
			}
		}
		touch(f.tenant, tok.ID, 5)
		tok.LastUsed = at(5)
		checkToken(t, f, ts, "first touch", tok)
		touch(f.tenant, tok.ID, 4)
		checkToken(t, f, ts, "an earlier touch", tok)
		touch(g.tenant, tok.ID, 9)
		checkToken(t, f, ts, "another tenant's touch", tok)
		touch(f.tenant, "unknown-"+f.suffix, 9) // not an error
		touch(f.tenant, tok.ID, 8)
		tok.LastUsed = at(8)
		checkToken(t, f, ts, "a later touch", tok)
	})

	t.Run("concurrent lookups, touches and revocations", func(t *testing.T) {
		f, ts := tokenFixture(t, newStore)
		toks := []store.Token{f.token("a", 1), f.token("b", 2)}
		f.createTokens(ts, toks...)
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for w := range 8 {
			tok := toks[w%2]
			wg.Go(func() {
				for i := range 4 {
					if _, err := ts.TokenByDigest(f.ctx, tok.Digest); err != nil {
						errs <- err
					}
					if err := ts.TouchToken(f.ctx, f.tenant, tok.ID, at(10+w*4+i)); err != nil {
						errs <- err
					}
				}
				if err := ts.RevokeToken(f.ctx, f.tenant, tok.ID, at(100+w)); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		got, err := ts.Tokens(f.ctx, f.tenant)
		if err != nil {
			t.Fatal(err)
		}
		// Each token's latest touch and earliest revocation win.
		toks[0].LastUsed, toks[0].Revoked = at(10+6*4+3), at(100)
		toks[1].LastUsed, toks[1].Revoked = at(10+7*4+3), at(101)
		if diff := gocmp.Diff([]store.Token{toks[1], toks[0]}, got); diff != "" {
			t.Errorf("Tokens after the storm (-want +got):\n%s", diff)
		}
	})
}
