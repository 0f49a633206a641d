package main

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// newMetrics returns the meter provider the demo gives its SCIM handler
// (scim.Config.MeterProvider) and the handler of GET /metrics, which
// answers what it measured in the Prometheus text format (version 0.0.4).
//
// The demo writes that format itself from the SDK's ManualReader rather
// than use OpenTelemetry's Prometheus exporter, which would bring the
// Prometheus client library and its dependencies into the module for a
// hundred lines' worth of text.
func newMetrics() (*sdkmetric.MeterProvider, http.Handler) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	return mp, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(r.Context(), &rm); err != nil {
			http.Error(w, "could not collect the metrics", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		bw := bufio.NewWriter(w)
		writePrometheus(bw, &rm)
		_ = bw.Flush()
	})
}

// shutdownMetrics stops the meter provider.
func shutdownMetrics(mp *sdkmetric.MeterProvider) { _ = mp.Shutdown(context.Background()) }

// writePrometheus writes rm in the Prometheus text format: a metric's dots
// become underscores, a unit of seconds adds _seconds, a monotonic sum is
// a counter named …_total, a histogram has its cumulative _bucket series,
// _sum and _count. Families and series are sorted, so that the text is the
// same for the same measurements.
func writePrometheus(w *bufio.Writer, rm *metricdata.ResourceMetrics) {
	var metrics []metricdata.Metrics
	for _, sm := range rm.ScopeMetrics {
		metrics = append(metrics, sm.Metrics...)
	}
	sort.SliceStable(metrics, func(i, j int) bool { return metrics[i].Name < metrics[j].Name })
	for _, m := range metrics {
		name := promName(m.Name)
		if m.Unit == "s" {
			name += "_seconds"
		}
		var typ string
		var lines []string
		switch d := m.Data.(type) {
		case metricdata.Sum[int64]:
			typ, name, lines = sumFamily(name, d.IsMonotonic, d.DataPoints)
		case metricdata.Sum[float64]:
			typ, name, lines = sumFamily(name, d.IsMonotonic, d.DataPoints)
		case metricdata.Gauge[int64]:
			typ, lines = "gauge", series(name, d.DataPoints)
		case metricdata.Gauge[float64]:
			typ, lines = "gauge", series(name, d.DataPoints)
		case metricdata.Histogram[float64]:
			typ = "histogram"
			points := slices.Clone(d.DataPoints)
			slices.SortFunc(points, func(a, b metricdata.HistogramDataPoint[float64]) int {
				return strings.Compare(promLabels(a.Attributes), promLabels(b.Attributes))
			})
			for _, p := range points {
				labels := promLabels(p.Attributes)
				var cum uint64
				for i, bound := range p.Bounds {
					cum += p.BucketCounts[i]
					lines = append(lines, name+"_bucket"+withLabel(labels, "le", formatFloat(bound))+" "+strconv.FormatUint(cum, 10))
				}
				lines = append(lines,
					name+"_bucket"+withLabel(labels, "le", "+Inf")+" "+strconv.FormatUint(p.Count, 10),
					name+"_sum"+labels+" "+formatFloat(p.Sum),
					name+"_count"+labels+" "+strconv.FormatUint(p.Count, 10))
			}
		default:
			continue // the handler records no other kind
		}
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, escapeHelp(m.Description), name, typ)
		if typ != "histogram" {
			sort.Strings(lines) // a histogram's are in order, series by series
		}
		for _, l := range lines {
			w.WriteString(l)
			w.WriteByte('\n')
		}
	}
}

// sumFamily is the type, the name and the series of a sum: a counter
// named …_total when monotonic, a gauge otherwise.
func sumFamily[N int64 | float64](name string, monotonic bool, points []metricdata.DataPoint[N]) (string, string, []string) {
	if monotonic {
		name += "_total"
		return "counter", name, series(name, points)
	}
	return "gauge", name, series(name, points)
}

func series[N int64 | float64](name string, points []metricdata.DataPoint[N]) []string {
	out := make([]string, 0, len(points))
	for _, p := range points {
		out = append(out, name+promLabels(p.Attributes)+" "+formatFloat(float64(p.Value)))
	}
	return out
}

// promName is name with every character Prometheus does not allow in a
// metric or label name replaced by an underscore.
func promName(name string) string {
	var b strings.Builder
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_', r == ':', r >= '0' && r <= '9' && i > 0:
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// promLabels is "{k="v",…}" for the attributes (sorted by key, as a set
// keeps them), or "" for none.
func promLabels(set attribute.Set) string {
	if set.Len() == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, kv := range set.ToSlice() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(promName(string(kv.Key)))
		b.WriteString(`="`)
		b.WriteString(escapeLabel(kv.Value.Emit()))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// withLabel adds the label k="v" to labels ("" or "{…}").
func withLabel(labels, k, v string) string {
	l := k + `="` + escapeLabel(v) + `"`
	if labels == "" {
		return "{" + l + "}"
	}
	return labels[:len(labels)-1] + "," + l + "}"
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }
func escapeHelp(s string) string  { return helpEscaper.Replace(s) }

// formatFloat writes v as Prometheus reads it: +Inf, -Inf and NaN by
// name, other values in Go's shortest form.
func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
