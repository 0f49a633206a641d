package scim

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/scimkit/scim/store"
)

// instrumentationName names the tracer and the meter the Handler takes
// from Config.TracerProvider and Config.MeterProvider.
const instrumentationName = "github.com/scimkit/scim"

// The attribute keys of the Handler's spans and metrics (README, "Metrics
// and traces", lists which carries which). The http.* and error.type keys
// are OpenTelemetry's semantic conventions.
const (
	attrTenant       = attribute.Key("scim.tenant")
	attrOperation    = attribute.Key("scim.operation")
	attrResourceType = attribute.Key("scim.resource_type")
	attrClient       = attribute.Key("scim.client")
	attrScimType     = attribute.Key("scim.error.scim_type")
	attrLimit        = attribute.Key("scim.limit")
	attrStoreCall    = attribute.Key("scim.store.call")
	attrEventType    = attribute.Key("scim.event.type")
	attrMethod       = attribute.Key("http.request.method")
	attrRoute        = attribute.Key("http.route")
	attrStatus       = attribute.Key("http.response.status_code")
	attrErrorType    = attribute.Key("error.type")
)

// telemetry is a Handler's traces and metrics. A Handler whose Config sets
// neither provider has none (a nil *telemetry, whose methods do nothing),
// so that it costs nothing: no span, no attribute, no clock reading, no
// store wrapper.
type telemetry struct {
	tracer trace.Tracer // nil without Config.TracerProvider
	meter  bool         // the instruments below are set (Config.MeterProvider)

	requests      metric.Int64Counter
	duration      metric.Float64Histogram
	limited       metric.Int64Counter
	guardHolds    metric.Int64Counter
	guardRefusals metric.Int64Counter
	storeDuration metric.Float64Histogram
	events        metric.Int64Counter
	eventDelay    metric.Float64Histogram

	// callOpts holds the attributes of a successful store call's
	// measurement, by the call's name, made once: making them is most of
	// what measuring a call costs.
	callOpts map[string]metric.RecordOption
}

// storeCalls are the names of the store calls the Handler measures.
var storeCalls = []string{
	"View", "Update", "User", "UserByUserName", "ListUsers", "Group", "ListGroups", "GroupsOf",
	"CreateUser", "UpdateUser", "DeleteUser", "CreateGroup", "UpdateGroup", "DeleteGroup",
	"AddMembers", "RemoveMembers", "ReplaceMembers", "RawUser", "ListRawUsers", "UnmanagedUserByEmail",
	"MemberCounts", "RecordEvents", "RecordDeparture", "Departure",
}

// Span kinds as start options, made once (each call of WithSpanKind
// allocates).
var (
	serverSpan = trace.WithSpanKind(trace.SpanKindServer)
	clientSpan = trace.WithSpanKind(trace.SpanKindClient)
)

// Bucket boundaries, in seconds: requests take milliseconds to seconds
// (Entra gives up at 60), store calls microseconds to seconds.
var (
	requestBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}
	storeBuckets   = []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
)

// newTelemetry returns the telemetry over the providers, nil when both
// are nil.
func newTelemetry(tp trace.TracerProvider, mp metric.MeterProvider) (*telemetry, error) {
	if tp == nil && mp == nil {
		return nil, nil
	}
	t := &telemetry{}
	if tp != nil {
		t.tracer = tp.Tracer(instrumentationName)
	}
	if mp == nil {
		return t, nil
	}
	m := mp.Meter(instrumentationName)
	var errs []error
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	histogram := func(name, desc string, buckets []float64) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
			metric.WithExplicitBucketBoundaries(buckets...))
		errs = append(errs, err)
		return h
	}
	t.requests = counter("scim.requests", "{request}", "SCIM requests answered.")
	t.duration = histogram("scim.request.duration", "Time to answer a SCIM request.", requestBuckets)
	t.limited = counter("scim.rate_limited", "{request}", "SCIM requests refused with 429 by a tenant's rate or concurrency limit.")
	t.guardHolds = counter("scim.deprovision_guard.holds", "{hold}", "Holds of a tenant's deprovisioning started by the DeprovisionGuard.")
	t.guardRefusals = counter("scim.deprovision_guard.refusals", "{request}", "Deactivations and deletions refused with 503 while a tenant's deprovisioning is held.")
	t.storeDuration = histogram("scim.store.duration", "Time of a call to the Store, its Reader or its Tx.", storeBuckets)
	t.events = counter("scim.events", "{event}", "Events of committed changes and refusals (what the outbox records and Config.OnEvent receives).")
	t.eventDelay = histogram("scim.event.delivery_delay", "Time from an event's commit to the start of its Config.OnEvent call.", storeBuckets)
	if err := errors.Join(errs...); err != nil {
		return nil, invalid("Config.MeterProvider: %v", err)
	}
	t.callOpts = make(map[string]metric.RecordOption, len(storeCalls))
	for _, name := range storeCalls {
		t.callOpts[name] = metric.WithAttributeSet(attribute.NewSet(attrStoreCall.String(name)))
	}
	t.meter = true
	return t, nil
}

