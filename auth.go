package scim

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"sync"
)

// Principal is who a request acts for: the tenant whose data it may touch,
// and the id of the credential it presented (for events and audit; never the
// secret itself).
type Principal struct {
	// Tenant is the tenant the credential belongs to; it scopes every
	// store call of the request.
	Tenant string
	// TokenID identifies the credential in logs, the journal and events
	// (a stored token's ID); never the secret itself.
	TokenID string
	// Connection names the identity-provider connection the credential
	// belongs to; "" means one connection per tenant. A user managed by one
	// connection cannot be linked or changed by another.
	Connection string
}

// ErrUnauthenticated is returned by an Authenticator for a missing, unknown,
// revoked or expired credential. The handler answers 401.
var ErrUnauthenticated = errors.New("scim: unauthenticated")

// Authenticator resolves the bearer token of a request to a Principal. An
// app with its own token storage implements it; the built-in ones are
// StaticTokens (tokens from configuration) and Tokens (tokens issued and
// kept in a store.TokenStore). Authenticate returns ErrUnauthenticated for a token it does not
// accept; any other error is answered as 503 so the IdP retries.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (Principal, error)
}

// StaticTokens is an in-process Authenticator over a fixed set of tokens. It
// keeps only SHA-256 digests of the tokens and compares digests in constant
// time. Several tokens may map to one tenant, so that rotation overlaps.
// It is safe for concurrent use.
type StaticTokens struct {
	mu     sync.RWMutex
	tokens map[[sha256.Size]byte]tokenEntry
}

type tokenEntry struct {
	digest    [sha256.Size]byte
	principal Principal
}

// NewStaticTokens returns an empty StaticTokens.
func NewStaticTokens() *StaticTokens {
	return &StaticTokens{tokens: make(map[[sha256.Size]byte]tokenEntry)}
}

// Add accepts token for tenant. The token id recorded in the Principal is
// the first 8 hex digits of the token's digest, enough to tell tokens apart
// in logs without revealing them.
func (s *StaticTokens) Add(tenant, token string) {
	d := sha256.Sum256([]byte(token))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[d] = tokenEntry{digest: d, principal: Principal{Tenant: tenant, TokenID: tokenID(d)}}
}

// AddConnection accepts token for one identity-provider connection of
// tenant, for apps that let a tenant connect several IdPs.
func (s *StaticTokens) AddConnection(tenant, connection, token string) {
	d := sha256.Sum256([]byte(token))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[d] = tokenEntry{digest: d, principal: Principal{Tenant: tenant, TokenID: tokenID(d), Connection: connection}}
}

// Remove stops accepting token.
func (s *StaticTokens) Remove(token string) {
	d := sha256.Sum256([]byte(token))
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, d)
}

// Authenticate implements Authenticator.
func (s *StaticTokens) Authenticate(_ context.Context, token string) (Principal, error) {
	if token == "" {
		return Principal{}, ErrUnauthenticated
	}
	d := sha256.Sum256([]byte(token))
	s.mu.RLock()
	e, ok := s.tokens[d]
	s.mu.RUnlock()
	// Only digests are stored, so the lookup reveals nothing usable about a
	// token; the final check is constant-time all the same.
	if !ok || subtle.ConstantTimeCompare(e.digest[:], d[:]) != 1 {
		return Principal{}, ErrUnauthenticated
	}
	return e.principal, nil
}

func tokenID(d [sha256.Size]byte) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 8)
	for i := 0; i < 4; i++ {
		b[2*i], b[2*i+1] = hex[d[i]>>4], hex[d[i]&0xf]
	}
	return string(b)
}
