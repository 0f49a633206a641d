// Command server is the scimkit demo backend: an experimentation platform
// whose users and teams an identity provider manages over SCIM 2.0.
//
//	go run ./examples/server [-addr 127.0.0.1:8080] [-db scim.db | memory | postgres://… | mysql://…]
//	                         [-token TOKEN | -token TENANT=TOKEN ...] [-owner EMAIL] [-existing EMAIL ...]
//	                         [-profile demo|eppo|growthbook|statsig] [-project NAME ...] [-user-patch-204]
//	                         [-admin-password PASSWORD] [-admin-any-tenant] [-max-conns N]
//	                         [-seat-limit N] [-verified-domain DOMAIN ...]
//
// It serves SCIM at http://ADDR/scim/v2. In the default demo profile the
// roles are viewer, experiment_editor, data_owner, admin (and owner, never
// assignable through SCIM), carried in the memberRole attribute (top-level,
// or in the extension urn:ietf:params:scim:schemas:extension:scimkit:2.0:User);
// the keyword "default" keeps a user's role; the org default role is
// viewer. The eppo, growthbook and statsig profiles follow those products'
// documented SCIM behaviour instead (docs/products.md).
//
// -owner seeds, in every tenant, the org owner as an existing app user;
// -existing seeds other existing users that provisioning links by email.
// -profile statsig also seeds, in every tenant, the Project×Role groups
// (Statsig-<Project>-<Role>) of a sample project as the app's own groups,
// which an IdP imports and links; -project (repeatable) names the projects
// instead.
// Without -token (or SCIM_TOKEN) it creates a token and prints it.
//
// -seat-limit N refuses (403) a create or a reactivation that would give a
// tenant more than N active users; -verified-domain DOMAIN (repeatable)
// refuses (400 invalidValue) an email address, or a userName that is one,
// outside the given domains. Both are the app's admission rules
// (scim.Config.Admit, see admit.go), decided inside the write's
// transaction.
//
// Tokens stored in the -db (prefixed scim_, kept only as SHA-256 digests)
// are accepted too; manage them with
//
//	go run ./examples/server token create -tenant T [-name N] [-expires 720h] [-db scim.db]
//	go run ./examples/server token list -tenant T
//	go run ./examples/server token revoke -tenant T ID
//	go run ./examples/server token regenerate -tenant T [-overlap 1h] ID
//
// -admin-password (or SCIM_ADMIN_PASSWORD) serves the admin page
// (package admin) at /admin/ behind HTTP Basic authentication: the user
// name is the tenant to manage ("default" when empty), the password this
// one. Without it /admin is not served. Only the tenants of -token and of
// stored tokens open (their names exactly), unless -admin-any-tenant.
//
// The HTTP server has read, write and idle timeouts and serves at most
// -max-conns connections at once (512 by default).
//
// GET /app/users/{id}/roles (with a tenant's token) shows the roles the app
// derives for a user, including those granted by groups.
//
// GET /metrics answers the SCIM handler's metrics (scim.Config.MeterProvider)
// in the Prometheus text format, without authentication, as /healthz: it
// names tenants, so keep the port off the public network or put it behind
// the scraper's own authentication.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
)

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// defaultTenant owns a bare -token.
const defaultTenant = "default"

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr *os.File) (err error) {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	db := fs.String("db", defaultDB, "storage: a SQLite file, memory, postgres://… or mysql://…")
	defer func() {
		if err != nil {
			err = hidePassword(err, *db)
		}
	}()
	owner := fs.String("owner", "", "email of the org owner to seed in every tenant")
	profileName := fs.String("profile", "demo", "SCIM behaviour to follow: "+profileNames())
	limits := fs.String("limits", "on", "per-tenant rate and concurrency limits: on, or off (for load tests; every other limit stays)")
	patch204 := fs.Bool("user-patch-204", false, "answer a successful user PATCH with 204 No Content instead of 200 and the user")
	maxConns := fs.Int("max-conns", demoLimits.MaxConns, "open connections served at once; more wait to be accepted (0: no limit)")
	adminAnyTenant := fs.Bool("admin-any-tenant", false, "let the admin page open any tenant named as the user name, not only those of -token and stored tokens")
	adminPassword := fs.String("admin-password", "", "serve the admin page at /admin behind HTTP Basic auth with this password (user name: the tenant); SCIM_ADMIN_PASSWORD works too")
	seatLimit := fs.Int("seat-limit", 0, "refuse (403) a create or reactivation beyond N active users per tenant (0: no limit)")
	var tokens, existing, projects, verifiedDomains multiFlag
	fs.Var(&verifiedDomains, "verified-domain", "an email domain of the tenants' users; with it, addresses (and email-like userNames) outside these domains are refused (400 invalidValue); repeatable")
	fs.Var(&tokens, "token", "bearer token, TOKEN (tenant default) or TENANT=TOKEN; repeatable")
	fs.Var(&existing, "existing", "email of an existing app user to seed in every tenant; repeatable")
	fs.Var(&projects, "project", "with -profile statsig, a project whose Statsig-<Project>-<Role> groups to seed in every tenant (default "+sampleProject+"); repeatable")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: server [flags]\n       server [-db …] token create|list|revoke|regenerate … (see server token -h)\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // -h: the usage is printed; not a failure
		}
		return err
	}
	if fs.NArg() > 0 && fs.Arg(0) == "token" {
		return runToken(ctx, fs.Args()[1:], *db, stdout, stderr)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	prof, err := lookupProfile(*profileName)
	if err != nil {
		return err
	}
	groups, err := prof.seededGroups(projects)
	if err != nil {
		return err
	}
	if err := setLimits(new(scim.Limits), *limits); err != nil {
		return err
	}
	if *seatLimit < 0 {
		return fmt.Errorf("invalid -seat-limit %d: want a number of seats, or 0 for no limit", *seatLimit)
	}
	for _, d := range verifiedDomains {
		if d = strings.TrimPrefix(strings.TrimSpace(d), "@"); d == "" || strings.ContainsAny(d, "@ /") {
			return fmt.Errorf("invalid -verified-domain %q: want a domain such as example.com", d)
		}
	}

	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{ReplaceAttr: hidePasswordAttr(*db)}))
	auth := scim.NewStaticTokens()
	tenants := map[string]bool{}
	if env := os.Getenv("SCIM_TOKEN"); env != "" {
		tokens = append(tokens, env)
	}
	for _, t := range tokens {
		tenant, token, ok := strings.Cut(t, "=")
		if !ok {
			tenant, token = defaultTenant, t
		}
		if tenant == "" || token == "" {
			return fmt.Errorf("invalid -token %q: want TOKEN or TENANT=TOKEN", t)
		}
		auth.Add(tenant, token)
		tenants[tenant] = true
	}
	// Without a token on the command line, the demo makes one for tenant
	// default (below, once the store is open).
	generate := len(tenants) == 0
	if generate {
		tenants[defaultTenant] = true
	}

	st, closeStore, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer closeStore()

	names := make([]string, 0, len(tenants))
	flagged := make(map[string]bool, len(tenants)) // seedOnFirstUse adds to tenants
	for t := range tenants {
		names = append(names, t)
		flagged[t] = true
	}
	sort.Strings(names)
	for _, tenant := range names {
		if err := seed(ctx, st, prof, tenant, *owner, existing); err != nil {
			return fmt.Errorf("seed tenant %s: %w", tenant, err)
		}
	}

	// Stored tokens (server token create) work beside -token; a tenant
	// known only from them is seeded when its first request arrives.
	stored, err := newStoredTokens(st, logger)
	if err != nil {
		return err
	}
	if generate {
		if err := demoToken(ctx, stdout, stored, auth, *db); err != nil {
			return err
		}
	}
	var h *scim.Handler // set below, before any request arrives
	var authn scim.Authenticator = &seedOnFirstUse{
		Authenticator: scim.Authenticators(auth, stored),
		seed: func(ctx context.Context, tenant string) error {
			if err := seed(ctx, st, prof, tenant, *owner, existing); err != nil {
				return err
			}
			return seedGroups(ctx, h, tenant, groups)
		},
		done: tenants,
	}

	meters, metrics := newMetrics()
	defer shutdownMetrics(meters)
	cfg := scim.Config{
		Authenticator: authn, Logger: logger, Users: scim.UserRules{PatchNoContent: *patch204},
		MeterProvider: meters,
		// Generous: an IdP may deprovision half of a tenant's users within
		// an hour, and always 50, before an admin must confirm (/admin).
		DeprovisionGuard: scim.DeprovisionGuard{MaxShare: 0.5, MinCount: 50, Window: time.Hour},
		OnEvent: func(ctx context.Context, e scim.Event) {
			logger.Info("scim event", "type", string(e.Type), "tenant", e.Tenant, "user", e.UserID,
				"group", e.GroupID, "members", len(e.Members), "detail", e.Detail)
		},
	}
	prof.config(&cfg)
	cfg.Admit = admission(*seatLimit, verifiedDomains)
	setLimits(&cfg.Limits, *limits) // checked above
	if h, err = scim.NewHandler(st, prof.policy, cfg); err != nil {
		return err
	}
	for _, tenant := range names {
		if err := seedGroups(ctx, h, tenant, groups); err != nil {
			return fmt.Errorf("seed tenant %s: %w", tenant, err)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", h))
	mux.Handle("/app/users/", appRoles(h, authn))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.Handle("/metrics", metrics)

	// Catch the signals before announcing the address: a tool that sends
	// SIGTERM as soon as it reads the line must get a clean stop.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if *adminPassword == "" {
		*adminPassword = os.Getenv("SCIM_ADMIN_PASSWORD")
	}
	if *adminPassword != "" {
		base := "http://" + ln.Addr().String() + "/scim/v2"
		tenants := adminTenants{flagged: flagged, stored: stored, any: *adminAnyTenant, logger: logger}
		page, err := adminPage(h, st, tenants, base, *adminPassword, logger)
		if err != nil {
			ln.Close()
			return err
		}
		mux.Handle("/admin/", page)
		logger.Info("admin page", "url", "http://"+ln.Addr().String()+"/admin/")
	}
	srv := newHTTPServer(mux, demoLimits)
	ln = limitListener(ln, *maxConns)
	fmt.Fprintf(stdout, "scimkit demo serving SCIM at http://%s/scim/v2 (store: %s)\n", ln.Addr(), redact(*db))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	// The requests of the last fraction of a second, into the journal.
	if err := h.Close(shutdownCtx); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "scimkit demo stopped")
	return nil
}

