package store

import (
	"context"
	"time"
)

// Token is a bearer token of a tenant as a TokenStore keeps it: never the
// secret, only its digest. The zero time in Expires, Revoked or LastUsed
// means "not set".
type Token struct {
	// ID identifies the token within its tenant; admin screens show it
	// and revoke by it. It never reveals the secret.
	ID string
	// Tenant is the tenant the token authenticates as.
	Tenant string
	// Connection names the identity-provider connection the token belongs
	// to (the Principal's Connection); "" for one connection per tenant.
	Connection string
	// Name is the admin's label for the token ("Okta production").
	Name string
	// Prefix is the visible start of the secret ("scim_ab12cd34"), shown so
	// that an admin can tell which token an IdP holds.
	Prefix string
	// Digest is the hex-encoded SHA-256 or HMAC-SHA-256 of the secret. It
	// is unique across all tenants.
	Digest string
	// Created is when the token was made; Expires when it stops working on
	// its own.
	Created, Expires time.Time
	// Revoked is when the token stopped (or will stop) working because an
	// admin revoked it or a newer token replaced it.
	Revoked time.Time
	// LastUsed is when the token last authenticated a request, written at
	// most every so often (see scim.TokensConfig.TouchEvery).
	LastUsed time.Time
}

// TokenStore is implemented by a Store that keeps bearer tokens (the memory
// and SQL stores do); scim.Tokens issues and checks tokens through it. Its
// methods stand outside View and Update: a token belongs to a tenant but is
// looked up before the tenant is known.
type TokenStore interface {
	// CreateToken stores t. It returns ErrConflict when the tenant already
	// has a token with t.ID, or any tenant one with t.Digest.
	CreateToken(ctx context.Context, t Token) error

	// TokenByDigest returns the token with the given digest, whatever its
	// tenant, revoked or expired ones included (the caller decides), or
	// ErrNotFound.
	TokenByDigest(ctx context.Context, digest string) (Token, error)

	// Tokens returns the tenant's tokens, revoked and expired ones
	// included, newest first (by Created, then by ID descending). A tenant
	// without tokens has none: an empty slice and no error.
	Tokens(ctx context.Context, tenant string) ([]Token, error)

	// RevokeToken sets the Revoked time of the tenant's token id to at,
	// unless it is already revoked at an earlier time (that one is kept):
	// revoking twice is harmless, and a revocation scheduled in the future
	// can be brought forward. It returns ErrNotFound when the tenant has no
	// token with that id, even when another tenant has.
	RevokeToken(ctx context.Context, tenant, id string, at time.Time) error

	// TouchToken sets the LastUsed time of the tenant's token id to at,
	// unless the stored one is later. Touching an unknown token does
	// nothing and is not an error: the token may just have been deleted.
	TouchToken(ctx context.Context, tenant, id string, at time.Time) error
}

// Active reports whether the token works at now: neither revoked nor
// expired by then.
func (t *Token) Active(now time.Time) bool {
	return (t.Revoked.IsZero() || now.Before(t.Revoked)) && (t.Expires.IsZero() || now.Before(t.Expires))
}
