// Command scimload drives a SCIM 2.0 server the way identity providers do
// and reports what each kind of request costs, beside a reference server
// measured in the same run.
//
//	go run ./cmd/scimload [-target memory|sqlite|ref|naive|postgres://…|http://127.0.0.1:8080/scim/v2]
//	                      [-token TOKEN] [-users 10000] [-grow-to 0] [-members 10000] [-c 8]
//	                      [-burst 2000] [-patches 2000] [-import-pages 500] [-phase-time 2m]
//	                      [-ref=true] [-instances 1] [-pool 16] [-json FILE] [-cpuprofile FILE]
//
// The load, in order, on the target and on the reference alike:
//
//   - provision: -users users with Okta's create (GET /Users?filter=userName
//     eq "…"&startIndex=1&count=100, expected empty, then POST with Okta's
//     body: password, externalId, groups []), in rounds of 500;
//   - at 1,000, 10,000 and -users users (and at -grow-to, after a bulk load
//     straight into the store): bursts of userName eq lookups that hit,
//     GET /Users/{id}, and, at -grow-to, 1,000 more creates;
//   - import: Okta's import paging, GET /Users?startIndex=1,101,…&count=100;
//   - patch.entra: Entra ID's user PATCH (capitalised ops, one per
//     attribute, a filtered email path, an enterprise URN path, "False"/"True");
//   - group push: one group filled by PATCH add batches of 100 (concurrent,
//     as Okta sends them) to 1,000 and then -members members, with bursts of
//     add batches and of single removals (members[value eq "id"], no value)
//     at both sizes, and GETs of it and of a 10-member group with and without
//     excludedAttributes=members.
//
// Every phase is bounded by a request count and by -phase-time. Target and
// reference alternate in short rounds, so that noise from other work on the
// machine falls on both; each phase reports the target's rate as a ratio to
// the reference's.
//
// The targets memory, sqlite (a file in a temporary directory) and
// postgres://… run scimkit handlers in this process (-instances of them over
// one database, each with its own pool of -pool connections, requests
// spread round robin as a load balancer would); ref runs the reference
// alone; naive runs a SCIM server written the obvious way on
// github.com/elimity-com/scim (a map, filters answered by scanning, see
// naive.go), to compare with; an http:// URL drives a running server (loopback only) with
// -token. CPU per request is this process's CPU (getrusage): the server's
// and the load generator's when the server runs in-process, the load
// generator's alone otherwise. The in-process handlers run with the
// per-tenant rate and concurrency limits off, and format their request log
// line into io.Discard.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"
)

