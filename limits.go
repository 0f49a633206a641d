package scim

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/scimkit/scim/internal/schema"
	"github.com/scimkit/scim/store"
)

// Limits bounds what one tenant's requests may cost. Every field has a safe
// default (its zero value); -1 turns a limit off, except for MaxPageSize.
type Limits struct {
	// MaxBodyBytes caps a request's body; a larger one gets 413. Default
	// 1 MiB. With -1 a body is bounded only by Timeout, and is read into
	// memory whole: keep a limit unless a proxy in front enforces one.
	MaxBodyBytes int64
	// MaxPageSize caps the count of a list request (GET /Users, GET
	// /Groups, POST /.search): a larger count, or none, gets this many
	// resources per page, and it is the filter.maxResults the
	// ServiceProviderConfig advertises. Default 100. It cannot be turned
	// off: -1 is refused, since a page without a bound would load a whole
	// tenant into one response.
	MaxPageSize int
	// MaxOperations caps the operations of one PATCH. Default 1000.
	MaxOperations int
	// MaxMembers caps the member values of one PATCH or of a group body,
	// and the members one group list response carries (later groups of
	// the page come without members). Default 10,000.
	MaxMembers int
	// MaxValues caps the values of a multi-valued attribute other than a
	// group's members (emails, phoneNumbers, roles, …) in a POST or PUT
	// body and in the result of a PATCH, counted once repeated (type,
	// value) pairs are removed; more is 413 with scimType tooMany.
	// Default 1000.
	MaxValues int
	// MaxFilterLength caps a filter's length in bytes. Default 4096.
	MaxFilterLength int
	// MaxFilterDepth caps the nesting of a filter. Default 32.
	MaxFilterDepth int
	// MaxConcurrent caps a tenant's requests in flight in this Handler;
	// more get 429 with Retry-After. Default 64.
	MaxConcurrent int
	// RequestsPerSecond caps a tenant's request rate in this Handler (a
	// token bucket holding Burst requests); more get 429 with Retry-After.
	// Default 1000, far above what an IdP sends, low enough to keep one
	// tenant from starving the others. It is per instance: with N
	// instances a tenant may send N times as much, unless RateLimiter is
	// set.
	RequestsPerSecond float64
	// Burst is the token bucket's size. Default: RequestsPerSecond.
	Burst int
	// RateLimiter, when set, decides a tenant's request rate in place of
	// RequestsPerSecond and Burst, which then apply only while it fails
	// (see RateLimiter). Share one across instances to hold a tenant to
	// one rate whatever instance serves it. MaxConcurrent stays per
	// instance. Default: nil, the per-instance token bucket.
	RateLimiter RateLimiter
	// Timeout bounds a request's work; past it the store call fails and
	// the IdP gets 503 (Entra gives up after 60 s). Default 30 s.
	Timeout time.Duration
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		switch *v {
		case 0:
			*v = d
		case -1:
			*v = math.MaxInt32
		}
	}
	switch l.MaxBodyBytes {
	case 0:
		l.MaxBodyBytes = 1 << 20
	case -1:
		l.MaxBodyBytes = math.MaxInt64
	}
	if l.MaxPageSize == 0 {
		l.MaxPageSize = 100
	}
	def(&l.MaxOperations, 1000)
	def(&l.MaxMembers, 10000)
	def(&l.MaxValues, 1000)
	def(&l.MaxFilterLength, 4096)
	def(&l.MaxFilterDepth, 32)
	if l.MaxConcurrent == 0 {
		l.MaxConcurrent = 64
	}
	if l.RequestsPerSecond == 0 {
		l.RequestsPerSecond = 1000
	}
	if l.Burst == 0 {
		l.Burst = max(1, int(math.Ceil(l.RequestsPerSecond)))
	}
	if l.Timeout == 0 {
		l.Timeout = 30 * time.Second
	}
	return l
}

