package scim

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/scimkit/scim/store"
)

// Token is a stored bearer token as admin screens show it: id, name,
// visible prefix, times; never the secret. See store.Token.
type Token = store.Token

// TokenPrefix starts every secret Tokens issues, so that a leaked token is
// recognisable (by secret scanners, in logs) and Authenticate can refuse
// other strings without asking the store.
const TokenPrefix = "scim_"

// tokenAlphabet is Crockford's base32 in lower case: no i, l, o or u, so a
// token read aloud or copied by hand has no ambiguous characters.
const tokenAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

var tokenEncoding = base32.NewEncoding(tokenAlphabet).WithPadding(base32.NoPadding)

const (
	tokenIDBytes     = 5  // 8 characters: the id, unique per tenant
	tokenSecretBytes = 32 // 52 characters: 256 bits of entropy
)

// TokensConfig holds the optional settings of Tokens; the zero value is
// usable.
type TokensConfig struct {
	// Key, when set, makes the stored digest an HMAC-SHA-256 of the secret
	// under Key instead of its SHA-256, so that the token table alone
	// (a backup, a read replica) is not enough to check a guessed token.
	// At least 32 bytes. Changing it invalidates every stored token.
	Key []byte
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// TouchEvery is how often a token's last-used time is written, at
	// most, per token and per process: authenticating is a read, and a
	// busy IdP must not turn it into a write per request. Default: one
	// minute; negative: on every use.
	TouchEvery time.Duration
	// Logger receives failures to write the last-used time (they never
	// fail a request). Default: slog.Default().
	Logger *slog.Logger
	// Rand is the source of ids and secrets. Default: crypto/rand.
	Rand io.Reader
}

// Tokens issues, lists, revokes and checks bearer tokens kept in a
// store.TokenStore: the Go API behind an app's "SCIM tokens" admin screen,
// and an Authenticator for the handler.
//
// A secret looks like scim_k3m9x2pq_… : the prefix, the token's id (8
// characters) and 52 characters carrying 256 random bits, all in
// Crockford's lower-case base32 (no i, l, o, u). Create returns it once;
// only its digest is stored. A tenant may hold several active tokens, so
// that a rotation overlaps: create the new one, configure the IdP, revoke
// the old one (or Regenerate with an overlap).
//
// Tokens is safe for concurrent use.
type Tokens struct {
	ts         store.TokenStore
	key        []byte
	now        func() time.Time
	touchEvery time.Duration
	log        *slog.Logger
	rand       io.Reader

	mu      sync.Mutex
	touched map[string]time.Time // tenant\x00id → last touch written or read
}

var _ Authenticator = (*Tokens)(nil)

// NewTokens returns Tokens on ts. It fails for a Key shorter than 32
// bytes.
func NewTokens(ts store.TokenStore, cfg TokensConfig) (*Tokens, error) {
	if ts == nil {
		return nil, errors.New("scim: NewTokens needs a store.TokenStore")
	}
	if cfg.Key != nil && len(cfg.Key) < 32 {
		return nil, errors.New("scim: TokensConfig.Key must be at least 32 bytes")
	}
	t := &Tokens{
		ts: ts, key: cfg.Key, now: cfg.Now, touchEvery: cfg.TouchEvery, log: cfg.Logger, rand: cfg.Rand,
		touched: map[string]time.Time{},
	}
	if t.now == nil {
		t.now = time.Now
	}
	if t.touchEvery == 0 {
		t.touchEvery = time.Minute
	}
	if t.log == nil {
		t.log = slog.Default()
	}
	if t.rand == nil {
		t.rand = rand.Reader
	}
	return t, nil
}

// Create issues a token for tenant, labelled name, that expires at expires
// (the zero time: never). It returns the secret, to be shown once to the
// admin and never again, and the token as stored.
func (t *Tokens) Create(ctx context.Context, tenant, name string, expires time.Time) (string, Token, error) {
	return t.CreateConnection(ctx, tenant, "", name, expires)
}

