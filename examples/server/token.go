package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
)

// tokenUsage is the usage of the token subcommands.
const tokenUsage = `usage:
  server token create     -tenant T [-name N] [-expires 720h] [-db scim.db]
  server token list       -tenant T [-db scim.db]
  server token revoke     -tenant T [-db scim.db] ID
  server token regenerate -tenant T [-overlap 1h] [-db scim.db] ID

Stored tokens (scim_…) work for the server on the same -db, beside -token.
The secret is printed once, by create and regenerate; only its SHA-256
digest is stored.`

// runToken runs "server token …": the demo's token admin screen. db is the
// -db given before "token" (or its default); the subcommand may set it too.
func runToken(ctx context.Context, args []string, db string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		fmt.Fprintln(stderr, tokenUsage)
		if len(args) == 0 {
			return errors.New("token: want create, list, revoke or regenerate")
		}
		return nil
	}
	cmd := args[0]
	fs := flag.NewFlagSet("server token "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, tokenUsage) }
	fs.StringVar(&db, "db", db, "storage: a SQLite file, memory, postgres://… or mysql://…")
	tenant := fs.String("tenant", "", "the tenant (required)")
	var name *string
	var expires, overlap *time.Duration
	needID := false
	switch cmd {
	case "create":
		name = fs.String("name", "", "a label for the token, e.g. the IdP it is for")
		expires = fs.Duration("expires", 0, "lifetime, e.g. 720h; 0: never expires")
	case "list":
	case "revoke":
		needID = true
	case "regenerate":
		overlap = fs.Duration("overlap", 0, "how long the old token keeps working; 0: revoked at once")
		needID = true
	default:
		fmt.Fprintln(stderr, tokenUsage)
		return fmt.Errorf("token: unknown command %q: want create, list, revoke or regenerate", cmd)
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *tenant == "" {
		return fmt.Errorf("token %s: -tenant is required", cmd)
	}
	var id string
	switch {
	case needID && fs.NArg() != 1:
		return fmt.Errorf("token %s: want one token ID after the flags", cmd)
	case needID:
		id = fs.Arg(0)
	case fs.NArg() > 0:
		return fmt.Errorf("token %s: unexpected arguments: %s", cmd, strings.Join(fs.Args(), " "))
	}
	if expires != nil && *expires < 0 {
		return fmt.Errorf("token create: -expires %v is negative", *expires)
	}

	st, closeStore, err := openStore(ctx, db)
	if err != nil {
		return err
	}
	defer closeStore()
	if db == "memory" && (cmd == "create" || cmd == "regenerate") {
		fmt.Fprintln(stderr, "warning: -db memory: the token will not survive this command, which exits at once; "+
			"create tokens in the server's database (the default -db is scim.db)")
	}
	tokens, err := newStoredTokens(st, slog.New(slog.NewTextHandler(stderr, nil)))
	if err != nil {
		return err
	}

	switch cmd {
	case "create":
		var until time.Time
		if *expires > 0 {
			until = time.Now().Add(*expires)
		}
		secret, tok, err := tokens.Create(ctx, *tenant, *name, until)
		if err != nil {
			return err
		}
		printSecret(stdout, "Created", tok, secret)
	case "list":
		list, err := tokens.List(ctx, *tenant)
		if err != nil {
			return err
		}
		printTokens(stdout, *tenant, list, time.Now())
	case "revoke":
		if err := tokens.Revoke(ctx, *tenant, id); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("token revoke: tenant %q has no token %q", *tenant, id)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Revoked token %s of tenant %q: it no longer authenticates.\n", id, *tenant)
	case "regenerate":
		secret, tok, err := tokens.Regenerate(ctx, *tenant, id, *overlap)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("token regenerate: tenant %q has no token %q", *tenant, id)
		}
		if secret != "" {
			printSecret(stdout, "Regenerated", tok, secret)
		}
		if err != nil {
			return err
		}
		if *overlap > 0 {
			fmt.Fprintf(stdout, "The old token %s keeps working until %s.\n", id, time.Now().Add(*overlap).UTC().Format(time.RFC3339))
		} else {
			fmt.Fprintf(stdout, "The old token %s is revoked.\n", id)
		}
	}
	return nil
}

// printSecret prints a new token, its secret alone on a line.
func printSecret(w io.Writer, verb string, tok scim.Token, secret string) {
	name := ""
	if tok.Name != "" {
		name = fmt.Sprintf(" %q", tok.Name)
	}
	fmt.Fprintf(w, "%s token %s%s for tenant %q, %s:\n", verb, tok.ID, name, tok.Tenant, expiry(tok))
	fmt.Fprintln(w, secret)
	fmt.Fprintln(w, "Copy it now: it is shown only this once (only its SHA-256 digest is stored).")
}

