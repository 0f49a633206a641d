package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// report is what a run prints and writes as JSON.
type report struct {
	Target     string `json:"target"`
	Instances  int    `json:"instances"`
	Users      int    `json:"users"`
	GrowTo     int    `json:"grow_to,omitempty"`
	Members    int    `json:"members"`
	Clients    int    `json:"clients"`
	Burst      int    `json:"burst"`
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	CPUs       int    `json:"cpus"`
	CPUModel   string `json:"cpu_model"`
	GoVersion  string `json:"go_version"`
	Started    string `json:"started"`
	LoadBefore string `json:"loadavg_before"`
	LoadAfter  string `json:"loadavg_after"`
	CPUScope   string `json:"cpu_scope"`
	// CPUInProcess reports that CPU time includes the server's.
	CPUInProcess bool    `json:"cpu_in_process"`
	Phases       []row   `json:"phases"`
	Growth       []ratio `json:"growth"`
	Targets      []check `json:"targets"`
}

// row is one phase on one side.
type row struct {
	Phase     string  `json:"phase"`
	Side      string  `json:"side"` // "target" or "ref"
	Requests  int     `json:"requests"`
	Ops       int     `json:"ops"`
	Seconds   float64 `json:"seconds"`
	ReqPerSec float64 `json:"req_per_s"`
	OpsPerSec float64 `json:"ops_per_s"`
	P50ms     float64 `json:"p50_ms"`
	P95ms     float64 `json:"p95_ms"`
	P99ms     float64 `json:"p99_ms"`
	Errors    int     `json:"errors"`
	Status5xx int     `json:"status_5xx"`
	FirstErr  string  `json:"first_error,omitempty"`
	CPUusReq  float64 `json:"cpu_us_per_req"`
	// VsRef is the target's req/s divided by the reference's, same phase.
	VsRef float64 `json:"vs_ref,omitempty"`
}

// ratio compares the cost (time per operation at the same concurrency) of
// one phase with another on the target.
type ratio struct {
	Name string `json:"name"`
	Of   string `json:"of"`
	Over string `json:"over"`
	// Value is Wall/RefWall when the reference ran, else CPU when
	// measured, else Wall.
	Value float64 `json:"value"`
	// CPU is cpu(of)/cpu(over) per operation, when the server is in-process.
	CPU float64 `json:"cpu,omitempty"`
	// Wall is the ratio of wall time per operation at the same concurrency.
	Wall float64 `json:"wall"`
	// RefWall is Wall on the reference server.
	RefWall float64 `json:"ref_wall,omitempty"`
}

// check is one of the targets of docs/performance.md, evaluated on this run.
type check struct {
	Target   string  `json:"target"`
	Measured string  `json:"measured"`
	Value    float64 `json:"value"`
	Pass     bool    `json:"pass"`
}

func rowOf(st *stat, side string) row {
	r := row{Phase: st.name, Side: side, Requests: st.requests, Ops: st.ops, Seconds: st.elapsed.Seconds(),
		Errors: st.errors, Status5xx: st.status5xx, FirstErr: st.firstErr}
	if s := st.elapsed.Seconds(); s > 0 {
		r.ReqPerSec = float64(st.requests) / s
		r.OpsPerSec = float64(st.ops) / s
	}
	if st.requests > 0 {
		r.CPUusReq = float64(st.cpu.Microseconds()) / float64(st.requests)
	}
	lat := slices.Clone(st.lat)
	slices.Sort(lat)
	q := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	r.P50ms, r.P95ms, r.P99ms = q(0.50), q(0.95), q(0.99)
	return r
}

