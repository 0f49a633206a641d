package scim_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store/memory"
)

// ExampleTokens issues a token, authenticates with it, rotates it and
// revokes it. Rand and Now are fixed here only to make the output
// deterministic; leave them unset.
func ExampleTokens() {
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tokens, err := scim.NewTokens(memory.New(), scim.TokensConfig{
		Now:  func() time.Time { return now },
		Rand: bytes.NewReader(bytes.Repeat([]byte{0x5a, 0xc3, 0x17}, 100)),
	})
	if err != nil {
		panic(err)
	}

	secret, tok, _ := tokens.Create(ctx, "acme", "Okta production", time.Time{})
	fmt.Println("show once:", secret)
	p, err := tokens.Authenticate(ctx, secret)
	fmt.Println("tenant:", p.Tenant, "token:", p.TokenID, err)

	// Rotation: the old token works for another hour.
	newSecret, _, _ := tokens.Regenerate(ctx, "acme", tok.ID, time.Hour)
	list, _ := tokens.List(ctx, "acme")
	for _, t := range list {
		fmt.Printf("%s… %q active: %v, revoked: %v\n", t.Prefix, t.Name, t.Active(now), !t.Revoked.IsZero())
	}
	now = now.Add(time.Hour)
	_, err = tokens.Authenticate(ctx, secret)
	fmt.Println("old token after the hour:", errors.Is(err, scim.ErrUnauthenticated))
	_, err = tokens.Authenticate(ctx, newSecret)
	fmt.Println("new token:", err)
	// Output:
	// show once: scim_bb1hepp3_2xdc65ttrcbnngrqbb1hepp32xdc65ttrcbnngrqbb1hepp32xd0
	// tenant: acme token: bb1hepp3 <nil>
	// scim_rcbnngrq… "Okta production" active: true, revoked: false
	// scim_bb1hepp3… "Okta production" active: true, revoked: true
	// old token after the hour: true
	// new token: <nil>
}