// requestTelemetry is what the telemetry keeps of one request (in its
// exchange, so that it costs no allocation of its own).
type requestTelemetry struct {
	ctx    context.Context // the request's context with span; nil without tracing
	span   trace.Span      // nil without tracing
	method string
	route  string
	op     string
	rtype  string
}

// startRequest begins the request's span, a child of the span in ctx (the
// app's middleware's, when it has one), and returns the context that
// carries it: nil without tracing (the Request's context serves).
func (t *telemetry) startRequest(ctx context.Context, r *http.Request, client string, rt *requestTelemetry) context.Context {
	rt.method = methodName(r.Method)
	rt.route, rt.op, rt.rtype = routeOf(r.Method, r.URL.Path)
	if t.tracer == nil {
		return nil // the Request's
	}
	attrs := []attribute.KeyValue{
		attrMethod.String(rt.method), attrRoute.String(rt.route), attrOperation.String(rt.op), attrClient.String(client),
	}
	if rt.rtype != "" {
		attrs = append(attrs, attrResourceType.String(rt.rtype))
	}
	rt.ctx, rt.span = t.tracer.Start(ctx, "scim."+rt.method+" "+rt.route,
		serverSpan, trace.WithAttributes(attrs...))
	return rt.ctx
}

// endRequest ends the request's span and counts the request.
func (t *telemetry) endRequest(ctx context.Context, rt *requestTelemetry, tenant, client string, sw *statusWriter, latency time.Duration) {
	status := sw.status()
	if s := rt.span; s != nil {
		s.SetAttributes(attrTenant.String(tenant), attrStatus.Int(status))
		if sw.scimType != "" {
			s.SetAttributes(attrScimType.String(sw.scimType))
		}
		if status >= 500 {
			s.SetStatus(codes.Error, http.StatusText(status))
		}
		s.End()
	}
	if !t.meter {
		return
	}
	t.requests.Add(ctx, 1, metric.WithAttributes(attrTenant.String(tenant), attrMethod.String(rt.method),
		attrStatus.Int(status), attrOperation.String(rt.op), attrResourceType.String(rt.rtype), attrClient.String(client)))
	t.duration.Record(ctx, latency.Seconds(), metric.WithAttributes(attrMethod.String(rt.method),
		attrRoute.String(rt.route), attrOperation.String(rt.op), attrStatus.Int(status)))
}

// rateLimited counts a 429 of the tenant's rate ("rate") or concurrency
// ("concurrency") limit.
func (t *telemetry) rateLimited(ctx context.Context, tenant, limit string) {
	if t == nil || !t.meter {
		return
	}
	t.limited.Add(ctx, 1, metric.WithAttributes(attrTenant.String(tenant), attrLimit.String(limit)))
}

// guardRefused counts a deprovisioning the guard refused, and the hold it
// started when started.
func (t *telemetry) guardRefused(ctx context.Context, tenant string, started bool) {
	if t == nil || !t.meter {
		return
	}
	opt := metric.WithAttributes(attrTenant.String(tenant))
	if started {
		t.guardHolds.Add(ctx, 1, opt)
	}
	t.guardRefusals.Add(ctx, 1, opt)
}

// eventsCommitted counts the events of a committed write or refusal.
func (t *telemetry) eventsCommitted(ctx context.Context, events []store.Event) {
	if t == nil || !t.meter {
		return
	}
	for _, e := range events {
		t.events.Add(ctx, 1, metric.WithAttributes(attrTenant.String(e.Tenant), attrEventType.String(string(e.Type))))
	}
}

