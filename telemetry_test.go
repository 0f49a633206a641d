package scim_test

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
)

// telemetryRecorder is a TracerProvider and a MeterProvider of the
// OpenTelemetry SDK whose spans and metrics a test reads back, once the
// answer of its last request is read: the handler ends a request's span
// and counts it before it returns, and net/http sends an answer as small
// as the tests' only then.
type telemetryRecorder struct {
	spans  *tracetest.InMemoryExporter
	reader *sdkmetric.ManualReader
	tp     *sdktrace.TracerProvider
	mp     *sdkmetric.MeterProvider
}

func newTelemetryRecorder(t *testing.T) *telemetryRecorder {
	t.Helper()
	r := &telemetryRecorder{spans: tracetest.NewInMemoryExporter(), reader: sdkmetric.NewManualReader()}
	r.tp = sdktrace.NewTracerProvider(sdktrace.WithSyncer(r.spans))
	r.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	t.Cleanup(func() {
		_ = r.tp.Shutdown(context.Background())
		_ = r.mp.Shutdown(context.Background())
	})
	return r
}

// config sets the recorder's providers in cfg.
func (r *telemetryRecorder) config(cfg scim.Config) scim.Config {
	cfg.TracerProvider, cfg.MeterProvider = r.tp, r.mp
	return cfg
}

// tracing sets only the recorder's TracerProvider in cfg.
func (r *telemetryRecorder) tracing(cfg scim.Config) scim.Config {
	cfg.TracerProvider = r.tp
	return cfg
}

// metrics sets only the recorder's MeterProvider in cfg.
func (r *telemetryRecorder) metrics(cfg scim.Config) scim.Config {
	cfg.MeterProvider = r.mp
	return cfg
}

// spanNode is a finished span as the tests compare it: its name, its
// attributes (as text) and its children in the order they started.
type spanNode struct {
	Name     string
	Attrs    map[string]string
	Children []spanNode
}

// trees returns the recorded spans as trees, one per root, in the order
// the roots started, and forgets them.
func (r *telemetryRecorder) trees(t *testing.T) []spanNode {
	t.Helper()
	spans := r.spans.GetSpans()
	r.spans.Reset()
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].StartTime.Before(spans[j].StartTime) })
	children := map[trace.SpanID][]tracetest.SpanStub{}
	known := map[trace.SpanID]bool{}
	for _, s := range spans {
		known[s.SpanContext.SpanID()] = true
	}
	var roots []tracetest.SpanStub
	for _, s := range spans {
		if p := s.Parent.SpanID(); s.Parent.IsValid() && known[p] {
			if s.Parent.TraceID() != s.SpanContext.TraceID() {
				t.Errorf("span %s has a parent in another trace", s.Name)
			}
			children[p] = append(children[p], s)
		} else {
			roots = append(roots, s)
		}
	}
	var build func(s tracetest.SpanStub) spanNode
	build = func(s tracetest.SpanStub) spanNode {
		n := spanNode{Name: s.Name}
		if len(s.Attributes) > 0 {
			n.Attrs = map[string]string{}
			for _, kv := range s.Attributes {
				n.Attrs[string(kv.Key)] = kv.Value.Emit()
			}
		}
		for _, c := range children[s.SpanContext.SpanID()] {
			n.Children = append(n.Children, build(c))
		}
		return n
	}
	out := make([]spanNode, 0, len(roots))
	for _, s := range roots {
		out = append(out, build(s))
	}
	return out
}

// points returns the recorded data points of the named metrics: "NAME
// {k=v,…}" → the value of a counter, or the count of a histogram.
func (r *telemetryRecorder) points(t *testing.T, names ...string) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]int64{}
	key := func(name string, set attribute.Set) string {
		var kvs []string
		for _, kv := range set.ToSlice() {
			kvs = append(kvs, string(kv.Key)+"="+kv.Value.Emit())
		}
		return name + " {" + strings.Join(kvs, ",") + "}"
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if !want[m.Name] {
				continue
			}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = p.Value
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = int64(p.Count)
				}
			default:
				t.Fatalf("metric %s has data %T", m.Name, m.Data)
			}
		}
	}
	return out
}

// request is the span of a request with the given attributes and store
// calls.
func request(name string, attrs map[string]string, children ...spanNode) spanNode {
	return spanNode{Name: name, Attrs: attrs, Children: children}
}

func storeSpan(name string, children ...spanNode) spanNode {
	return spanNode{Name: "scim.store." + name, Children: children}
}