type options struct {
	target      string
	token       string
	users       int
	growTo      int
	members     int
	clients     int
	burst       int
	patches     int
	importPages int
	phaseTime   time.Duration
	ref         bool
	instances   int
	pool        int
	jsonFile    string
	cpuProfile  string
	logLines    bool
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "scimload:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	var o options
	fs := flag.NewFlagSet("scimload", flag.ContinueOnError)
	fs.StringVar(&o.target, "target", "memory", "memory, sqlite, ref, naive, postgres://… (in-process handlers) or the http:// base URL of a running server on loopback")
	fs.StringVar(&o.token, "token", os.Getenv("SCIM_TOKEN"), "bearer token for an http:// target")
	fs.IntVar(&o.users, "users", 10_000, "users to provision over HTTP (rounded up to a multiple of 1,000)")
	fs.IntVar(&o.growTo, "grow-to", 0, "bulk-load in-process stores to this many users and measure again (0: off)")
	fs.IntVar(&o.members, "members", 10_000, "members of the big group")
	fs.IntVar(&o.clients, "c", 8, "concurrent clients")
	fs.IntVar(&o.burst, "burst", 2000, "requests per measurement burst")
	fs.IntVar(&o.patches, "patches", 2000, "Entra user PATCHes")
	fs.IntVar(&o.importPages, "import-pages", 500, "import pages of 100 (at most the population)")
	fs.DurationVar(&o.phaseTime, "phase-time", 2*time.Minute, "time limit of each phase")
	fs.BoolVar(&o.ref, "ref", true, "measure the reference server interleaved with the target")
	fs.IntVar(&o.instances, "instances", 1, "handler instances over one database (postgres:// only)")
	fs.IntVar(&o.pool, "pool", 16, "database connections per instance (postgres:// only)")
	fs.StringVar(&o.jsonFile, "json", "", "also write the results as JSON to this file")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (servers' samples labelled server=NAME)")
	fs.BoolVar(&o.logLines, "log", true, "in-process handlers format their per-request log line (into io.Discard)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.users < 1000 || o.clients < 1 || o.burst < 10 || o.members < 10 {
		return errors.New("-users must be ≥ 1000, -c ≥ 1, -burst ≥ 10, -members ≥ 10")
	}
	o.users = (o.users + 999) / 1000 * 1000

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
		profiling = true
	}

	target, err := startTarget(ctx, o)
	if err != nil {
		return err
	}
	defer target.close()
	l := &load{clients: o.clients, limit: o.phaseTime, log: stdout}
	l.sides = append(l.sides, newSide(target, o.clients))
	if o.ref && target.name != "ref" {
		refSrv, _, err := startRef(randomToken())
		if err != nil {
			return err
		}
		defer refSrv.close()
		l.sides = append(l.sides, newSide(refSrv, o.clients))
	}

	rep := &report{
		Target: target.name, Instances: len(target.urls), Users: o.users, GrowTo: o.growTo,
		Members: o.members, Clients: o.clients, Burst: o.burst,
		GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(), GoVersion: runtime.Version(),
		CPUModel: cpuModel(), LoadBefore: loadAvg(), Started: time.Now().UTC().Format(time.RFC3339),
		CPUScope: "load tool only (the server runs elsewhere)",
	}
	if target.inProcess {
		rep.CPUScope = "this process: in-process server + load generator"
		rep.CPUInProcess = true
	}
	fmt.Fprintf(stdout, "scimload: target %s (%d instance(s)), %d clients, %d users, big group %d members, load %s\n",
		target.name, len(target.urls), o.clients, o.users, o.members, rep.LoadBefore)

	if err := phases(ctx, l, o); err != nil {
		return err
	}
	rep.LoadAfter = loadAvg()
	rep.build(l)
	rep.print(stdout)
	if o.jsonFile != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(o.jsonFile, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func startTarget(ctx context.Context, o options) (*server, error) {
	switch {
	case o.target == "ref":
		srv, _, err := startRef(randomToken())
		return srv, err
	case o.target == "naive":
		h, err := newNaive()
		if err != nil {
			return nil, err
		}
		u, stop, err := listen("naive", h)
		if err != nil {
			return nil, err
		}
		// elimity's server checks no token: any will do.
		return &server{name: "naive", urls: []string{u}, token: "naive", inProcess: true, close: stop}, nil
	case o.target == "memory", o.target == "sqlite", strings.HasPrefix(o.target, "postgres://"), strings.HasPrefix(o.target, "postgresql://"):
		return startScimkit(ctx, o.target, randomToken(), o.instances, o.pool, o.logLines)
	case strings.HasPrefix(o.target, "http://"), strings.HasPrefix(o.target, "https://"):
		var urls []string
		for _, u := range strings.Split(o.target, ",") {
			if err := loopbackOnly(u); err != nil {
				return nil, err
			}
			urls = append(urls, strings.TrimRight(u, "/"))
		}
		if o.token == "" {
			return nil, errors.New("-token (or SCIM_TOKEN) is required for an http:// target")
		}
		return &server{name: o.target, urls: urls, token: o.token, close: func() {}}, nil
	}
	return nil, fmt.Errorf("-target %q: want memory, sqlite, ref, naive, postgres://… or an http:// URL", o.target)
}

// loopbackOnly refuses URLs that leave the machine: the load is for this
// machine's servers.
func loopbackOnly(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("-target %q: %v", raw, err)
	}
	host := u.Hostname()
	ips, err := net.LookupIP(host)
	if err != nil || len(ips) == 0 {
		return fmt.Errorf("-target %q: cannot resolve %s", raw, host)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("-target %q: %s is not a loopback address; scimload only drives servers on this machine", raw, host)
		}
	}
	return nil
}

