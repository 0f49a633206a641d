package scim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/scimkit/scim/internal/schema"
	"github.com/scimkit/scim/store"
)

// Config holds the optional settings of a Handler. The zero value is
// usable except for Authenticator, which is required.
type Config struct {
	// Authenticator resolves bearer tokens to tenants. Required: use
	// StaticTokens, Tokens, or the app's own implementation.
	Authenticator Authenticator

	// BaseURL is the absolute URL the handler is reached at, such as
	// "https://app.example.com/scim/v2", used in Location headers and
	// meta.location. Default: derived from each request (its Host, its
	// scheme or X-Forwarded-Proto, and the prefix stripped before the
	// handler).
	BaseURL string

	// App rules.

	// Users are the app's rules for the users an IdP provisions.
	Users UserRules

	// Groups are the app's rules for the groups an IdP pushes. The roles
	// that groups grant are part of the role policy (RolePolicy.GroupRoles).
	Groups GroupRules

	// Schema declares the app's own attributes of users and groups, in the
	// core namespaces and in extensions of the app's own. The zero value
	// declares none: only the standard attributes are stored.
	Schema Schema

	// Admit, when set, is asked about every write of a user, a group or a
	// group's members (see Change and ChangeKind), inside the write's
	// transaction: after the handler's own checks (owner protection, the
	// role policy, the deprovisioning guard) and the store's write, before
	// the commit. r reads through that transaction, so it sees the change
	// (a count of active users includes the user being activated) and
	// nothing else commits in between; r must not be used after Admit
	// returns, and Admit must have no effect outside it, since a store may
	// run a transaction again. Returning nil admits the change. Returning
	// an *Error (also wrapped) refuses the whole request with it — nothing
	// of the request applies — and records a store.ChangeRefused event
	// (outbox and OnEvent) and the refusal in the journal; any other error
	// answers 500 "internal error" and is logged, its text never sent. A
	// membership operation is one Change: refusing it refuses the request,
	// members and all, so refuse with care on membership changes, which
	// Okta does not retry after a 4xx.
	Admit func(ctx context.Context, r store.Reader, c Change) error

	// Safety.

	// Limits bound what one tenant's requests may cost (body size, page
	// size, rate, concurrency, PATCH size, filter size, time); the zero
	// value is safe.
	Limits Limits

	// DeprovisionGuard holds mass deprovisioning (an IdP scoping mistake)
	// until the app confirms; the zero value turns it off.
	DeprovisionGuard DeprovisionGuard

	// Retention bounds how long the store keeps events and the personal
	// data of deprovisioned users; Handler.Retain applies it. The zero
	// value keeps everything.
	Retention Retention

	// Observability.

	// Logger receives one line per request (method, path, status, latency,
	// tenant, client) and internal errors. Every line is logged with the
	// request's context (InfoContext, ErrorContext …), so a context-aware
	// slog.Handler keeps what the app's middleware put there, such as a
	// request id. Default: slog.Default().
	Logger *slog.Logger

	// RequestLogLevel chooses the level of a request's line from its
	// status. Default: DefaultRequestLogLevel (5xx at Error, 4xx at Warn,
	// others at Info).
	RequestLogLevel func(status int) slog.Level

	// OnEvent receives every state change after it committed, in commit
	// order per tenant (see Event). It runs on the request's goroutine and
	// holds up the tenant's next write: keep it short, or hand off.
	OnEvent func(ctx context.Context, e Event)

	// JournalSize is how many recent requests per tenant Journal keeps.
	// Default 100; -1 keeps none. When the store implements
	// store.JournalStore, the journal is kept there, shared by every
	// Handler over the store, and pruned to this size as requests come.
	JournalSize int

	// JournalMaxAge is how long Journal keeps a request. Default 30 days;
	// -1 for no limit.
	JournalMaxAge time.Duration

	// TracerProvider gives the tracer of the Handler's spans: one per
	// request, a child of the span in the request's context, with a child
	// for every call to the Store (README, "Metrics and traces", lists
	// them and their attributes). Default: none, at no cost.
	TracerProvider trace.TracerProvider

	// MeterProvider gives the meter of the Handler's metrics: requests,
	// their latency, 429s, deprovisioning holds, store call latency and
	// event delivery delay (README, "Metrics and traces"). Default: none,
	// at no cost.
	MeterProvider metric.MeterProvider

	// Determinism, for tests.

	// Now is the clock. Default: time.Now.
	Now func() time.Time

	// NewID generates resource ids. Default: random time-ordered UUIDs
	// (version 7), which keep SQL indexes compact.
	NewID func() string
}