// eventDelivering records the delay of an event's delivery: the time since
// its commit (since) until its Config.OnEvent call starts, by its type.
func (t *telemetry) eventDelivering(ctx context.Context, typ store.EventType, since time.Time) {
	if t == nil || !t.meter {
		return
	}
	t.eventDelay.Record(ctx, time.Since(since).Seconds(), metric.WithAttributes(attrEventType.String(string(typ))))
}

// now is time.Now when the telemetry measures time, the zero time
// otherwise (no clock reading for a Handler without metrics).
func (t *telemetry) now() time.Time {
	if t == nil || !t.meter {
		return time.Time{}
	}
	return time.Now()
}

// methodName is the request's method as the span name and the metrics
// carry it: one of the methods SCIM uses, or _OTHER (any string is a
// method in HTTP, and each would be a series of its own).
func methodName(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return m
	}
	return "_OTHER"
}

// The routes routeOf names.
const (
	routeUsers       = "/Users"
	routeUser        = "/Users/{id}"
	routeUsersSearch = "/Users/.search"
	routeGroups      = "/Groups"
	routeGroup       = "/Groups/{id}"
	routeGroupSearch = "/Groups/.search"
	routeSearch      = "/.search"
	routeSPC         = "/ServiceProviderConfig"
	routeRTs         = "/ResourceTypes"
	routeRT          = "/ResourceTypes/{name}"
	routeSchemas     = "/Schemas"
	routeSchema      = "/Schemas/{id}"
	routeOther       = "other"
)

// routeOf names a request's endpoint with a route template (resource ids
// left out, so that the values are few), the operation it asks for
// (create, replace, patch, delete, get, list, search, discovery, or other
// for a method or a path the handler refuses) and the resource type it is
// about ("User", "Group", or "" for none). It reads the path as route does.
func routeOf(method, path string) (route, op, rtype string) {
	p := strings.Trim(path, "/")
	first, rest, _ := strings.Cut(p, "/")
	get := method == http.MethodGet || method == http.MethodHead
	resource := func(collection, item, search string) (string, string) {
		switch {
		case rest == "":
			switch {
			case get:
				return collection, "list"
			case method == http.MethodPost:
				return collection, "create"
			}
			return collection, "other"
		case rest == ".search":
			if method == http.MethodPost {
				return search, "search"
			}
			return search, "other"
		case strings.Contains(rest, "/"):
			return routeOther, "other"
		}
		switch {
		case get:
			return item, "get"
		case method == http.MethodPut:
			return item, "replace"
		case method == http.MethodPatch:
			return item, "patch"
		case method == http.MethodDelete:
			return item, "delete"
		}
		return item, "other"
	}
	discovery := func(route string) (string, string, string) {
		if get {
			return route, "discovery", ""
		}
		return route, "other", ""
	}
	switch {
	case strings.EqualFold(first, "Users"):
		route, op = resource(routeUsers, routeUser, routeUsersSearch)
		return route, op, "User"
	case strings.EqualFold(first, "Groups"):
		route, op = resource(routeGroups, routeGroup, routeGroupSearch)
		return route, op, "Group"
	case strings.EqualFold(first, "ServiceProviderConfig") && rest == "":
		return discovery(routeSPC)
	case strings.EqualFold(first, "ResourceTypes") && rest == "":
		return discovery(routeRTs)
	case strings.EqualFold(first, "ResourceTypes"):
		return discovery(routeRT)
	case strings.EqualFold(first, "Schemas") && rest == "":
		return discovery(routeSchemas)
	case strings.EqualFold(first, "Schemas"):
		return discovery(routeSchema)
	case first == ".search" && rest == "":
		if method == http.MethodPost {
			return routeSearch, "search", ""
		}
		return routeSearch, "other", ""
	}
	return routeOther, "other", ""
}

// errorType classifies a store call's error for the error.type attribute:
// the store's sentinel errors by name, a SCIM error the call's function
// returned to refuse the request ("refused"), the context's end, or
// "other".
func errorType(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, store.ErrNotFound):
		return "not_found"
	case errors.Is(err, store.ErrConflict):
		return "conflict"
	case errors.Is(err, store.ErrVersionMismatch):
		return "version_mismatch"
	case errors.Is(err, store.ErrUnavailable):
		return "unavailable"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline_exceeded"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	if _, ok := asError(err); ok {
		return "refused"
	}
	return "other"
}

