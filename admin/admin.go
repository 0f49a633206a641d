package admin

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
)

// Config holds the settings of a Handler. Tenant and BaseURL are required.
type Config struct {
	// Tenant returns the tenant the admin making r may manage, from the
	// app's own session; ok false answers 403 Forbidden. Required. It is
	// the security boundary: the Handler trusts it entirely and opens
	// any tenant it returns (see the package documentation).
	Tenant func(r *http.Request) (tenant string, ok bool)

	// BaseURL is the SCIM endpoint's absolute URL as an identity provider
	// must be configured with it, such as
	// "https://app.example.com/scim/v2". Required.
	BaseURL string

	// Actor names the admin making r ("alice@example.com") in the Detail
	// of the events the page records. Optional.
	Actor func(r *http.Request) string

	// OnEvent receives each admin action's event after it was recorded,
	// on the request's goroutine. Optional.
	OnEvent func(ctx context.Context, e store.Event)

	// Stylesheet is the URL of a same-origin stylesheet linked after the
	// page's own, to theme it through its CSS variables. Optional.
	Stylesheet string

	// PageSize is how many users or groups a page lists. Default 25.
	PageSize int

	// Logger receives internal errors (never shown on the page). Default:
	// slog.Default().
	Logger *slog.Logger

	// Now is the clock. Default: time.Now.
	Now func() time.Time

	// CSRFKey keys the HMAC-SHA-256 that binds each form's CSRF token to
	// the session (the tenant, the Actor and a random cookie). Optional:
	// by default a random key per Handler, so that a page loaded before a
	// restart, or served by another instance, has to be reloaded before
	// its forms work. Give every instance the same secret key of at least
	// 32 random bytes to avoid that.
	CSRFKey []byte
}

// Handler serves the admin page. It is safe for concurrent use.
type Handler struct {
	scim   *scim.Handler
	store  store.Store
	tokens *scim.Tokens
	cfg    Config
	log    *slog.Logger
	pages  map[string]*template.Template
	static http.Handler
	cop    *http.CrossOriginProtection
	// csrfKey is Config.CSRFKey or a random key.
	csrfKey []byte

	outboxes sync.Map // tenant → *outbox
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// New returns the admin page of the SCIM handler h serving st, whose
// tokens are managed by tokens (an app that keeps tokens in its own tables
// implements store.TokenStore and passes scim.NewTokens over it). st is
// read for the users and groups lists and, when it implements
// store.EventLog, for refusals and admin activity.
func New(h *scim.Handler, st store.Store, tokens *scim.Tokens, cfg Config) (*Handler, error) {
	switch {
	case h == nil:
		return nil, errors.New("admin: the scim.Handler is nil")
	case st == nil:
		return nil, errors.New("admin: the store is nil")
	case tokens == nil:
		return nil, errors.New("admin: tokens is nil")
	case cfg.Tenant == nil:
		return nil, errors.New("admin: Config.Tenant is required (the tenant the signed-in admin manages)")
	case cfg.BaseURL == "":
		return nil, errors.New("admin: Config.BaseURL is required (the SCIM endpoint's absolute URL)")
	case cfg.PageSize < 0:
		return nil, errors.New("admin: Config.PageSize must not be negative")
	case cfg.CSRFKey != nil && len(cfg.CSRFKey) < 32:
		return nil, errors.New("admin: Config.CSRFKey must have at least 32 bytes")
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = 25
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	a := &Handler{scim: h, store: st, tokens: tokens, cfg: cfg, log: cfg.Logger, pages: map[string]*template.Template{},
		cop: http.NewCrossOriginProtection(), csrfKey: bytes.Clone(cfg.CSRFKey)}
	if a.csrfKey == nil {
		a.csrfKey = make([]byte, 32)
		_, _ = rand.Read(a.csrfKey) // never fails (crypto/rand)
	}
	for _, name := range []string{"overview", "activity", "users", "groups", "secret", "error"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("admin: template %s: %w", name, err)
		}
		a.pages[name] = t
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	a.static = http.StripPrefix("/static/", http.FileServerFS(sub))
	return a, nil
}

// ServeHTTP implements http.Handler.
func (a *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			a.log.Error("admin: panic serving request", "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
	}()
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "+
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")

	if strings.HasPrefix(r.URL.Path, "/static/") {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, http.MethodGet)
			return
		}
		a.static.ServeHTTP(w, r)
		return
	}
	h.Set("Cache-Control", "no-store")
	tenant, ok := a.cfg.Tenant(r)
	if !ok || !plausibleTenant(tenant) {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	rq := &request{Request: r, tenant: tenant, prefix: mountPrefix(r)}

	path := strings.Trim(r.URL.Path, "/")
	if r.Method == http.MethodPost {
		if !a.checkCSRF(w, rq) {
			return
		}
		switch {
		case path == "tokens":
			a.createToken(w, rq)
		case strings.HasPrefix(path, "tokens/") && strings.HasSuffix(path, "/revoke"):
			a.revokeToken(w, rq, strings.TrimSuffix(strings.TrimPrefix(path, "tokens/"), "/revoke"))
		case strings.HasPrefix(path, "tokens/") && strings.HasSuffix(path, "/regenerate"):
			a.regenerateToken(w, rq, strings.TrimSuffix(strings.TrimPrefix(path, "tokens/"), "/regenerate"))
		case path == "deprovisioning/confirm":
			a.confirmDeprovisioning(w, rq)
		case path == "disconnect":
			a.disconnect(w, rq)
		case path == "tenant/delete":
			a.deleteTenant(w, rq)
		default:
			a.notFound(w, rq)
		}
		return
	}
	var page func(http.ResponseWriter, *request)
	switch path {
	case "":
		page = a.overview
	case "activity":
		page = a.activity
	case "users":
		page = a.users
	case "groups":
		page = a.groups
	default:
		a.notFound(w, rq)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, http.MethodGet)
		return
	}
	page(w, rq)
}