func (rep *report) build(l *load) {
	target := l.sides[0]
	var ref *side
	if len(l.sides) > 1 {
		ref = l.sides[1]
	}
	byName := map[string]row{}
	refByName := map[string]row{}
	for _, name := range target.order {
		r := rowOf(target.stats[name], "target")
		if ref != nil {
			if st := ref.stats[name]; st != nil {
				rr := rowOf(st, "ref")
				refByName[name] = rr
				if rr.ReqPerSec > 0 {
					r.VsRef = r.ReqPerSec / rr.ReqPerSec
				}
			}
		}
		byName[name] = r
		rep.Phases = append(rep.Phases, r)
	}
	if ref != nil {
		for _, name := range ref.order {
			rep.Phases = append(rep.Phases, rowOf(ref.stats[name], "ref"))
		}
	}

	// Growth: on a shared machine the wall time of a phase measured
	// minutes after another moves with whatever else runs. With the
	// reference interleaved, the target's wall-time growth is divided by the
	// reference's; without it, CPU per operation (in-process) or wall time
	// is used. All three are reported.
	cost := func(rows map[string]row, name string) (cpu, wall float64, ok bool) {
		r, ok := rows[name]
		if !ok || r.Ops == 0 {
			return 0, 0, false
		}
		return r.CPUusReq * float64(r.Requests) / float64(r.Ops), r.Seconds / float64(r.Ops), true
	}
	grow := func(label, of, over string) {
		ca, wa, ok1 := cost(byName, of)
		cb, wb, ok2 := cost(byName, over)
		if !ok1 || !ok2 || of == over || wb == 0 {
			return
		}
		g := ratio{Name: label, Of: of, Over: over, Wall: wa / wb, Value: wa / wb}
		if rep.CPUInProcess && cb > 0 {
			g.CPU = ca / cb
			g.Value = g.CPU
		}
		if _, rwa, ok := cost(refByName, of); ok {
			if _, rwb, ok := cost(refByName, over); ok && rwb > 0 {
				g.RefWall = rwa / rwb
				// The reference answers every phase with a map access:
				// what it grows by is the machine's and the process
				// heap's doing, shared by the target (interleaved, in the
				// same process), and divided out.
				g.Value = g.Wall / g.RefWall
			}
		}
		rep.Growth = append(rep.Growth, g)
	}
	big := "@" + size(rep.Users)
	if rep.GrowTo > rep.Users {
		big = "@" + size(rep.GrowTo)
	}
	m := ""
	for _, r := range rep.Phases {
		if strings.HasPrefix(r.Phase, "group.add@") && r.Phase != "group.add@1k" {
			m = strings.TrimPrefix(r.Phase, "group.add@")
		}
	}
	grow("lookup 10k vs 1k", "lookup@10k", "lookup@1k")
	grow("lookup N vs 10k", "lookup"+big, "lookup@10k")
	grow("lookup N vs 1k", "lookup"+big, "lookup@1k")
	grow("get N vs 1k", "get"+big, "get@1k")
	grow("create N vs 1k", "create"+big, "create@1k")
	grow("provision last 500 vs first 500", "provision.last500", "provision.first500")
	if m != "" {
		grow("group add M vs 1k members", "group.add@"+m, "group.add@1k")
		grow("group remove M vs 1k members", "group.remove@"+m, "group.remove@1k")
		grow("group GET excl. members M vs 10", "group.get-excl@"+m, "group.get-excl@10")
	}

	// The targets of docs/performance.md that one run can judge.
	growth := map[string]float64{}
	for _, g := range rep.Growth {
		growth[g.Name] = g.Value
	}
	addCheck := func(target, measured string, v float64, pass bool) {
		rep.Targets = append(rep.Targets, check{Target: target, Measured: measured, Value: v, Pass: pass})
	}
	memory := rep.Target == "memory"
	if r, ok := byName["get"+big]; ok && r.VsRef > 0 && memory {
		addCheck("GET /Users/{id} ≥ 75% of reference req/s (memory)", fmt.Sprintf("%.0f%% at %s users", 100*r.VsRef, big[1:]), r.VsRef, r.VsRef >= 0.75)
	}
	if r, ok := byName["lookup"+big]; ok && r.VsRef > 0 && memory {
		addCheck("userName eq lookup ≥ 50% of reference req/s (memory)", fmt.Sprintf("%.0f%% at %s users", 100*r.VsRef, big[1:]), r.VsRef, r.VsRef >= 0.5)
	}
	if v, ok := growth["lookup N vs 10k"]; ok {
		addCheck("lookup at N ≤ 1.5× lookup at 10k", fmt.Sprintf("×%.2f (%s vs 10k)", v, big[1:]), v, v <= 1.5)
	}
	if v, ok := growth["create N vs 1k"]; ok {
		addCheck("create at N ≤ 1.5× create at 1k", fmt.Sprintf("×%.2f (%s vs 1k)", v, big[1:]), v, v <= 1.5)
	}
	if v, ok := growth["group add M vs 1k members"]; ok {
		addCheck("add 100 members at M ≤ 1.5× at 1k", fmt.Sprintf("×%.2f (%s vs 1k)", v, m), v, v <= 1.5)
	}
	if v, ok := growth["group remove M vs 1k members"]; ok {
		addCheck("single removal the same at any size (≤ 1.5×)", fmt.Sprintf("×%.2f (%s vs 1k)", v, m), v, v <= 1.5)
	}
	if v, ok := growth["group GET excl. members M vs 10"]; ok {
		addCheck("GET group excludedAttributes=members at M ≤ 1.2× at 10", fmt.Sprintf("×%.2f (%s vs 10)", v, m), v, v <= 1.2)
	}
	if r, ok := byName["provision"]; ok {
		want := 1500.0 // SQLite; the issue sets none for other stores
		if memory {
			want = 5000
		}
		addCheck(fmt.Sprintf("provisioning ≥ %.0f users/s with %d clients", want, rep.Clients), fmt.Sprintf("%.0f users/s", r.OpsPerSec), r.OpsPerSec, r.OpsPerSec >= want)
	}
	if v, ok := growth["provision last 500 vs first 500"]; ok {
		addCheck("provisioning flat from first to last user (≤ 1.5×)", fmt.Sprintf("×%.2f (last 500 vs first 500)", v), v, v <= 1.5)
	}
	n5xx := 0
	for _, r := range rep.Phases {
		if r.Side == "target" {
			n5xx += r.Status5xx
		}
	}
	addCheck("no 5xx in any phase", fmt.Sprintf("%d", n5xx), float64(n5xx), n5xx == 0)
}