// RateLimiter decides whether a tenant's request may proceed, in place of
// the Handler's own per-instance limit (Limits.RequestsPerSecond and
// Burst). Give several instances one RateLimiter over a shared service
// (examples/redislimit has one over Redis) to hold a tenant to one rate
// across all of them.
//
// Allow is called once per authenticated request, before the request takes
// a concurrency slot, with the request's context (its deadline is the
// request's Timeout). It reports whether the request may proceed and, when
// not, how long the client should wait (sent as Retry-After, rounded up to
// whole seconds, at least 1). It must be safe for concurrent use.
//
// An error fails open: the Handler logs a warning and applies its own
// per-instance limit (RequestsPerSecond and Burst) to the request instead,
// so an outage of the shared service neither refuses every request nor
// lifts every limit.
type RateLimiter interface {
	Allow(ctx context.Context, tenant string) (ok bool, retryAfter time.Duration, err error)
}

// Idle tenants' limiters are dropped so that a Handler serving many
// tenants does not keep one for each forever: at most once a sweepEvery,
// an admit looks for limiters unused for idleAfter, with a full bucket and
// no request in flight (which a new limiter would be the same as).
const (
	idleAfter  = 10 * time.Minute
	sweepEvery = time.Minute
)

// tenantLimits holds the Handler's per-tenant limiters.
type tenantLimits struct {
	now       func() time.Time // time.Now; a test's clock in internal tests
	m         sync.Map         // tenant → *tenantLimiter
	nextSweep atomic.Int64     // unix nanoseconds
}

// tenantLimiter holds one tenant's concurrency slots and token bucket.
type tenantLimiter struct {
	slots chan struct{}
	rate  *rate.Limiter // nil when RequestsPerSecond is off

	// users counts admits and requests in flight holding the limiter; -1
	// once swept, after which it is not used again.
	users    atomic.Int64
	lastUsed atomic.Int64 // unix nanoseconds, updated at most once a second
}

// acquire returns the tenant's limiter with a use counted, to be ended with
// done.
func (ls *tenantLimits) acquire(lim Limits, tenant string, now time.Time) *tenantLimiter {
	for {
		v, ok := ls.m.Load(tenant)
		if !ok {
			l := &tenantLimiter{}
			if n := lim.MaxConcurrent; n > 0 {
				l.slots = make(chan struct{}, n)
			}
			if lim.RequestsPerSecond > 0 {
				l.rate = rate.NewLimiter(rate.Limit(lim.RequestsPerSecond), lim.Burst)
			}
			v, _ = ls.m.LoadOrStore(tenant, l)
		}
		l := v.(*tenantLimiter)
		if n := l.users.Load(); n >= 0 && l.users.CompareAndSwap(n, n+1) {
			if t := now.UnixNano(); t-l.lastUsed.Load() > int64(time.Second) {
				l.lastUsed.Store(t)
			}
			return l
		}
		// Swept between Load and CompareAndSwap, or contended: look again.
	}
}

func (l *tenantLimiter) done() { l.users.Add(-1) }

// sweep drops the limiters idle since before now-idleAfter, at most once a
// sweepEvery.
func (ls *tenantLimits) sweep(now time.Time) {
	next := ls.nextSweep.Load()
	if now.UnixNano() < next || !ls.nextSweep.CompareAndSwap(next, now.Add(sweepEvery).UnixNano()) {
		return
	}
	idleSince := now.Add(-idleAfter).UnixNano()
	ls.m.Range(func(k, v any) bool {
		l := v.(*tenantLimiter)
		if l.lastUsed.Load() > idleSince {
			return true
		}
		if l.rate != nil && l.rate.TokensAt(now) < float64(l.rate.Burst()) {
			return true // still refilling: dropping it would forgive the debt
		}
		if l.users.CompareAndSwap(0, -1) {
			ls.m.CompareAndDelete(k, v)
		}
		return true
	})
}

