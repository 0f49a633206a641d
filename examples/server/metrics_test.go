package main

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// TestWritePrometheus writes a counter, an up-down counter and a histogram
// in the Prometheus text format.
func TestWritePrometheus(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	m := mp.Meter("test")
	ctx := context.Background()
	c, _ := m.Int64Counter("scim.requests", metric.WithDescription("Requests.\nAll of them."))
	c.Add(ctx, 2, metric.WithAttributes(attribute.String("scim.tenant", `a"b\c`), attribute.Int("http.response.status_code", 201)))
	c.Add(ctx, 1, metric.WithAttributes(attribute.String("scim.tenant", "acme"), attribute.Int("http.response.status_code", 201)))
	g, _ := m.Int64UpDownCounter("queue.depth")
	g.Add(ctx, 3)
	h, _ := m.Float64Histogram("scim.request.duration", metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(0.1, 1))
	h.Record(ctx, 0.05, metric.WithAttributes(attribute.String("op", "get")))
	h.Record(ctx, 0.5, metric.WithAttributes(attribute.String("op", "get")))
	h.Record(ctx, 2, metric.WithAttributes(attribute.String("op", "get")))

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	w := bufio.NewWriter(&sb)
	writePrometheus(w, &rm)
	w.Flush()
	want := `# HELP queue_depth 
# TYPE queue_depth gauge
queue_depth 3
# HELP scim_request_duration_seconds 
# TYPE scim_request_duration_seconds histogram
scim_request_duration_seconds_bucket{op="get",le="0.1"} 1
scim_request_duration_seconds_bucket{op="get",le="1"} 2
scim_request_duration_seconds_bucket{op="get",le="+Inf"} 3
scim_request_duration_seconds_sum{op="get"} 2.55
scim_request_duration_seconds_count{op="get"} 3
# HELP scim_requests_total Requests.\nAll of them.
# TYPE scim_requests_total counter
scim_requests_total{http_response_status_code="201",scim_tenant="a\"b\\c"} 2
scim_requests_total{http_response_status_code="201",scim_tenant="acme"} 1
`
	if diff := cmp.Diff(want, sb.String()); diff != "" {
		t.Errorf("text (-want +got):\n%s", diff)
	}
}

// TestDemoMetrics scrapes GET /metrics after SCIM requests: it counts them
// by tenant, method, status and operation.
func TestDemoMetrics(t *testing.T) {
	t.Parallel()
	const token = "metrics-secret-0x61"
	d := startDemo(t, demoConfig{args: []string{"-db", "memory", "-token", "acme=" + token}})
	d.call(t, "POST", "/Users", token, userJSON("ada@example.com")).want(t, http.StatusCreated)
	d.call(t, "POST", "/Users", token, userJSON("ada@example.com")).want(t, http.StatusConflict)
	d.call(t, "GET", "/Users/no-such-id", token, "").want(t, http.StatusNotFound)

	req, err := http.NewRequest("GET", d.root+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	r := send(t, req).want(t, http.StatusOK)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", ct)
	}
	var got []string
	for line := range strings.Lines(string(r.body)) {
		if strings.HasPrefix(line, "scim_requests_total") || strings.HasPrefix(line, "# TYPE scim_request") ||
			strings.HasPrefix(line, "scim_request_duration_seconds_count") || strings.HasPrefix(line, "scim_events_total") {
			got = append(got, strings.TrimSpace(line))
		}
	}
	want := []string{
		`scim_events_total{scim_event_type="user.provisioned",scim_tenant="acme"} 1`,
		`# TYPE scim_request_duration_seconds histogram`,
		`scim_request_duration_seconds_count{http_request_method="GET",http_response_status_code="404",http_route="/Users/{id}",scim_operation="get"} 1`,
		`scim_request_duration_seconds_count{http_request_method="POST",http_response_status_code="201",http_route="/Users",scim_operation="create"} 1`,
		`scim_request_duration_seconds_count{http_request_method="POST",http_response_status_code="409",http_route="/Users",scim_operation="create"} 1`,
		`# TYPE scim_requests_total counter`,
		`scim_requests_total{http_request_method="GET",http_response_status_code="404",scim_client="other",scim_operation="get",scim_resource_type="User",scim_tenant="acme"} 1`,
		`scim_requests_total{http_request_method="POST",http_response_status_code="201",scim_client="other",scim_operation="create",scim_resource_type="User",scim_tenant="acme"} 1`,
		`scim_requests_total{http_request_method="POST",http_response_status_code="409",scim_client="other",scim_operation="create",scim_resource_type="User",scim_tenant="acme"} 1`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("/metrics (-want +got):\n%s", diff)
	}
}