// seed creates the owner and the existing users of one tenant, unless they
// are already there (a persistent store keeps them across restarts). They
// are app users, not SCIM-managed, until an IdP provisions the same email.
func seed(ctx context.Context, st store.Store, prof profile, tenant, owner string, existing []string) error {
	type person struct{ email, role string }
	var people []person
	if owner != "" {
		people = append(people, person{owner, prof.ownerRole})
	}
	for _, e := range existing {
		people = append(people, person{e, prof.policy.Default})
	}
	now := time.Now().UTC()
	return st.Update(ctx, tenant, func(tx store.Tx) error {
		for _, p := range people {
			if _, err := tx.UserByUserName(ctx, p.email); err == nil {
				continue
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			local, _, _ := strings.Cut(p.email, "@")
			u := store.User{
				ID: "app-" + newID(),
				Attributes: store.Attributes{
					"userName":            p.email,
					"displayName":         local,
					"active":              true,
					"emails":              []any{map[string]any{"value": p.email, "type": "work", "primary": true}},
					prof.policy.Attribute: p.role,
				},
				Role:    p.role,
				Managed: false,
				Meta:    store.Meta{Created: now, LastModified: now},
			}
			if err := tx.CreateUser(ctx, &u); err != nil {
				return fmt.Errorf("seed %s: %w", p.email, err)
			}
		}
		return nil
	})
}

// seedGroups creates the app's own groups of one tenant, unless they are
// already there (a persistent store keeps them across restarts).
func seedGroups(ctx context.Context, h *scim.Handler, tenant string, names []string) error {
	for _, name := range names {
		if _, err := h.CreateGroup(ctx, tenant, name); err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return nil
}

func newToken() string { return "scim_" + newID() + newID() }

func newID() string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// setLimits applies -limits: "on" keeps the library's per-tenant limits;
// "off" lifts the rate and concurrency limits, which load tools exceed
// driving one tenant far harder than an IdP does. Every other limit (body
// size, operations, members, filters, the request timeout) stays.
func setLimits(l *scim.Limits, mode string) error {
	switch mode {
	case "on":
	case "off":
		l.MaxConcurrent, l.RequestsPerSecond = -1, -1
	default:
		return fmt.Errorf("invalid -limits %q: want on or off", mode)
	}
	return nil
}