// admit applies the tenant's rate and concurrency limits. It returns a
// release func, or writes 429 and returns nil.
func (h *Handler) admit(ctx context.Context, w http.ResponseWriter, tenant string) func() {
	lim := h.cfg.Limits
	now := h.limits.now()
	h.limits.sweep(now)
	l := h.limits.acquire(lim, tenant, now)
	local := lim.RateLimiter == nil
	if !local {
		ok, wait, err := lim.RateLimiter.Allow(ctx, tenant)
		switch {
		case err != nil:
			h.log.WarnContext(ctx, "scim: rate limiter failed; applying this instance's limit", "tenant", tenant, "err", err)
			local = true
		case !ok:
			l.done()
			h.tel.rateLimited(ctx, tenant, "rate")
			tooMany(w, wait.Seconds(), "too many requests for this tenant; slow down")
			return nil
		}
	}
	if local && l.rate != nil && !l.rate.AllowN(now, 1) {
		wait := (1 - l.rate.TokensAt(now)) / float64(l.rate.Limit())
		l.done()
		h.tel.rateLimited(ctx, tenant, "rate")
		tooMany(w, wait, "too many requests for this tenant; slow down")
		return nil
	}
	if l.slots == nil {
		return l.done
	}
	select {
	case l.slots <- struct{}{}:
		return func() { <-l.slots; l.done() }
	default:
		l.done()
		h.tel.rateLimited(ctx, tenant, "concurrency")
		tooMany(w, 1, "too many concurrent requests for this tenant; retry shortly")
		return nil
	}
}

func tooMany(w http.ResponseWriter, wait float64, detail string) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait)))))
	writeError(w, &Error{Status: http.StatusTooManyRequests, Detail: detail})
}

// MaxIndexedBytes is the maximum length, in bytes of UTF-8, of the string
// attributes a store looks up by and keeps unique: a User's userName,
// externalId and emails[].value, a Group's displayName and externalId.
// For the case-insensitive ones (userName, emails[].value, displayName)
// their case-folded key (store.Fold, which the SQL store indexes) is held
// to it too: compatibility decomposition can make a key longer than its
// value (U+FDFA, 3 bytes, folds to 33). A longer value or key is refused
// with 400 invalidValue naming the attribute, on every store, so that
// what one store accepts every store does, and both fit every SQL
// engine's index (MySQL's indexed columns are 768 bytes, PostgreSQL's
// index entries about 2,700).
const MaxIndexedBytes = 512

// checkIndexed refuses attributes with an indexed string, or its folded
// key, longer than MaxIndexedBytes. Values the same as in before (the
// stored attributes a PATCH started from, or nil) are let be: a user
// stored before the limit can still be deactivated.
func checkIndexed(rt *schema.ResourceType, attrs, before store.Attributes) error {
	tooLong := func(name string, v, was any, folded bool) error {
		s, ok := v.(string)
		if !ok || s == was {
			return nil
		}
		if len(s) > MaxIndexedBytes || folded && len(store.Fold(s)) > MaxIndexedBytes {
			return &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidValue,
				Detail: "attribute " + strconv.Quote(name) + " is longer than " + strconv.Itoa(MaxIndexedBytes) + " bytes, or its case-folded form is"}
		}
		return nil
	}
	group := rt.Core.Attr("members") != nil
	for _, name := range [...]string{"userName", "externalId", "displayName"} {
		if name == "displayName" && !group {
			continue // a User's displayName is not indexed
		}
		if err := tooLong(name, attrs[name], before[name], name != "externalId"); err != nil {
			return err
		}
	}
	list, _ := attrs["emails"].([]any)
	for _, el := range list {
		m, ok := el.(map[string]any)
		if !ok {
			continue
		}
		if s, ok := m["value"].(string); !ok || hasEmail(before, s) {
			continue
		}
		if err := tooLong("emails.value", m["value"], nil, true); err != nil {
			return err
		}
	}
	return nil
}

// hasEmail reports whether attrs has an email with the value s.
func hasEmail(attrs store.Attributes, s string) bool {
	list, _ := attrs["emails"].([]any)
	for _, el := range list {
		if m, ok := el.(map[string]any); ok && m["value"] == s {
			return true
		}
	}
	return false
}