// failed is a store span whose call failed with the error.type.
func failed(name, errorType string) spanNode {
	return spanNode{Name: "scim.store." + name, Attrs: map[string]string{"error.type": errorType}}
}

func view(children ...spanNode) spanNode {
	return spanNode{Name: "scim.store.View", Attrs: map[string]string{"scim.tenant": "acme"}, Children: children}
}

func update(children ...spanNode) spanNode {
	return spanNode{Name: "scim.store.Update", Attrs: map[string]string{"scim.tenant": "acme"}, Children: children}
}

// reqAttrs are the attributes of a request span from okta as tenant acme.
func reqAttrs(method, route, op, rtype string, status int, scimType string) map[string]string {
	m := map[string]string{
		"http.request.method": method, "http.route": route, "scim.operation": op,
		"scim.client": "okta", "scim.tenant": "acme", "http.response.status_code": fmt.Sprint(status),
	}
	if rtype != "" {
		m["scim.resource_type"] = rtype
	}
	if scimType != "" {
		m["scim.error.scim_type"] = scimType
	}
	return m
}

const oktaUA = "User-Agent: Okta SCIM Client 1.0.0"

// TestTelemetry sends real requests on each store and reads back their
// spans (names, attributes, parents) and metrics.
func TestTelemetry(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			rec := newTelemetryRecorder(t)
			var delivered int
			s := newTestServerWith(t, st.open(t), rec.config(scim.Config{
				OnEvent: func(context.Context, scim.Event) { delivered++ },
			}))
			id := str(s.must(http.StatusCreated, "POST", "/Users", `{"userName":"t@x.com","emails":[{"value":"t@x.com"}]}`, oktaUA).body, "id")
			s.must(http.StatusOK, "PATCH", "/Users/"+id, `{"Operations":[{"op":"replace","value":{"active":false}}]}`, oktaUA)
			s.must(http.StatusOK, "GET", "/Users/"+id, "", oktaUA)
			s.must(http.StatusOK, "GET", "/Users?filter="+strings.ReplaceAll(`userName eq "t@x.com"`, " ", "%20"), "", oktaUA)
			s.must(http.StatusConflict, "POST", "/Users", `{"userName":"T@x.com"}`, oktaUA)
			s.must(http.StatusNotFound, "DELETE", "/Users/nobody", "", oktaUA)
			s.must(http.StatusOK, "GET", "/ServiceProviderConfig", "", oktaUA)
			s.must(http.StatusUnauthorized, "GET", "/Groups", "", oktaUA, "Authorization: Bearer wrong")

			want := []spanNode{
				request("scim.POST /Users", reqAttrs("POST", "/Users", "create", "User", 201, ""),
					update(
						failed("UserByUserName", "not_found"),
						storeSpan("CreateUser"),
						storeSpan("RecordEvents"),
					)),
				request("scim.PATCH /Users/{id}", reqAttrs("PATCH", "/Users/{id}", "patch", "User", 200, ""),
					update(
						storeSpan("User"),
						storeSpan("UpdateUser"),
						storeSpan("GroupsOf"),
						storeSpan("RecordEvents"),
					)),
				request("scim.GET /Users/{id}", reqAttrs("GET", "/Users/{id}", "get", "User", 200, ""),
					view(storeSpan("RawUser"), storeSpan("GroupsOf"))),
				request("scim.GET /Users", reqAttrs("GET", "/Users", "list", "User", 200, ""),
					view(storeSpan("ListRawUsers"))),
				request("scim.POST /Users", reqAttrs("POST", "/Users", "create", "User", 409, "uniqueness"),
					// The handler found the userName taken, and refused.
					spanNode{Name: "scim.store.Update", Attrs: map[string]string{"scim.tenant": "acme", "error.type": "refused"},
						Children: []spanNode{storeSpan("UserByUserName")}}),
				request("scim.DELETE /Users/{id}", reqAttrs("DELETE", "/Users/{id}", "delete", "User", 404, ""),
					spanNode{Name: "scim.store.Update", Attrs: map[string]string{"scim.tenant": "acme", "error.type": "not_found"},
						Children: []spanNode{failed("User", "not_found")}}),
				request("scim.GET /ServiceProviderConfig", reqAttrs("GET", "/ServiceProviderConfig", "discovery", "", 200, "")),
				request("scim.GET /Groups", map[string]string{
					"http.request.method": "GET", "http.route": "/Groups", "scim.operation": "list", "scim.resource_type": "Group",
					"scim.client": "okta", "scim.tenant": "", "http.response.status_code": "401",
				}),
			}
			if diff := cmp.Diff(want, rec.trees(t)); diff != "" {
				t.Errorf("spans (-want +got):\n%s", diff)
			}

			wantPoints := map[string]int64{
				"scim.requests {http.request.method=POST,http.response.status_code=201,scim.client=okta,scim.operation=create,scim.resource_type=User,scim.tenant=acme}":   1,
				"scim.requests {http.request.method=PATCH,http.response.status_code=200,scim.client=okta,scim.operation=patch,scim.resource_type=User,scim.tenant=acme}":   1,
				"scim.requests {http.request.method=GET,http.response.status_code=200,scim.client=okta,scim.operation=get,scim.resource_type=User,scim.tenant=acme}":       1,
				"scim.requests {http.request.method=GET,http.response.status_code=200,scim.client=okta,scim.operation=list,scim.resource_type=User,scim.tenant=acme}":      1,
				"scim.requests {http.request.method=POST,http.response.status_code=409,scim.client=okta,scim.operation=create,scim.resource_type=User,scim.tenant=acme}":   1,
				"scim.requests {http.request.method=DELETE,http.response.status_code=404,scim.client=okta,scim.operation=delete,scim.resource_type=User,scim.tenant=acme}": 1,
				"scim.requests {http.request.method=GET,http.response.status_code=200,scim.client=okta,scim.operation=discovery,scim.resource_type=,scim.tenant=acme}":     1,
				"scim.requests {http.request.method=GET,http.response.status_code=401,scim.client=okta,scim.operation=list,scim.resource_type=Group,scim.tenant=}":         1,
				"scim.request.duration {http.request.method=POST,http.response.status_code=201,http.route=/Users,scim.operation=create}":                                   1,
				"scim.request.duration {http.request.method=PATCH,http.response.status_code=200,http.route=/Users/{id},scim.operation=patch}":                              1,
				"scim.request.duration {http.request.method=GET,http.response.status_code=200,http.route=/Users/{id},scim.operation=get}":                                  1,
				"scim.request.duration {http.request.method=GET,http.response.status_code=200,http.route=/Users,scim.operation=list}":                                      1,
				"scim.request.duration {http.request.method=POST,http.response.status_code=409,http.route=/Users,scim.operation=create}":                                   1,
				"scim.request.duration {http.request.method=DELETE,http.response.status_code=404,http.route=/Users/{id},scim.operation=delete}":                            1,
				"scim.request.duration {http.request.method=GET,http.response.status_code=200,http.route=/ServiceProviderConfig,scim.operation=discovery}":                 1,
				"scim.request.duration {http.request.method=GET,http.response.status_code=401,http.route=/Groups,scim.operation=list}":                                     1,
				"scim.store.duration {scim.store.call=Update}":                              2,
				"scim.store.duration {error.type=refused,scim.store.call=Update}":           1,
				"scim.store.duration {error.type=not_found,scim.store.call=Update}":         1,
				"scim.store.duration {scim.store.call=View}":                                2,
				"scim.store.duration {error.type=not_found,scim.store.call=UserByUserName}": 1,
				"scim.store.duration {scim.store.call=UserByUserName}":                      1,
				"scim.store.duration {scim.store.call=CreateUser}":                          1,
				"scim.store.duration {scim.store.call=RecordEvents}":                        2,
				"scim.store.duration {scim.store.call=User}":                                1,
				"scim.store.duration {error.type=not_found,scim.store.call=User}":           1,
				"scim.store.duration {scim.store.call=UpdateUser}":                          1,
				"scim.store.duration {scim.store.call=GroupsOf}":                            2,
				"scim.store.duration {scim.store.call=RawUser}":                             1,
				"scim.store.duration {scim.store.call=ListRawUsers}":                        1,
				"scim.events {scim.event.type=user.provisioned,scim.tenant=acme}":           1,
				"scim.events {scim.event.type=user.deactivated,scim.tenant=acme}":           1,
				"scim.events {scim.event.type=user.updated,scim.tenant=acme}":               1,
				"scim.event.delivery_delay {scim.event.type=user.provisioned}":              1,
				"scim.event.delivery_delay {scim.event.type=user.deactivated}":              1,
				"scim.event.delivery_delay {scim.event.type=user.updated}":                  1,
			}
			got := rec.points(t, "scim.requests", "scim.request.duration", "scim.store.duration", "scim.events", "scim.event.delivery_delay")
			if diff := cmp.Diff(wantPoints, got); diff != "" {
				t.Errorf("metrics (-want +got):\n%s", diff)
			}
			if delivered != 3 {
				t.Errorf("OnEvent got %d events, want 3", delivered)
			}
		})
	}
}