func (rep *report) print(w io.Writer) {
	fmt.Fprintf(w, "\n%s (%d instance(s)) on %s, %d CPUs, %s; load avg before %s, after %s\n",
		rep.Target, rep.Instances, rep.CPUModel, rep.CPUs, rep.GoVersion, rep.LoadBefore, rep.LoadAfter)
	fmt.Fprintf(w, "cpu/req: %s\n\n", rep.CPUScope)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\treqs\treq/s\tops/s\tp50 ms\tp95 ms\tp99 ms\terrors\t5xx\tcpu µs/req\tref req/s\tvs ref\t")
	refRows := map[string]row{}
	for _, r := range rep.Phases {
		if r.Side == "ref" {
			refRows[r.Phase] = r
		}
	}
	for _, r := range rep.Phases {
		if r.Side != "target" {
			continue
		}
		refRate, vs := "-", "-"
		if rr, ok := refRows[r.Phase]; ok {
			refRate = fmt.Sprintf("%.0f", rr.ReqPerSec)
			vs = fmt.Sprintf("%.2f", r.VsRef)
		}
		flag := ""
		if r.Status5xx > 0 {
			flag = " !5xx"
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.0f\t%.2f\t%.2f\t%.2f\t%d%s\t%d\t%.0f\t%s\t%s\t\n",
			r.Phase, r.Requests, r.ReqPerSec, r.OpsPerSec, r.P50ms, r.P95ms, r.P99ms, r.Errors, flag, r.Status5xx, r.CPUusReq, refRate, vs)
	}
	tw.Flush()
	for _, r := range rep.Phases {
		if r.FirstErr != "" {
			fmt.Fprintf(w, "first error in %s (%s): %s\n", r.Phase, r.Side, r.FirstErr)
		}
	}
	if len(rep.Growth) > 0 {
		fmt.Fprintln(w, "\ngrowth (cost per operation on the target; value = wall / ref wall with the reference, else cpu in-process, else wall):")
		fmt.Fprintf(w, "  %-34s %7s %7s %7s %7s\n", "", "value", "cpu", "wall", "ref wall")
		for _, g := range rep.Growth {
			fmt.Fprintf(w, "  %-34s %7s %7s %7s %7s  (%s / %s)\n", g.Name, times(g.Value), times(g.CPU), times(g.Wall), times(g.RefWall), g.Of, g.Over)
		}
	}
	fmt.Fprintln(w, "\ntargets:")
	for _, c := range rep.Targets {
		verdict := "MISS"
		if c.Pass {
			verdict = "pass"
		}
		fmt.Fprintf(w, "  %-4s %-58s %s\n", verdict, c.Target, c.Measured)
	}
}

func times(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("×%.2f", v)
}