// UserRules are the app's rules for the users an IdP provisions, all off
// by default. The demo's -profile sets them as each product documents.
type UserRules struct {
	// LinkExisting adopts an existing app user that is not yet managed
	// through SCIM when an IdP provisions the same userName or email (201
	// with that user's id) instead of answering 409; a PUT or PATCH of such
	// a user adopts it too. Never across tenants, never a user managed by
	// another connection. Linking is an update like PUT: the role policy,
	// the protection of protected roles and the deprovisioning guard apply
	// to it. Off by default: turning it on trusts the IdP's assertion of
	// email ownership.
	LinkExisting bool

	// Resolve, when set, chooses the existing app user a POST adopts, by
	// the app's own rules (an employee id, a verified address), beside or
	// instead of LinkExisting. A POST looks for the user it is about in
	// this order: a user with the same userName (managed: 409; an app user
	// with LinkExisting: adopted); then Resolve; then, with LinkExisting,
	// an app user with one of the request's email addresses (or with the
	// userName as address, when it is one); else it creates a user.
	//
	// Resolve gets the proposed user (its attributes as the POST sent
	// them, normalised; a copy) and reads through the write's
	// transaction; it must have no effect outside it. It returns the id of
	// the user to adopt, or "" for none. The chosen user is adopted as
	// LinkExisting adopts: the role policy, owner protection, the
	// deprovisioning guard and Config.Admit apply. A chosen user that is
	// already managed gets 409 uniqueness; an id that is not a user of the
	// tenant is an error of the app (500, logged). Resolve may refuse the
	// POST with an *Error (such as 409 for an ambiguous match); any other
	// error answers 500 and is logged.
	Resolve func(ctx context.Context, r store.Reader, proposed store.User) (id string, err error)

	// HideUnmanaged keeps app users not managed through SCIM out of GET
	// /Users (and answers 404 for them), so an IdP import sees only the
	// users it provisioned. Linking still finds them.
	HideUnmanaged bool

	// IgnoreNameChanges keeps the app's name, displayName and nickName of
	// an existing user when the IdP sends others (GrowthBook).
	IgnoreNameChanges bool

	// RefuseEmailChanges answers 400 mutability to an update that changes a
	// user's email addresses, or a userName that is an email address
	// (GrowthBook, Statsig).
	RefuseEmailChanges bool

	// OnDeactivate says what deactivating a user (active false, by PUT,
	// PATCH or a linking POST) does to the user's groups: KeepGroups (the
	// zero value) keeps them; LeaveGroups removes the user from every
	// group, so that the roles the groups granted go too (Statsig,
	// GrowthBook); SuspendGroups does the same and puts the user back on
	// reactivation.
	OnDeactivate DeactivationRule

	// PatchNoContent answers a successful PATCH of a user with 204 No
	// Content instead of 200 and the user. Both are allowed by RFC 7644
	// §3.5.2; Okta documents 200, Microsoft's test collection expects 204.
	// PATCH of a group always answers 204, so that a large group is never
	// loaded to answer a membership change.
	PatchNoContent bool
}

// GroupRules are the app's rules for the groups an IdP pushes, all off by
// default.
type GroupRules struct {
	// StrictMembers answers 400 invalidValue to a membership change naming
	// ids that are not provisioned users of the tenant, applying nothing.
	// By default such ids are skipped, reported in a MembersSkipped event,
	// and the rest applies (Okta never retries a 400).
	StrictMembers bool

	// RolesOnly refuses (400) to create a group whose name matches none of
	// RolePolicy.GroupRoles: the app has no free-form teams (Statsig).
	RolesOnly bool

	// NoRename refuses (400 mutability) a change of a group's displayName
	// (Statsig).
	NoRename bool

	// RenameAppGroups lets SCIM rename the groups the app created itself
	// (Handler.CreateGroup; store.Group.AppOwned). Off, a rename of such a
	// group gets 400 mutability and an AppGroupRefused event; a PUT or
	// PATCH that keeps the name (as Okta's "Link Group" sends) and every
	// membership change apply.
	RenameAppGroups bool

	// DeleteAppGroups lets SCIM delete the groups the app created itself.
	// Off, a DELETE of such a group (Okta's "unlink and delete") gets 400
	// mutability and an AppGroupRefused event, and the group stays.
	DeleteAppGroups bool

	// TeamRole is the role that a group matching none of
	// RolePolicy.GroupRoles grants its members on its team (GrowthBook sets
	// up new teams with the org's default role), reported by Handler.Roles
	// as a Grant with that Team and no Project. It must be one of
	// RolePolicy.Values; "" grants none.
	TeamRole string
}

