package scim_test

import (
	"context"
	"net/http"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/scimkit/scim"
)

// BenchmarkTelemetry measures what tracing and metrics cost the write
// path: a POST /Users and a PATCH of a user over each store, with the
// providers unset ("off") and set ("on": the OpenTelemetry SDK with a
// batching span processor whose exporter drops the spans, and a meter
// provider whose reader is never collected), in one run:
//
//	go test -run '^$' -bench Telemetry -benchmem .
func BenchmarkTelemetry(b *testing.B) {
	modes := []struct {
		name string
		opt  func(b *testing.B) func(*scim.Config)
	}{
		{"off", func(*testing.B) func(*scim.Config) { return func(*scim.Config) {} }},
		{"on", func(b *testing.B) func(*scim.Config) {
			tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discardSpans{}))
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			b.Cleanup(func() {
				_ = tp.Shutdown(context.Background())
				_ = mp.Shutdown(context.Background())
			})
			return func(cfg *scim.Config) { cfg.TracerProvider, cfg.MeterProvider = tp, mp }
		}},
	}
	ops := []struct {
		name  string
		users int
		op    func(b *testing.B, bh *benchHandler, i int)
	}{
		{"create", 0, func(b *testing.B, bh *benchHandler, i int) {
			bh.serve(b, http.MethodPost, "/Users", oktaUserBody(bh.prefix, i), http.StatusCreated)
		}},
		{"patch", benchUsers, func(b *testing.B, bh *benchHandler, i int) {
			bh.serve(b, http.MethodPatch, "/Users/"+bh.users[i%len(bh.users)], entraPatchBody(i), http.StatusOK)
		}},
	}
	for _, op := range ops {
		b.Run(op.name, func(b *testing.B) {
			for _, s := range benchStores(b) {
				b.Run(s.name, func(b *testing.B) {
					for _, m := range modes {
						b.Run(m.name, func(b *testing.B) {
							bh := newBenchHandler(b, s.open(b), op.users, m.opt(b))
							i := 0
							for b.Loop() {
								op.op(b, bh, i)
								i++
							}
						})
					}
				})
			}
		})
	}
}

// discardSpans is a span exporter that drops what it is given.
type discardSpans struct{}

func (discardSpans) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardSpans) Shutdown(context.Context) error                             { return nil }