// CreateConnection is Create for one identity-provider connection of
// tenant (Principal.Connection), for apps that let a tenant connect
// several IdPs.
func (t *Tokens) CreateConnection(ctx context.Context, tenant, connection, name string, expires time.Time) (string, Token, error) {
	if tenant == "" {
		return "", Token{}, errors.New("scim: a token needs a tenant")
	}
	now := t.now().UTC()
	if !expires.IsZero() && !expires.After(now) {
		return "", Token{}, fmt.Errorf("scim: token expiry %s is not in the future", expires.Format(time.RFC3339))
	}
	for attempt := 1; ; attempt++ {
		id, err := t.random(tokenIDBytes)
		if err != nil {
			return "", Token{}, err
		}
		body, err := t.random(tokenSecretBytes)
		if err != nil {
			return "", Token{}, err
		}
		secret := TokenPrefix + id + "_" + body
		tok := Token{
			ID: id, Tenant: tenant, Connection: connection, Name: name,
			Prefix: TokenPrefix + id, Digest: t.digest(secret),
			Created: now, Expires: expiresUTC(expires),
		}
		err = t.ts.CreateToken(ctx, tok)
		// A conflict is an id drawn twice in one tenant (1 in 2^40 per
		// pair): draw again.
		if errors.Is(err, store.ErrConflict) && attempt < 3 {
			continue
		}
		if err != nil {
			return "", Token{}, fmt.Errorf("scim: create token: %w", err)
		}
		return secret, tok, nil
	}
}

// List returns the tenant's tokens, revoked and expired ones included,
// newest first. Token.Active tells which still work.
func (t *Tokens) List(ctx context.Context, tenant string) ([]Token, error) {
	return t.ts.Tokens(ctx, tenant)
}

// Revoke stops the tenant's token id from working, from now on. It returns
// an error matching store.ErrNotFound when the tenant has no such token.
// Revoking a revoked token is harmless.
func (t *Tokens) Revoke(ctx context.Context, tenant, id string) error {
	if err := t.ts.RevokeToken(ctx, tenant, id, t.now().UTC()); err != nil {
		return fmt.Errorf("scim: revoke token %s: %w", id, err)
	}
	t.mu.Lock()
	delete(t.touched, tenant+"\x00"+id)
	t.mu.Unlock()
	return nil
}

// Regenerate replaces the tenant's token id: it creates a token with the
// same name and connection (and, when the old one expires, the same
// lifetime from now), then revokes the old one after overlap — at once
// when overlap is zero or negative, so that the IdP can be switched to the
// new secret in the meantime when it is positive. An old token already
// revoked earlier keeps its earlier revocation.
//
// It returns an error matching store.ErrNotFound when the tenant has no
// such token. When the new token was created but the old one could not be
// revoked, it returns the new secret and token together with the error, so
// that the secret is not lost; the old token then still works.
func (t *Tokens) Regenerate(ctx context.Context, tenant, id string, overlap time.Duration) (string, Token, error) {
	list, err := t.ts.Tokens(ctx, tenant)
	if err != nil {
		return "", Token{}, fmt.Errorf("scim: regenerate token %s: %w", id, err)
	}
	var old *Token
	for i := range list {
		if list[i].ID == id {
			old = &list[i]
		}
	}
	if old == nil {
		return "", Token{}, fmt.Errorf("scim: regenerate token %s: %w", id, store.ErrNotFound)
	}
	now := t.now().UTC()
	var expires time.Time
	if !old.Expires.IsZero() {
		expires = now.Add(old.Expires.Sub(old.Created))
	}
	secret, tok, err := t.CreateConnection(ctx, tenant, old.Connection, old.Name, expires)
	if err != nil {
		return "", Token{}, err
	}
	if err := t.ts.RevokeToken(ctx, tenant, id, now.Add(max(overlap, 0))); err != nil {
		return secret, tok, fmt.Errorf("scim: regenerate token %s: new token %s created, old one not revoked: %w", id, tok.ID, err)
	}
	return secret, tok, nil
}