// Handler serves the SCIM 2.0 protocol (RFC 7644) for users and groups. It
// is unaware of the path it is mounted at: strip the prefix with
// http.StripPrefix, for example
//
//	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", h))
//
// Several instances over one Store behave as one where the store has the
// powers for it (the memory and SQL stores have them all): the
// deprovisioning guard (store.GuardStore) and the journal
// (store.JournalStore) are kept in the store. What stays per instance is
// the per-tenant rate and concurrency limits (share the rate with
// Limits.RateLimiter), the order of OnEvent calls, and the journal's last
// fraction of a second, which the Handler writes in the background: call
// Close at shutdown. docs/scaling.md says more.
type Handler struct {
	store  store.Store
	policy RolePolicy
	cfg    Config
	log    *slog.Logger
	users  *schema.ResourceType
	groups *schema.ResourceType
	// userDecl and groupDecl enforce Config.Schema beyond the schemas.
	userDecl, groupDecl declared
	disco               discovery
	locks               sync.Map // tenant → *sync.Mutex ordering event delivery

	limits  tenantLimits
	guard   *guard
	journal *journal
	tel     *telemetry // nil without Config.TracerProvider or MeterProvider

	groupRoles []GroupRole // compiled RolePolicy.GroupRoles

	lastBase atomic.Pointer[baseURLParts] // the base URL baseURL built last
}

