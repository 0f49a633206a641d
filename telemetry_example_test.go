package scim_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store/memory"
)

// A handler traced and measured with the OpenTelemetry SDK: a span per
// request with the store calls as its children, and counters such as
// scim.requests. An app passes its own providers, with the exporters it
// uses.
func ExampleConfig_telemetry() {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))

	tokens := scim.NewStaticTokens()
	tokens.Add("acme", "s3cret")
	cfg := exampleConfig(tokens)
	cfg.TracerProvider, cfg.MeterProvider = tp, mp
	h, err := scim.NewHandler(memory.New(), scim.RolePolicy{}, cfg)
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	status, _ := call("POST", srv.URL+"/Users", "s3cret", `{"userName":"ada@example.com"}`)
	fmt.Println("POST /Users:", status)

	for _, s := range spans.GetSpans() {
		fmt.Println("span", s.Name)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		panic(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name == "scim.requests" {
			p := m.Data.(metricdata.Sum[int64]).DataPoints[0]
			tenant, _ := p.Attributes.Value("scim.tenant")
			op, _ := p.Attributes.Value("scim.operation")
			fmt.Println(m.Name, tenant.AsString(), op.AsString(), p.Value)
		}
	}
	// Output:
	// POST /Users: 201
	// span scim.store.UserByUserName
	// span scim.store.CreateUser
	// span scim.store.RecordEvents
	// span scim.store.Update
	// span scim.POST /Users
	// scim.requests acme create 1
}