// Authenticate implements Authenticator. It accepts a secret Tokens issued
// whose token is neither revoked nor expired, and answers
// ErrUnauthenticated for anything else; a string without TokenPrefix is
// refused without asking the store. The stored digest is compared in
// constant time. A failing store gives an error other than
// ErrUnauthenticated (the handler answers 503).
//
// It writes the token's last-used time at most every TouchEvery per token;
// a failure to write it is logged and does not fail the request.
func (t *Tokens) Authenticate(ctx context.Context, token string) (Principal, error) {
	if !strings.HasPrefix(token, TokenPrefix) {
		return Principal{}, ErrUnauthenticated
	}
	d := t.digest(token)
	tok, err := t.ts.TokenByDigest(ctx, d)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Principal{}, ErrUnauthenticated
	case err != nil:
		return Principal{}, fmt.Errorf("scim: look up token: %w", err)
	}
	// The lookup was by digest, which reveals nothing usable about the
	// secret; the final check is constant-time all the same.
	if subtle.ConstantTimeCompare([]byte(tok.Digest), []byte(d)) != 1 {
		return Principal{}, ErrUnauthenticated
	}
	now := t.now()
	if !tok.Active(now) {
		return Principal{}, ErrUnauthenticated
	}
	t.touch(ctx, tok, now)
	return Principal{Tenant: tok.Tenant, TokenID: tok.ID, Connection: tok.Connection}, nil
}

// touch writes the token's last-used time unless this process wrote it, or
// read a stored one, less than TouchEvery ago.
func (t *Tokens) touch(ctx context.Context, tok Token, now time.Time) {
	key := tok.Tenant + "\x00" + tok.ID
	t.mu.Lock()
	last := t.touched[key]
	if tok.LastUsed.After(last) {
		last = tok.LastUsed
	}
	due := t.touchEvery < 0 || last.IsZero() || now.Sub(last) >= t.touchEvery
	if due {
		t.touched[key] = now
	}
	t.mu.Unlock()
	if !due {
		return
	}
	if err := t.ts.TouchToken(ctx, tok.Tenant, tok.ID, now.UTC()); err != nil {
		t.log.WarnContext(ctx, "scim: cannot record token use", "tenant", tok.Tenant, "token", tok.ID, "err", err)
	}
}

// digest is what the store keeps of a secret: hex SHA-256, or HMAC-SHA-256
// under the configured key.
func (t *Tokens) digest(secret string) string {
	if t.key != nil {
		m := hmac.New(sha256.New, t.key)
		m.Write([]byte(secret))
		return hex.EncodeToString(m.Sum(nil))
	}
	d := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(d[:])
}

func (t *Tokens) random(n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(t.rand, b); err != nil {
		return "", fmt.Errorf("scim: token randomness: %w", err)
	}
	return tokenEncoding.EncodeToString(b), nil
}

func expiresUTC(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

// Authenticators returns an Authenticator that asks each of auths in turn
// and accepts the first Principal one of them gives: for example stored
// Tokens beside StaticTokens from configuration. When none
// accepts, it returns the first error other than ErrUnauthenticated (a
// store that is down: the handler answers 503), or else
// ErrUnauthenticated.
func Authenticators(auths ...Authenticator) Authenticator {
	return authChain(auths)
}

type authChain []Authenticator

func (c authChain) Authenticate(ctx context.Context, token string) (Principal, error) {
	var failure error
	for _, a := range c {
		p, err := a.Authenticate(ctx, token)
		if err == nil {
			return p, nil
		}
		if failure == nil && !errors.Is(err, ErrUnauthenticated) {
			failure = err
		}
	}
	if failure != nil {
		return Principal{}, failure
	}
	return Principal{}, ErrUnauthenticated
}