// plausibleTenant reports whether name can be a tenant: not empty, UTF-8,
// without control characters (a SQL store fails on a NUL or invalid UTF-8
// rather than finding nothing).
func plausibleTenant(name string) bool {
	return name != "" && utf8.ValidString(name) && !strings.ContainsFunc(name, unicode.IsControl)
}

// request is one request to the page, with its tenant and mount prefix.
type request struct {
	*http.Request
	tenant string
	prefix string // the path the handler is mounted at, no trailing slash
	csrf   string // the session's CSRF token, set by render
}

// mountPrefix returns what http.StripPrefix stripped before the handler.
func mountPrefix(r *http.Request) string {
	orig, _, _ := strings.Cut(r.RequestURI, "?")
	if strings.HasSuffix(orig, r.URL.Path) {
		return strings.TrimRight(strings.TrimSuffix(orig, r.URL.Path), "/")
	}
	return ""
}

func methodNotAllowed(w http.ResponseWriter, method string) {
	w.Header().Set("Allow", method)
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
}

// view is what every page's template gets.
type view struct {
	Title      string
	Nav        string
	Prefix     string
	Tenant     string
	CSRF       string
	Stylesheet string
	Notice     string
	Data       any
}

// render executes the page's template into a buffer first, so that a
// template error is an error page rather than half a page.
func (a *Handler) render(w http.ResponseWriter, r *request, status int, name, title string, data any) {
	csrf := a.csrfToken(w, r)
	v := view{
		Title: title, Nav: name, Prefix: r.prefix, Tenant: r.tenant, CSRF: csrf,
		Stylesheet: a.cfg.Stylesheet, Notice: notices[r.URL.Query().Get("done")], Data: data,
	}
	var buf bytes.Buffer
	if err := a.pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		a.log.Error("admin: render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// notices are the messages a redirect after an action asks for (?done=…):
// fixed texts, so that a link cannot make the page say anything else.
var notices = map[string]string{
	"revoked":      "The token was revoked: the identity provider can no longer use it.",
	"confirmed":    "Deprovisioning confirmed: the identity provider's next deactivations and deletions go ahead.",
	"notheld":      "Deprovisioning was not on hold: nothing to confirm.",
	"disconnected": "SCIM is disconnected: the tokens are revoked and the users are app users again. Create a token to connect again.",
	"deleted":      "Everything SCIM kept of this tenant was deleted: users, groups, events and tokens.",
}

// errorPage answers a failure with a page that says what to do, never the
// internal error.
func (a *Handler) errorPage(w http.ResponseWriter, r *request, status int, message string) {
	a.render(w, r, status, "error", http.StatusText(status), message)
}

func (a *Handler) notFound(w http.ResponseWriter, r *request) {
	a.errorPage(w, r, http.StatusNotFound, "There is no such page here.")
}

// internal logs err and answers 500.
func (a *Handler) internal(w http.ResponseWriter, r *request, what string, err error) {
	a.log.Error("admin: "+what, "tenant", r.tenant, "err", err)
	a.errorPage(w, r, http.StatusInternalServerError, "Something went wrong while "+what+". Try again; if it persists, check the server's logs.")
}

// redirect answers a successful action with 303 to a page of the admin.
func redirect(w http.ResponseWriter, r *request, to string) {
	http.Redirect(w, r.Request, r.prefix+to, http.StatusSeeOther)
}