// spanNames returns the names of the recorded spans, each once, sorted,
// and forgets them.
func (r *telemetryRecorder) spanNames() []string {
	seen := map[string]bool{}
	for _, s := range r.spans.GetSpans() {
		seen[s.Name] = true
	}
	r.spans.Reset()
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// plainStore hides every optional power of the store it wraps: its
// Readers and Txs have only the methods of store.Reader and store.Tx
// (plainReader, plainTx).
type plainStore struct{ st store.Store }

type plainTx struct{ store.Tx }

func (p plainStore) View(ctx context.Context, tenant string, fn func(store.Reader) error) error {
	return p.st.View(ctx, tenant, func(rd store.Reader) error { return fn(plainReader{rd}) })
}

func (p plainStore) Update(ctx context.Context, tenant string, fn func(store.Tx) error) error {
	return p.st.Update(ctx, tenant, func(tx store.Tx) error { return fn(plainTx{tx}) })
}

// TestTelemetryKeepsStorePowers: with tracing on, the
// handler still uses each optional power of a store's Reader and Tx (the
// spans show the power's call) and gets what it gives; over a store
// without them it falls back as it does untraced.
func TestTelemetryKeepsStorePowers(t *testing.T) {
	powers := []string{"scim.store.Departure", "scim.store.ListRawUsers", "scim.store.RawUser",
		"scim.store.RecordDeparture", "scim.store.RecordEvents", "scim.store.UnmanagedUserByEmail"}
	for _, tc := range []struct {
		name       string
		open       func(t *testing.T) store.Store
		wantPowers []string
		wantRole   string // of a user provisioned again after a deletion
	}{
		{"memory", stores[0].open, powers, "data_owner"},
		{"sqlite", stores[1].open, powers, "data_owner"},
		{"memory without powers", func(t *testing.T) store.Store { return plainStore{stores[0].open(t)} }, nil, "viewer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newTelemetryRecorder(t)
			st := tc.open(t)
			app := seedUser(t, st, "acme", "app@acme.test", "viewer")
			policy := demoPolicy
			policy.Reprovision = scim.ReprovisionPrevious
			s := newTestServerPolicy(t, st, policy, rec.tracing(scim.Config{Users: scim.UserRules{LinkExisting: true}}))

			linked := s.must(http.StatusCreated, "POST", "/Users", `{"userName":"idp-name","emails":[{"value":"APP@acme.test"}]}`)
			if got := str(linked.body, "id"); got != app {
				t.Errorf("the new user got id %q, want the existing user %q linked", got, app)
			}
			if got := str(s.must(http.StatusOK, "GET", "/Users/"+app, "").body, "userName"); got != "idp-name" {
				t.Errorf("GET the linked user: userName %q", got)
			}
			if n := len(resources(t, s.must(http.StatusOK, "GET", "/Users", ""))); n != 1 {
				t.Errorf("listed %d users, want 1", n)
			}
			id := str(s.must(http.StatusCreated, "POST", "/Users", `{"userName":"r@x.com","memberRole":"data_owner"}`).body, "id")
			s.must(http.StatusNoContent, "DELETE", "/Users/"+id, "")
			again := s.must(http.StatusCreated, "POST", "/Users", `{"userName":"R@x.com","memberRole":"default"}`)
			if got := str(again.body, "memberRole"); got != tc.wantRole {
				t.Errorf("provisioned again with role %q, want %q", got, tc.wantRole)
			}

			var gotPowers []string
			for _, n := range rec.spanNames() {
				for _, p := range powers {
					if n == p {
						gotPowers = append(gotPowers, n)
					}
				}
			}
			if diff := cmp.Diff(tc.wantPowers, gotPowers); diff != "" {
				t.Errorf("power calls (-want +got):\n%s", diff)
			}

			log, ok := st.(store.EventLog)
			if !ok {
				return
			}
			events, err := log.Events(context.Background(), "acme", 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			var types []store.EventType
			for _, e := range events {
				types = append(types, e.Type)
			}
			want := []store.EventType{store.UserLinked, store.UserUpdated, store.UserProvisioned, store.UserDeprovisioned, store.UserProvisioned}
			if diff := cmp.Diff(want, types); diff != "" {
				t.Errorf("outbox (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTelemetryLimitsAndGuard counts 429s of the rate and the concurrency
// limits, and the deprovisioning guard's hold and refusals, with metrics
// on and tracing off.
func TestTelemetryLimitsAndGuard(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			rec := newTelemetryRecorder(t)

			rate := newTestServerWith(t, st.open(t), rec.metrics(scim.Config{Limits: scim.Limits{RequestsPerSecond: 0.001, Burst: 1}}))
			rate.must(http.StatusOK, "GET", "/Users", "")
			rate.must(http.StatusTooManyRequests, "GET", "/Users", "")
			rate.must(http.StatusTooManyRequests, "GET", "/Users", "")

			entered, release := make(chan struct{}), make(chan struct{})
			busy := newTestServerWith(t, st.open(t), rec.metrics(scim.Config{
				Limits: scim.Limits{MaxConcurrent: 1},
				OnEvent: func(context.Context, scim.Event) {
					entered <- struct{}{}
					<-release
				},
			}))
			done := make(chan response)
			go func() { done <- busy.do("POST", "/Users", `{"userName":"busy@x.com"}`) }()
			<-entered // the POST holds the tenant's only slot
			busy.must(http.StatusTooManyRequests, "GET", "/Users", "")
			close(release)
			if r := <-done; r.status != http.StatusCreated {
				t.Fatalf("POST: status %d\n%s", r.status, r.raw)
			}

			guarded := newTestServerWith(t, st.open(t), rec.metrics(scim.Config{
				DeprovisionGuard: scim.DeprovisionGuard{MaxShare: 0.5, MinCount: 1},
			}))
			var ids []string
			for i := range 4 {
				ids = append(ids, str(guarded.must(http.StatusCreated, "POST", "/Users", fmt.Sprintf(`{"userName":"g%d@x.com"}`, i)).body, "id"))
			}
			deactivate := `{"Operations":[{"op":"replace","value":{"active":false}}]}`
			guarded.must(http.StatusOK, "PATCH", "/Users/"+ids[0], deactivate)
			guarded.must(http.StatusOK, "PATCH", "/Users/"+ids[1], deactivate)
			guarded.must(http.StatusServiceUnavailable, "PATCH", "/Users/"+ids[2], deactivate) // starts the hold
			guarded.must(http.StatusServiceUnavailable, "DELETE", "/Users/"+ids[3], "")

			want := map[string]int64{
				"scim.rate_limited {scim.limit=rate,scim.tenant=acme}":        2,
				"scim.rate_limited {scim.limit=concurrency,scim.tenant=acme}": 1,
				"scim.deprovision_guard.holds {scim.tenant=acme}":             1,
				"scim.deprovision_guard.refusals {scim.tenant=acme}":          2,
			}
			got := rec.points(t, "scim.rate_limited", "scim.deprovision_guard.holds", "scim.deprovision_guard.refusals")
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("metrics (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPowersAskedThroughPowerOf: the handler asks a Reader or a Tx for an
// optional power only through powerOf, which sees through the wrappers
// that trace store calls. A plain type assertion (tx.(store.RawUserReader))
// would find the wrapper's, which the wrapped Reader may lack, and a power
// added later would vanish whenever tracing or metrics are on.
func TestPowersAskedThroughPowerOf(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var found []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			a, ok := n.(*ast.TypeAssertExpr)
			if !ok || a.Type == nil {
				return true
			}
			if sel, ok := a.Type.(*ast.SelectorExpr); ok {
				if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "store" && !inWrapper(fset, f, a) {
					found = append(found, fmt.Sprintf("%s: .(store.%s)", fset.Position(a.Pos()), sel.Sel.Name))
				}
			}
			return true
		})
	}
	if len(found) > 0 {
		t.Errorf("type assertions to a store interface; use powerOf[store.X](tx) instead:\n%s", strings.Join(found, "\n"))
	}
}

// inWrapper reports whether the assertion a is in a method of the tracing
// wrappers, which assert on the Reader or Tx they wrap.
func inWrapper(fset *token.FileSet, f *ast.File, a *ast.TypeAssertExpr) bool {
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Recv == nil || a.Pos() < fn.Pos() || a.End() > fn.End() {
			continue
		}
		if star, ok := fn.Recv.List[0].Type.(*ast.StarExpr); ok {
			if id, ok := star.X.(*ast.Ident); ok && (id.Name == "tracedReader" || id.Name == "tracedTx") {
				return true
			}
		}
	}
	return false
}