// storeCall is one call to the store being measured.
type storeCall struct {
	t     *telemetry
	span  trace.Span // nil without tracing
	name  string     // the call's name: View, Update, User …
	start time.Time
}

// startCall begins a store call whose span is named spanName
// ("scim.store." + the call's name, a constant so that it costs no
// concatenation) and is a child of parent, or of the span in ctx when
// parent is nil.
func (t *telemetry) startCall(ctx context.Context, parent trace.Span, spanName string, attrs ...attribute.KeyValue) (context.Context, storeCall) {
	c := storeCall{t: t, name: strings.TrimPrefix(spanName, "scim.store."), start: time.Now()}
	if t.tracer != nil {
		if parent != nil {
			ctx = trace.ContextWithSpan(ctx, parent)
		}
		ctx, c.span = t.tracer.Start(ctx, spanName, clientSpan, trace.WithAttributes(attrs...))
	}
	return ctx, c
}

// end ends the call, which returned err.
func (c storeCall) end(ctx context.Context, err error) {
	et := errorType(err)
	if c.span != nil {
		if et != "" {
			c.span.SetAttributes(attrErrorType.String(et))
		}
		switch et {
		case "unavailable", "deadline_exceeded", "other":
			c.span.SetStatus(codes.Error, et)
		}
		c.span.End()
	}
	if !c.t.meter {
		return
	}
	opt, ok := c.t.callOpts[c.name]
	switch {
	case et != "":
		opt = metric.WithAttributes(attrStoreCall.String(c.name), attrErrorType.String(et))
	case !ok:
		opt = metric.WithAttributes(attrStoreCall.String(c.name))
	}
	c.t.storeDuration.Record(ctx, time.Since(c.start).Seconds(), opt)
}

// viewStore is h.store.View, measured when the Handler has telemetry, as
// are the calls of the Reader fn gets: their spans are children of the
// View's, whatever context fn calls them with. Without telemetry it is
// h.store.View itself, at no cost.
func (h *Handler) viewStore(ctx context.Context, tenant string, fn func(rd store.Reader) error) error {
	t := h.tel
	if t == nil {
		return h.store.View(ctx, tenant, fn)
	}
	ctx, c := t.startCall(ctx, nil, "scim.store.View", attrTenant.String(tenant))
	err := h.store.View(ctx, tenant, func(rd store.Reader) error {
		return fn(&tracedReader{Reader: rd, t: t, parent: c.span})
	})
	c.end(ctx, err)
	return err
}

// updateStore is h.store.Update as viewStore is h.store.View.
func (h *Handler) updateStore(ctx context.Context, tenant string, fn func(tx store.Tx) error) error {
	t := h.tel
	if t == nil {
		return h.store.Update(ctx, tenant, fn)
	}
	ctx, c := t.startCall(ctx, nil, "scim.store.Update", attrTenant.String(tenant))
	err := h.store.Update(ctx, tenant, func(tx store.Tx) error {
		return fn(&tracedTx{tracedReader: tracedReader{Reader: tx, t: t, parent: c.span}, tx: tx})
	})
	c.end(ctx, err)
	return err
}

// powerOf returns x's optional power P (store.RawUserReader,
// store.EventRecorder …), seeing through the wrappers that measure a
// Reader or a Tx: a wrapper has a power exactly when the Reader or Tx it
// wraps has it, and its calls of the power are measured when it knows the
// power (a power it does not know is the wrapped one's, unmeasured). The
// handler asks for powers only through powerOf (TestPowersAskedThroughPowerOf).
func powerOf[P any](x any) (P, bool) {
	if w, ok := x.(interface{ wrapped() any }); ok {
		inner := w.wrapped()
		p, ok := inner.(P)
		if !ok {
			return p, false
		}
		if traced, ok := x.(P); ok {
			return traced, true
		}
		return p, true
	}
	p, ok := x.(P)
	return p, ok
}

// errNoPower is what a wrapper's power method returns when the wrapped
// Reader or Tx lacks the power: only a caller that asked for it without
// powerOf gets it.
var errNoPower = errors.New("scim: the store does not have this power (ask for it with powerOf)")