func randomToken() string { return "scimload_" + strings.ReplaceAll(newID(), "-", "") }

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// profiling is set when the run writes a CPU profile: the servers then
// label their goroutines' samples (see listen).
var profiling bool

// provisionRound is how many users each side provisions in turn. The
// create windows (1,000 users) are ten rounds a side, so that a burst of
// machine noise or a collection cycle falls on both sides, not on one of
// two rounds.
const provisionRound = 100

// phases runs the whole load.
func phases(ctx context.Context, l *load, o options) error {
	capacity := max(o.users, o.growTo) + 2000
	for _, s := range l.sides {
		s.ids = make([]string, capacity)
	}
	out := l.log
	milestones := []int{1000, 10_000, o.users}

	// Provisioning, with bursts at the milestones.
	fmt.Fprintf(out, "provision: %d users (Okta lookup + POST)\n", o.users)
	deadline := time.Now().Add(o.phaseTime * 4)
	pop := 0
	for _, m := range milestones {
		if m <= pop || m > o.users {
			continue
		}
		for pop < m {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			end := min(pop+500, m)
			l.interleave(pop, end, provisionRound, func(s *side, i int) {
				sts := []*stat{s.stat("provision")}
				if i < 500 {
					sts = append(sts, s.stat("provision.first500"))
				}
				if i >= 1000 && i < 2000 {
					sts = append(sts, s.stat("create@1k"))
				}
				if i >= o.users-1000 {
					sts = append(sts, s.stat("create@"+size(o.users)))
				}
				if i >= o.users-500 {
					sts = append(sts, s.stat("provision.last500"))
				}
				s.provisionUser(i, sts)
			})
			pop = end
			if time.Now().After(deadline) {
				fmt.Fprintf(out, "  provisioning stopped at %d users: time limit\n", pop)
				o.users = pop
				break
			}
		}
		if pop < m {
			break
		}
		if err := analyze(ctx, l); err != nil {
			return err
		}
		bursts(l, o, pop)
	}

	if o.growTo > pop {
		if !allSeedable(l) {
			fmt.Fprintln(out, "grow-to: skipped (the target is not in-process)")
		} else {
			fmt.Fprintf(out, "grow-to: bulk-loading %d users straight into the stores\n", o.growTo-pop)
			for start := pop; start < o.growTo; start += 10_000 {
				end := min(start+10_000, o.growTo)
				docs := make([]map[string]any, 0, end-start)
				for i := start; i < end; i++ {
					d := oktaUser(i)
					delete(d, "password")
					delete(d, "groups")
					docs = append(docs, d)
				}
				for _, s := range l.sides {
					ids, err := s.srv.seed(ctx, docs)
					if err != nil {
						return fmt.Errorf("bulk load: %w", err)
					}
					copy(s.ids[start:end], ids)
				}
				if ctx.Err() != nil {
					return ctx.Err()
				}
			}
			pop = o.growTo
			// The bulk load's garbage is collected before measuring: the
			// first collection after it marks the grown heap whole, a cost
			// of the loading (a server that has run a while has paid it),
			// which would otherwise fall on whichever phase runs then.
			runtime.GC()
			if err := analyze(ctx, l); err != nil {
				return err
			}
			fmt.Fprintf(out, "create@%s: 1000 more users\n", size(pop))
			l.interleave(pop, pop+1000, provisionRound, func(s *side, i int) {
				s.provisionUser(i, []*stat{s.stat("create@" + size(pop))})
			})
			bursts(l, o, pop)
			pop += 1000
		}
	}

	// Import.
	pages := min(o.importPages, pop/100)
	fmt.Fprintf(out, "import: %d pages of 100\n", pages)
	l.interleave(0, pages, max(10, pages/10), func(s *side, i int) {
		s.do([]*stat{s.stat("import")}, http.MethodGet, fmt.Sprintf("/Users?startIndex=%d&count=100", i*100+1), nil, uaOkta, http.StatusOK)
		s.stat("import").addOps(1)
	})

	// Entra user PATCHes.
	fmt.Fprintf(out, "patch.entra: %d PATCHes\n", o.patches)
	l.interleave(0, o.patches, max(10, o.patches/10), func(s *side, i int) {
		st := []*stat{s.stat("patch.entra")}
		j := pick(i, pop)
		s.do(st, http.MethodPatch, "/Users/"+url.PathEscape(s.ids[j]), entraPatch(i), uaEntra, http.StatusOK, http.StatusNoContent)
		st[0].addOps(1)
	})

	return groupPush(ctx, l, o, pop)
}