// NewHandler returns a Handler serving st under the role policy, configured
// by cfg. It reports an error for an invalid policy or configuration.
func NewHandler(st store.Store, policy RolePolicy, cfg Config) (*Handler, error) {
	if st == nil {
		return nil, invalid("store is nil")
	}
	if cfg.Authenticator == nil {
		return nil, invalid("Config.Authenticator is required (use NewStaticTokens or your own)")
	}
	if err := policy.validate(); err != nil {
		return nil, err
	}
	if err := policy.checkRoleAttribute(); err != nil {
		return nil, err
	}
	if err := checkBaseURL(cfg.BaseURL); err != nil {
		return nil, err
	}
	if err := cfg.Limits.validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RequestLogLevel == nil {
		cfg.RequestLogLevel = DefaultRequestLogLevel
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NewID == nil {
		cfg.NewID = newUUIDv7
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	cfg.Limits = cfg.Limits.withDefaults()
	if err := cfg.DeprovisionGuard.validate(); err != nil {
		return nil, err
	}
	if err := cfg.validateRules(policy); err != nil {
		return nil, err
	}
	if err := cfg.Retention.validate(); err != nil {
		return nil, err
	}
	if cfg.JournalSize == 0 {
		cfg.JournalSize = 100
	}
	if cfg.JournalMaxAge == 0 {
		cfg.JournalMaxAge = 30 * 24 * time.Hour
	}
	if cfg.JournalSize < -1 {
		return nil, invalid("Config.JournalSize is %d: use a positive number, 0 for the default or -1 to keep none", cfg.JournalSize)
	}
	if cfg.JournalMaxAge < 0 && cfg.JournalMaxAge != -1 {
		return nil, invalid("Config.JournalMaxAge is %v: use a positive duration, 0 for the default or -1 for no limit", cfg.JournalMaxAge)
	}

	var extraCore []*schema.Attr
	var extensions []*schema.Schema
	var reserved []string
	roleExt := policy.extension()
	if policy.enabled() {
		if !policy.usesRoles() {
			extraCore = append(extraCore, policy.attr())
			reserved = append(reserved, policy.Attribute)
		}
		if roleExt != nil {
			extensions = append(extensions, roleExt)
		}
	}
	userCore, userExts, userReq, userDecl, err := compileSchema("User", cfg.Schema.User, cfg.Schema.UserExtensions, standardUser, reserved, roleExt)
	if err != nil {
		return nil, err
	}
	groupCore, groupExts, groupReq, groupDecl, err := compileSchema("Group", cfg.Schema.Group, cfg.Schema.GroupExtensions, standardGroup, nil, nil)
	if err != nil {
		return nil, err
	}
	h := &Handler{
		store:     st,
		policy:    policy,
		cfg:       cfg,
		log:       cfg.Logger,
		users:     schema.NewUser(append(extraCore, userCore...), append(extensions, userExts...)...),
		groups:    schema.NewGroup(groupCore, groupExts...),
		userDecl:  userDecl,
		groupDecl: groupDecl,
		guard:     newGuard(cfg.DeprovisionGuard, st),
		journal:   newJournal(cfg, st, cfg.Logger),
	}
	const ignored = " Attributes not listed in this schema or in an extension of the resource type (see /ResourceTypes) are ignored: not stored, not returned."
	h.users.Core.Description += "." + ignored
	h.groups.Core.Description += "." + ignored
	markRequired(h.users, userExts, userReq)
	markRequired(h.groups, groupExts, groupReq)
	returnedPaths(h.users, userCore)
	returnedPaths(h.groups, groupCore)
	h.limits.now = time.Now
	if h.tel, err = newTelemetry(cfg.TracerProvider, cfg.MeterProvider); err != nil {
		return nil, err
	}
	if policy.usesRoles() {
		// The standard roles attribute carries the role: list the values
		// on its value sub-attribute.
		if v := h.users.Core.Attr("roles").Sub("value"); v != nil {
			v.CanonicalValues = append([]string(nil), policy.Values...)
		}
	}
	for _, g := range policy.GroupRoles {
		h.groupRoles = append(h.groupRoles, g.compile(policy.Values))
	}
	if h.disco, err = newDiscovery(h); err != nil {
		return nil, err
	}
	return h, nil
}

// request carries what one request needs across the handler's methods.
// The embedded *http.Request is the caller's and is never modified: the
// request's context and body, which the handler bounds, are its own.
type request struct {
	*http.Request
	ctx       context.Context // nil: the Request's
	bodyR     io.ReadCloser   // the body within Limits.MaxBodyBytes (nil: none)
	principal Principal
	base      string // absolute URL of the handler's root, no trailing slash
	body      []byte // the body as read, for the journal's summary
	bodyRead  bool   // body holds the whole body (readBodyFirst)
	client    string // clientName of the User-Agent
	userID    string // the user the request concerned, for the journal
}

// Context is the request's context, with the handler's timeout.
func (r *request) Context() context.Context {
	if r.ctx != nil {
		return r.ctx
	}
	return r.Request.Context()
}

// query is the URL's query; a request without one (what GET by id and
// most IdP requests are) allocates nothing.
func (r *request) query() url.Values {
	if r.URL.RawQuery == "" {
		return nil
	}
	return r.URL.Query()
}

// exchange is what ServeHTTP keeps for one request, allocated as one.
type exchange struct {
	sw       statusWriter
	req      request
	deadline lazyDeadline
	tel      requestTelemetry
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	x := &exchange{sw: statusWriter{ResponseWriter: w}, req: request{Request: r, client: clientName(r.UserAgent())}}
	sw, req := &x.sw, &x.req
	if h.tel != nil {
		req.ctx = h.tel.startRequest(r.Context(), r, req.client, &x.tel)
	}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.log.ErrorContext(r.Context(), "scim: panic serving request", "method", r.Method, "path", r.URL.Path,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if !sw.wrote {
				writeError(sw, errInternal)
			}
		}
		h.journal.record(req, sw, time.Since(start), h.summaryType(req))
		ctx := r.Context()
		if x.tel.ctx != nil {
			ctx = x.tel.ctx // the request's span's: a trace-aware slog.Handler logs its ids
		}
		h.logRequest(ctx, r, req, sw.status(), time.Since(start))
		if h.tel != nil {
			h.tel.endRequest(ctx, &x.tel, req.principal.Tenant, req.client, sw, time.Since(start))
		}
	}()

	token, ok := bearerToken(r)
	if !ok {
		closeUnread(sw, r)
		h.unauthorized(sw, "missing bearer token")
		return
	}
	p, err := h.cfg.Authenticator.Authenticate(req.Context(), token)
	switch {
	case errors.Is(err, ErrUnauthenticated):
		closeUnread(sw, r)
		h.unauthorized(sw, "invalid bearer token")
		return
	case err != nil:
		h.log.ErrorContext(r.Context(), "scim: authenticator failed", "err", err)
		closeUnread(sw, r)
		writeError(sw, &Error{Status: http.StatusServiceUnavailable, Detail: "authentication temporarily unavailable; retry later"})
		return
	}
	req.principal = p
	req.base = h.baseURL(r)
	if t := h.cfg.Limits.Timeout; t > 0 {
		req.ctx = x.deadline.init(req.Context(), start.Add(t))
		defer x.deadline.stop()
	}
	if r.Body != nil && r.Body != http.NoBody {
		req.bodyR = http.MaxBytesReader(sw, r.Body, h.cfg.Limits.MaxBodyBytes)
		// Read the body before taking a concurrency slot, within the
		// deadline: a client trickling its body holds no slot.
		if e := readBodyFirst(w, req); e != nil {
			writeError(sw, e)
			return
		}
	}
	release := h.admit(req.Context(), sw, p.Tenant)
	if release == nil {
		return
	}
	defer release()
	h.route(sw, req)
}

// logRequest writes the request's log line. The record carries no source
// position (it would always be this function): slog's Logger methods look
// it up on every call, which was a fifth of the line's cost.
//
// The line goes through the request's context (ctx: with the request's
// span, when traced), so that a context-aware slog.Handler keeps what the
// app put there (a request id, a trace).
func (h *Handler) logRequest(ctx context.Context, r *http.Request, req *request, status int, latency time.Duration) {
	level := h.cfg.RequestLogLevel(status)
	if !h.log.Enabled(ctx, level) {
		return
	}
	rec := slog.NewRecord(time.Now(), level, "scim request", 0)
	rec.AddAttrs(
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Duration("latency", latency),
		slog.String("tenant", req.principal.Tenant),
		slog.String("token", req.principal.TokenID),
		slog.String("client", req.client),
	)
	_ = h.log.Handler().Handle(ctx, rec)
}

// route dispatches on the path: /Users, /Groups, discovery endpoints.
func (h *Handler) route(w http.ResponseWriter, r *request) {
	path := strings.Trim(r.URL.Path, "/")
	first, rest, _ := strings.Cut(path, "/")
	switch {
	case strings.EqualFold(first, "Users"):
		h.routeResource(w, r, rest, h.users)
	case strings.EqualFold(first, "Groups"):
		h.routeResource(w, r, rest, h.groups)
	case strings.EqualFold(first, "ServiceProviderConfig") && rest == "":
		if allow(w, r, http.MethodGet) {
			h.disco.serviceProviderConfig(w, r)
		}
	case strings.EqualFold(first, "ResourceTypes"):
		if allow(w, r, http.MethodGet) {
			h.disco.resourceTypes(w, r, rest)
		}
	case strings.EqualFold(first, "Schemas"):
		if allow(w, r, http.MethodGet) {
			h.disco.schemas(w, r, rest)
		}
	case first == ".search" && rest == "":
		// RFC 7644 §3.4.3: a query of every resource type. A GET of the
		// root is not a query here (501 below).
		if allow(w, r, http.MethodPost) {
			h.searchRoot(w, r)
		}
	case strings.EqualFold(first, "Me") || first == "":
		writeError(w, &Error{Status: http.StatusNotImplemented, Detail: "/" + first + " is not supported; use /Users, /Groups or POST /.search"})
	default:
		writeError(w, &Error{Status: http.StatusNotFound, Detail: "no endpoint at /" + path})
	}
}

func (h *Handler) routeResource(w http.ResponseWriter, r *request, rest string, rt *schema.ResourceType) {
	create, get, put, patch, del := h.createUser, h.getUser, h.replaceUser, h.patchUser, h.deleteUser
	if rt == h.groups {
		create, get, put, patch, del = h.createGroup, h.getGroup, h.replaceGroup, h.patchGroup, h.deleteGroup
	}
	switch {
	case rest == "":
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			h.list(w, r, rt, queryParams(r.query()))
		case http.MethodPost:
			create(w, r)
		default:
			methodNotAllowed(w, http.MethodGet, http.MethodPost)
		}
	case rest == ".search":
		if allow(w, r, http.MethodPost) {
			h.search(w, r, rt)
		}
	case strings.Contains(rest, "/"):
		writeError(w, &Error{Status: http.StatusNotFound, Detail: "no endpoint at " + r.URL.Path})
	default:
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPatch, http.MethodDelete:
			if !storableID(rest) {
				// No resource has such an id, and a SQL store cannot
				// even compare with it: answered without a store call.
				writeError(w, &Error{Status: http.StatusNotFound, Detail: rt.Name + " not found: its id has a NUL character or is not UTF-8"})
				return
			}
		}
		if rt == h.users && len(rest) <= maxJournalUserID {
			r.userID = rest
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			get(w, r, rest)
		case http.MethodPut:
			put(w, r, rest)
		case http.MethodPatch:
			patch(w, r, rest)
		case http.MethodDelete:
			del(w, r, rest)
		default:
			methodNotAllowed(w, http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete)
		}
	}
}