// tracedReader measures the calls of a Reader. It has every power a
// Reader may have; powerOf tells which the wrapped Reader has.
type tracedReader struct {
	store.Reader
	t      *telemetry
	parent trace.Span // the View's or the Update's span; nil without tracing
}

func (r *tracedReader) wrapped() any { return r.Reader }

func (r *tracedReader) User(ctx context.Context, id string) (store.User, error) {
	ctx, c := r.t.startCall(ctx, r.parent, "scim.store.User")
	u, err := r.Reader.User(ctx, id)
	c.end(ctx, err)
	return u, err
}

func (r *tracedReader) UserByUserName(ctx context.Context, userName string) (store.User, error) {
	ctx, c := r.t.startCall(ctx, r.parent, "scim.store.UserByUserName")
	u, err := r.Reader.UserByUserName(ctx, userName)
	c.end(ctx, err)
	return u, err
}

func (r *tracedReader) ListUsers(ctx context.Context, q store.Query) (store.UserPage, error) {
	ctx, c := r.t.startCall(ctx, r.parent, "scim.store.ListUsers")
	p, err := r.Reader.ListUsers(ctx, q)
	c.end(ctx, err)
	return p, err
}

func (r *tracedReader) Group(ctx context.Context, id string, withMembers bool) (store.Group, error) {
	ctx, c := r.t.startCall(ctx, r.parent, "scim.store.Group")
	g, err := r.Reader.Group(ctx, id, withMembers)
	c.end(ctx, err)
	return g, err
}

func (r *tracedReader) ListGroups(ctx context.Context, q store.Query) (store.GroupPage, error) {
	ctx, c := r.t.startCall(ctx, r.parent, "scim.store.ListGroups")
	p, err := r.Reader.ListGroups(ctx, q)
	c.end(ctx, err)
	return p, err
}

func (r *tracedReader) GroupsOf(ctx context.Context, userID string) ([]store.GroupRef, error) {
	ctx, c := r.t.startCall(ctx, r.parent, "scim.store.GroupsOf")
	refs, err := r.Reader.GroupsOf(ctx, userID)
	c.end(ctx, err)
	return refs, err
}

func (r *tracedReader) RawUser(ctx context.Context, id string) (store.User, []byte, error) {
	p, ok := r.Reader.(store.RawUserReader)
	if !ok {
		return store.User{}, nil, errNoPower
	}
	ctx, c := r.t.startCall(ctx, r.parent, "scim.store.RawUser")
	u, raw, err := p.RawUser(ctx, id)
	c.end(ctx, err)
	return u, raw, err
}

func (r *tracedReader) ListRawUsers(ctx context.Context, q store.Query) (store.UserPage, [][]byte, error) {
	p, ok := r.Reader.(store.RawUserLister)
	if !ok {
		return store.UserPage{}, nil, errNoPower
	}
	ctx, c := r.t.startCall(ctx, r.parent, "scim.store.ListRawUsers")
	page, raw, err := p.ListRawUsers(ctx, q)
	c.end(ctx, err)
	return page, raw, err
}

func (r *tracedReader) UnmanagedUserByEmail(ctx context.Context, emails []string) (store.User, error) {
	p, ok := r.Reader.(store.UnmanagedEmailFinder)
	if !ok {
		return store.User{}, errNoPower
	}
	ctx, c := r.t.startCall(ctx, r.parent, "scim.store.UnmanagedUserByEmail")
	u, err := p.UnmanagedUserByEmail(ctx, emails)
	c.end(ctx, err)
	return u, err
}

func (r *tracedReader) MemberCounts(ctx context.Context, groupIDs []string) (map[string]int, error) {
	p, ok := r.Reader.(store.MemberCounter)
	if !ok {
		return nil, errNoPower
	}
	ctx, c := r.t.startCall(ctx, r.parent, "scim.store.MemberCounts")
	n, err := p.MemberCounts(ctx, groupIDs)
	c.end(ctx, err)
	return n, err
}

// tracedTx measures the calls of a Tx, as tracedReader those of a Reader.
type tracedTx struct {
	tracedReader
	tx store.Tx
}

func (x *tracedTx) wrapped() any { return x.tx }

func (x *tracedTx) CreateUser(ctx context.Context, u *store.User) error {
	ctx, c := x.t.startCall(ctx, x.parent, "scim.store.CreateUser")
	err := x.tx.CreateUser(ctx, u)
	c.end(ctx, err)
	return err
}