func expiry(tok scim.Token) string {
	if tok.Expires.IsZero() {
		return "never expires"
	}
	return "expires " + tok.Expires.UTC().Format(time.RFC3339)
}

// printTokens prints the tenant's tokens as a table, newest first.
func printTokens(w io.Writer, tenant string, list []scim.Token, now time.Time) {
	if len(list) == 0 {
		fmt.Fprintf(w, "No tokens for tenant %q.\n", tenant)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPREFIX\tNAME\tCREATED\tEXPIRES\tLAST USED\tSTATUS")
	stamp := func(t time.Time, zero string) string {
		if t.IsZero() {
			return zero
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, t := range list {
		status := "active"
		switch {
		case !t.Revoked.IsZero() && !now.Before(t.Revoked):
			status = "revoked"
		case !t.Expires.IsZero() && !now.Before(t.Expires):
			status = "expired"
		case !t.Revoked.IsZero():
			status = "active until " + stamp(t.Revoked, "")
		}
		name := t.Name
		if name == "" {
			name = "-"
		}
		fmt.Fprintf(tw, "%s\t%s…\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Prefix, name,
			stamp(t.Created, "-"), stamp(t.Expires, "never"), stamp(t.LastUsed, "never"), status)
	}
	tw.Flush()
}

// newStoredTokens returns Tokens on st (every store of the demo keeps
// tokens).
func newStoredTokens(st store.Store, logger *slog.Logger) (*scim.Tokens, error) {
	ts, ok := st.(store.TokenStore)
	if !ok {
		return nil, errors.New("the store keeps no tokens")
	}
	return scim.NewTokens(ts, scim.TokensConfig{Logger: logger})
}

// seedOnFirstUse seeds a tenant the first time one of its tokens is
// accepted, so that -owner and -existing hold "in every tenant" for
// tenants that only have stored tokens.
type seedOnFirstUse struct {
	scim.Authenticator
	seed func(ctx context.Context, tenant string) error

	mu   sync.Mutex
	done map[string]bool
}

func (s *seedOnFirstUse) Authenticate(ctx context.Context, token string) (scim.Principal, error) {
	p, err := s.Authenticator.Authenticate(ctx, token)
	if err != nil {
		return p, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.done[p.Tenant] {
		if err := s.seed(ctx, p.Tenant); err != nil {
			return scim.Principal{}, fmt.Errorf("seed tenant %s: %w", p.Tenant, err)
		}
		s.done[p.Tenant] = true
	}
	return p, nil
}

// demoTokenName labels the token the demo stores on its first start.
const demoTokenName = "demo (made on the first start)"

// demoToken gives tenant default a token when none was given. With -db
// memory a new one each start is fine. With a file or server database the
// first start stores a scim_… token and prints it; every later start finds
// it, keeps accepting it (an IdP configured with it yesterday still works
// today) and says how to get a new one: only its digest is stored, so it
// cannot be printed again.
func demoToken(ctx context.Context, stdout io.Writer, stored *scim.Tokens, auth *scim.StaticTokens, db string) error {
	if db == "memory" {
		token := newToken()
		auth.Add(defaultTenant, token)
		fmt.Fprintf(stdout, "SCIM token for tenant %q: %s\n", defaultTenant, token)
		return nil
	}
	list, err := stored.List(ctx, defaultTenant)
	if err != nil {
		return fmt.Errorf("read stored tokens: %w", err)
	}
	now := time.Now()
	active := 0
	for _, tok := range list {
		if tok.Active(now) {
			active++
		}
	}
	if active > 0 {
		fmt.Fprintf(stdout, "SCIM tokens for tenant %q: %d stored in %s still work (the token printed on the first start among them).\n"+
			"For a new one: go run ./examples/server -db %s token create -tenant %s\n", defaultTenant, active, redact(db), redact(db), defaultTenant)
		return nil
	}
	secret, _, err := stored.Create(ctx, defaultTenant, demoTokenName, time.Time{})
	if err != nil {
		return fmt.Errorf("store a token: %w", err)
	}
	fmt.Fprintf(stdout, "SCIM token for tenant %q: %s\n", defaultTenant, secret)
	fmt.Fprintf(stdout, "It is stored in %s (as a digest) and keeps working after a restart.\n", redact(db))
	return nil
}
