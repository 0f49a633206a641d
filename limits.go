package scim

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

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
	// tenant from starving the others.
	RequestsPerSecond float64
	// Burst is the token bucket's size. Default: RequestsPerSecond.
	Burst int
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

// tenantLimiter holds one tenant's concurrency slots and token bucket.
type tenantLimiter struct {
	slots chan struct{}

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// limiter returns the limiter of a tenant.
func (h *Handler) limiter(tenant string) *tenantLimiter {
	if l, ok := h.limiters.Load(tenant); ok {
		return l.(*tenantLimiter)
	}
	l := &tenantLimiter{tokens: float64(h.cfg.Limits.Burst), last: time.Now()}
	if n := h.cfg.Limits.MaxConcurrent; n > 0 {
		l.slots = make(chan struct{}, n)
	}
	actual, _ := h.limiters.LoadOrStore(tenant, l)
	return actual.(*tenantLimiter)
}

// admit applies the tenant's rate and concurrency limits. It returns a
// release func, or writes 429 and returns nil.
func (h *Handler) admit(w http.ResponseWriter, tenant string) func() {
	lim := h.cfg.Limits
	l := h.limiter(tenant)
	if rate := lim.RequestsPerSecond; rate > 0 {
		l.mu.Lock()
		now := time.Now()
		l.tokens = math.Min(float64(lim.Burst), l.tokens+now.Sub(l.last).Seconds()*rate)
		l.last = now
		ok := l.tokens >= 1
		wait := 0.0
		if ok {
			l.tokens--
		} else {
			wait = (1 - l.tokens) / rate
		}
		l.mu.Unlock()
		if !ok {
			tooMany(w, wait, "too many requests for this tenant; slow down")
			return nil
		}
	}
	if l.slots == nil {
		return func() {}
	}
	select {
	case l.slots <- struct{}{}:
		return func() { <-l.slots }
	default:
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