// analyze refreshes the planner statistics of the servers that need it
// (PostgreSQL without autovacuum, see loadSchema), at a milestone, as
// autovacuum would have by then.
func analyze(ctx context.Context, l *load) error {
	for _, s := range l.sides {
		if s.srv.analyze == nil {
			continue
		}
		start := time.Now()
		if err := s.srv.analyze(ctx); err != nil {
			return err
		}
		fmt.Fprintf(l.log, "  %s: ANALYZE in %v (the server's autovacuum is off)\n", s.srv.name, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

func allSeedable(l *load) bool {
	for _, s := range l.sides {
		if s.srv.seed == nil {
			return false
		}
	}
	return true
}

// pick spreads i over [0, n) in a fixed pseudo-random order.
func pick(i, n int) int { return int((uint64(i)*2654435761 + 12345) % uint64(n)) }

// size names a population or group size: 1k, 10k, 1M.
func size(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// bursts measures lookups and GETs at the current population.
func bursts(l *load, o options, pop int) {
	fmt.Fprintf(l.log, "  @%s users: %d userName eq lookups, %d GET /Users/{id}\n", size(pop), o.burst, o.burst)
	name := "lookup@" + size(pop)
	l.interleave(0, o.burst, o.burst/10, func(s *side, i int) {
		st := []*stat{s.stat(name)}
		un := userName(pick(i, pop))
		b, ok := s.do(st, http.MethodGet, lookupPath(un), nil, uaOkta, http.StatusOK)
		if ok && !strings.Contains(string(b), `"totalResults":1`) {
			st[0].fail("lookup of " + un + " did not find exactly one user")
		}
		st[0].addOps(1)
	})
	get := "get@" + size(pop)
	l.interleave(0, o.burst, o.burst/10, func(s *side, i int) {
		st := []*stat{s.stat(get)}
		s.do(st, http.MethodGet, "/Users/"+url.PathEscape(s.ids[pick(i, pop)]), nil, uaOkta, http.StatusOK)
		st[0].addOps(1)
	})
}

func entraPatch(i int) []byte {
	active := "False"
	if i%2 == 1 {
		active = "True"
	}
	ops := []map[string]any{
		{"op": "Replace", "path": "displayName", "value": fmt.Sprintf("Renamed %d", i)},
		{"op": "Replace", "path": "name.familyName", "value": fmt.Sprintf("Family-%d", i)},
		{"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": fmt.Sprintf("Dept %d", i%17)},
		{"op": "Replace", "path": "title", "value": "Engineer"},
		{"op": "Replace", "path": "active", "value": active},
	}
	b, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": ops})
	return b
}

func addMembersBody(s *side, from, to int) []byte {
	members := make([]map[string]any, 0, to-from)
	for i := from; i < to; i++ {
		members = append(members, map[string]any{"value": s.ids[i], "display": userName(i)})
	}
	b, _ := json.Marshal(map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []any{map[string]any{"op": "add", "path": "members", "value": members}},
	})
	return b
}

func removeMemberBody(id string) []byte {
	b, _ := json.Marshal(map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []any{map[string]any{"op": "remove", "path": `members[value eq "` + id + `"]`}},
	})
	return b
}

// groupPush fills one group with batches of 100 to 1,000 and then to
// -members members, measuring adds and single removals at both sizes, and
// GETs of it and of a 10-member group.
func groupPush(ctx context.Context, l *load, o options, pop int) error {
	out := l.log
	const batch = 100
	k := max(5, o.burst/100) // add batches per burst
	removals := max(20, o.burst/10)
	m := o.members
	if m/batch+k > pop/batch {
		m = (pop/batch - k) * batch
		fmt.Fprintf(out, "group push: -members lowered to %d (population %d)\n", m, pop)
	}
	if m < 1000 {
		fmt.Fprintln(out, "group push: skipped (population too small)")
		return nil
	}
	for _, s := range l.sides {
		for _, g := range []struct {
			name string
			id   *string
		}{{"load-big", &s.bigGroup}, {"load-small", &s.smallGroup}} {
			body, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": g.name, "members": []any{}})
			b, ok := s.do([]*stat{s.stat("group.create")}, http.MethodPost, "/Groups", body, uaOkta, http.StatusCreated)
			var created struct {
				ID string `json:"id"`
			}
			if !ok || json.Unmarshal(b, &created) != nil || created.ID == "" {
				return fmt.Errorf("%s: POST /Groups failed: %s", s.srv.name, s.stat("group.create").firstErr)
			}
			*g.id = created.ID
		}
		s.do([]*stat{s.stat("group.create")}, http.MethodPatch, "/Groups/"+url.PathEscape(s.smallGroup), addMembersBody(s, 0, 10), uaOkta, http.StatusOK, http.StatusNoContent)
	}
	add := func(name string, from, to int) {
		if ctx.Err() != nil {
			return
		}
		l.interleave(from, to, max(5, (to-from)/10), func(s *side, i int) {
			st := []*stat{s.stat(name)}
			s.do(st, http.MethodPatch, "/Groups/"+url.PathEscape(s.bigGroup), addMembersBody(s, i*batch, (i+1)*batch), uaOkta, http.StatusOK, http.StatusNoContent)
			st[0].addOps(1)
		})
	}
	remove := func(name string, from int) {
		if ctx.Err() != nil {
			return
		}
		l.interleave(from, from+removals, max(5, removals/10), func(s *side, i int) {
			st := []*stat{s.stat(name)}
			s.do(st, http.MethodPatch, "/Groups/"+url.PathEscape(s.bigGroup), removeMemberBody(s.ids[i]), uaOkta, http.StatusOK, http.StatusNoContent)
			st[0].addOps(1)
		})
	}
	getGroup := func(name string, small bool, exclude bool, n int) {
		if ctx.Err() != nil {
			return
		}
		l.interleave(0, n, max(1, n/10), func(s *side, i int) {
			st := []*stat{s.stat(name)}
			id := s.bigGroup
			if small {
				id = s.smallGroup
			}
			path := "/Groups/" + url.PathEscape(id)
			if exclude {
				path += "?excludedAttributes=members"
			}
			s.do(st, http.MethodGet, path, nil, uaOkta, http.StatusOK)
			st[0].addOps(1)
		})
	}

	fmt.Fprintf(out, "group push: fill to 1k, %d add batches and %d removals at 1k, fill to %s, the same at %s\n", k, removals, size(m), size(m))
	add("group.fill", 0, 1000/batch)
	add("group.add@1k", 1000/batch, 1000/batch+k)
	remove("group.remove@1k", 1000)
	add("group.fill", 1000/batch+k, m/batch)
	add("group.add@"+size(m), m/batch, m/batch+k)
	remove("group.remove@"+size(m), m)
	getGroup("group.get-excl@10", true, true, o.burst)
	getGroup("group.get-excl@"+size(m), false, true, o.burst)
	getGroup("group.get@10", true, false, o.burst)
	getGroup("group.get@"+size(m), false, false, max(10, min(o.burst, 2_000_000/m)))
	return ctx.Err()
}