// storableID reports whether a resource id from a URL path could name a
// resource: ids are UTF-8 text without NUL, as every store keeps them.
func storableID(id string) bool {
	return utf8.ValidString(id) && strings.IndexByte(id, 0) < 0
}

func allow(w http.ResponseWriter, r *request, method string) bool {
	if r.Method == method || (method == http.MethodGet && r.Method == http.MethodHead) {
		return true
	}
	methodNotAllowed(w, method)
	return false
}

func methodNotAllowed(w http.ResponseWriter, methods ...string) {
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeError(w, &Error{Status: http.StatusMethodNotAllowed, Detail: "method not allowed; use " + strings.Join(methods, ", ")})
}

func (h *Handler) unauthorized(w http.ResponseWriter, detail string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="scim"`)
	writeError(w, &Error{Status: http.StatusUnauthorized, Detail: detail})
}

// bearerToken returns the token of an "Authorization: Bearer …" header.
// The scheme is case-insensitive (RFC 7235).
func bearerToken(r *http.Request) (string, bool) {
	auth := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// baseURL returns the absolute URL of the handler's root for r.
func (h *Handler) baseURL(r *http.Request) string {
	if h.cfg.BaseURL != "" {
		return h.cfg.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	} else if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	// http.StripPrefix leaves the original path in RequestURI: what it
	// stripped is the mount prefix.
	prefix := ""
	orig, _, _ := strings.Cut(r.RequestURI, "?")
	if _, rest, ok := strings.Cut(orig, "://"); ok && !strings.HasPrefix(orig, "/") {
		// The absolute form (RFC 9112 §3.2.2): its path.
		orig = ""
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			orig = rest[i:]
		}
	}
	if path := r.URL.EscapedPath(); strings.HasSuffix(orig, path) {
		prefix = strings.TrimRight(strings.TrimSuffix(orig, path), "/")
	}
	// Requests come to one host under one mount, nearly always: the URL
	// built for the last request is reused when its parts are the same.
	if last := h.lastBase.Load(); last != nil && last.scheme == scheme && last.host == r.Host && last.prefix == prefix {
		return last.url
	}
	parts := &baseURLParts{scheme: scheme, host: r.Host, prefix: prefix, url: scheme + "://" + r.Host + prefix}
	h.lastBase.Store(parts)
	return parts.url
}

// baseURLParts is a base URL and the request's parts it was built from.
type baseURLParts struct{ scheme, host, prefix, url string }

// clientName names the identity provider from its User-Agent, for logs.
func clientName(ua string) string {
	for _, c := range clients {
		for _, word := range c.words {
			if containsFold(ua, word) {
				return c.name
			}
		}
	}
	return "other"
}

// clients are the names clientName gives, in the order it tries them, and
// the words (lower case) of a User-Agent that give them.
var clients = []struct {
	name  string
	words []string
}{
	{"okta", []string{"okta"}},
	{"entra", []string{"azure", "microsoft", "entra"}},
	{"onelogin", []string{"onelogin"}},
	{"pingfederate", []string{"ping"}},
	{"jumpcloud", []string{"jumpcloud"}},
	{"rippling", []string{"rippling"}},
	{"workos", []string{"workos"}},
}

// containsFold reports whether s contains word, a lower-case ASCII word,
// in any case; it is strings.Contains(strings.ToLower(s), word) without
// the copy.
func containsFold(s, word string) bool {
	for i := 0; i+len(word) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(word)], word) {
			return true
		}
	}
	return false
}

// statusWriter records the status written, and the error's detail and
// scimType, for the request log, the journal and the request's span.
type statusWriter struct {
	http.ResponseWriter
	code     int
	wrote    bool
	detail   string
	scimType string
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.code, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) status() int {
	if !w.wrote {
		return http.StatusOK
	}
	return w.code
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// newUUIDv7 returns a random, time-ordered UUID (RFC 9562 version 7).
func newUUIDv7() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("scim: crypto/rand failed: " + err.Error())
	}
	ms := uint64(time.Now().UnixMilli())
	b[0], b[1], b[2], b[3], b[4], b[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// DefaultRequestLogLevel is the level of a request's log line unless
// Config.RequestLogLevel says otherwise: Error for a 5xx (the app must
// look), Warn for a 4xx (a refused or malformed request: the IdP's
// configuration may be wrong), Info for everything else.
func DefaultRequestLogLevel(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelError
	case status >= 400:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}