func (x *tracedTx) UpdateUser(ctx context.Context, u *store.User) error {
	ctx, c := x.t.startCall(ctx, x.parent, "scim.store.UpdateUser")
	err := x.tx.UpdateUser(ctx, u)
	c.end(ctx, err)
	return err
}

func (x *tracedTx) DeleteUser(ctx context.Context, id string) error {
	ctx, c := x.t.startCall(ctx, x.parent, "scim.store.DeleteUser")
	err := x.tx.DeleteUser(ctx, id)
	c.end(ctx, err)
	return err
}

func (x *tracedTx) CreateGroup(ctx context.Context, g *store.Group) error {
	ctx, c := x.t.startCall(ctx, x.parent, "scim.store.CreateGroup")
	err := x.tx.CreateGroup(ctx, g)
	c.end(ctx, err)
	return err
}

func (x *tracedTx) UpdateGroup(ctx context.Context, g *store.Group) error {
	ctx, c := x.t.startCall(ctx, x.parent, "scim.store.UpdateGroup")
	err := x.tx.UpdateGroup(ctx, g)
	c.end(ctx, err)
	return err
}

func (x *tracedTx) DeleteGroup(ctx context.Context, id string) error {
	ctx, c := x.t.startCall(ctx, x.parent, "scim.store.DeleteGroup")
	err := x.tx.DeleteGroup(ctx, id)
	c.end(ctx, err)
	return err
}

func (x *tracedTx) AddMembers(ctx context.Context, groupID string, members []store.Member, at time.Time) (store.MemberChange, error) {
	ctx, c := x.t.startCall(ctx, x.parent, "scim.store.AddMembers")
	ch, err := x.tx.AddMembers(ctx, groupID, members, at)
	c.end(ctx, err)
	return ch, err
}

func (x *tracedTx) RemoveMembers(ctx context.Context, groupID string, userIDs []string, at time.Time) (store.MemberChange, error) {
	ctx, c := x.t.startCall(ctx, x.parent, "scim.store.RemoveMembers")
	ch, err := x.tx.RemoveMembers(ctx, groupID, userIDs, at)
	c.end(ctx, err)
	return ch, err
}

func (x *tracedTx) ReplaceMembers(ctx context.Context, groupID string, members []store.Member, at time.Time) (store.MemberChange, error) {
	ctx, c := x.t.startCall(ctx, x.parent, "scim.store.ReplaceMembers")
	ch, err := x.tx.ReplaceMembers(ctx, groupID, members, at)
	c.end(ctx, err)
	return ch, err
}

func (x *tracedTx) RecordEvents(ctx context.Context, events []store.Event) error {
	p, ok := x.tx.(store.EventRecorder)
	if !ok {
		return errNoPower
	}
	ctx, c := x.t.startCall(ctx, x.parent, "scim.store.RecordEvents")
	err := p.RecordEvents(ctx, events)
	c.end(ctx, err)
	return err
}

func (x *tracedTx) RecordDeparture(ctx context.Context, d store.Departure) error {
	p, ok := x.tx.(store.DepartureRecorder)
	if !ok {
		return errNoPower
	}
	ctx, c := x.t.startCall(ctx, x.parent, "scim.store.RecordDeparture")
	err := p.RecordDeparture(ctx, d)
	c.end(ctx, err)
	return err
}

func (x *tracedTx) Departure(ctx context.Context, userName string) (store.Departure, error) {
	p, ok := x.tx.(store.DepartureRecorder)
	if !ok {
		return store.Departure{}, errNoPower
	}
	ctx, c := x.t.startCall(ctx, x.parent, "scim.store.Departure")
	d, err := p.Departure(ctx, userName)
	c.end(ctx, err)
	return d, err
}

var (
	_ store.Reader               = (*tracedReader)(nil)
	_ store.RawUserReader        = (*tracedReader)(nil)
	_ store.RawUserLister        = (*tracedReader)(nil)
	_ store.UnmanagedEmailFinder = (*tracedReader)(nil)
	_ store.MemberCounter        = (*tracedReader)(nil)
	_ store.Tx                   = (*tracedTx)(nil)
	_ store.EventRecorder        = (*tracedTx)(nil)
	_ store.DepartureRecorder    = (*tracedTx)(nil)
)
