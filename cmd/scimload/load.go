package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// stat accumulates one phase on one side.
type stat struct {
	name string

	mu        sync.Mutex
	lat       []time.Duration
	requests  int
	ops       int
	errors    int
	status5xx int
	firstErr  string
	run       uint64 // the last run that touched it

	elapsed time.Duration // wall time of the runs that touched it
	cpu     time.Duration // process CPU of those runs
}

func (st *stat) record(d time.Duration, ok bool, status int, detail string, run uint64) {
	st.mu.Lock()
	st.lat = append(st.lat, d)
	st.requests++
	st.run = run
	if !ok {
		st.errors++
		if st.firstErr == "" {
			st.firstErr = detail
		}
	}
	if status >= 500 {
		st.status5xx++
	}
	st.mu.Unlock()
}

// side is one server under load with everything the load knows about it.
type side struct {
	srv    *server
	client *http.Client
	rr     atomic.Uint64
	run    uint64

	ids        []string // user ids by user index
	bigGroup   string
	smallGroup string

	statsMu sync.Mutex // stat is called from the load's goroutines
	stats   map[string]*stat
	order   []string
}

func newSide(srv *server, clients int) *side {
	tr := &http.Transport{
		MaxIdleConns:        4 * clients,
		MaxIdleConnsPerHost: 2 * clients,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &side{srv: srv, client: &http.Client{Transport: tr, Timeout: 90 * time.Second}, stats: map[string]*stat{}}
}

func (s *side) stat(name string) *stat {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	st := s.stats[name]
	if st == nil {
		st = &stat{name: name}
		s.stats[name] = st
		s.order = append(s.order, name)
	}
	if profiling {
		if p := currentPhase.Load(); p == nil || *p != name {
			currentPhase.Store(&st.name)
		}
	}
	return st
}

const (
	uaOkta  = "Okta SCIM Client 1.0.0"
	uaEntra = "Microsoft Azure AD SCIM Client"
)

// do sends one request and records it in st. want lists the statuses that
// count as success. It returns the body when the request succeeded.
func (s *side) do(sts []*stat, method, path string, body []byte, ua string, want ...int) ([]byte, bool) {
	base := s.srv.urls[int(s.rr.Add(1)%uint64(len(s.srv.urls)))]
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		panic(err) // paths are built by the tool
	}
	req.Header.Set("Authorization", "Bearer "+s.srv.token)
	req.Header.Set("Accept", "application/scim+json")
	req.Header.Set("User-Agent", ua)
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	start := time.Now()
	resp, err := s.client.Do(req)
	var out []byte
	status := 0
	if err == nil {
		out, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		status = resp.StatusCode
	}
	d := time.Since(start)
	ok := err == nil && slices.Contains(want, status)
	detail := ""
	if !ok {
		if err != nil {
			detail = method + " " + path + ": " + err.Error()
		} else {
			detail = fmt.Sprintf("%s %s: %d %s", method, path, status, truncate(string(out), 200))
		}
	}
	for _, st := range sts {
		st.record(d, ok, status, detail, s.run)
	}
	return out, ok
}

// fail records a response that had the right status and the wrong content.
func (st *stat) fail(detail string) {
	st.mu.Lock()
	st.errors++
	if st.firstErr == "" {
		st.firstErr = detail
	}
	st.mu.Unlock()
}

func (st *stat) addOps(n int) {
	st.mu.Lock()
	st.ops += n
	st.mu.Unlock()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// cpuTime is the CPU time (user + system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runOn calls op for i in [from, to) from c goroutines and charges the wall
// and CPU time to every stat op touched. It stops early past deadline.
func (s *side) runOn(c, from, to int, deadline time.Time, op func(s *side, i int)) {
	s.run++
	next := atomic.Int64{}
	next.Store(int64(from))
	start, cpu0 := time.Now(), cpuTime()
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= to || time.Now().After(deadline) {
					return
				}
				op(s, i)
			}
		})
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	for _, st := range s.stats {
		if st.run == s.run {
			st.elapsed += elapsed
			st.cpu += cpu
		}
	}
}

// load drives the sides, interleaving them round by round.
type load struct {
	sides   []*side // sides[0] is the target, sides[1] (if any) the reference
	clients int
	limit   time.Duration
	log     io.Writer
}

// interleave runs op for i in [from, to) on every side, in rounds of round
// indexes, alternating which side goes first so that machine noise falls
// on both. It stops after the round that passes the time limit.
func (l *load) interleave(from, to, round int, op func(s *side, i int)) int {
	deadline := time.Now().Add(l.limit)
	done := from
	for r := from; r < to; r += round {
		end := min(r+round, to)
		for k := range l.sides {
			s := l.sides[(k+r/round)%len(l.sides)]
			s.runOn(l.clients, r, end, deadline, op)
		}
		done = end
		if time.Now().After(deadline) {
			fmt.Fprintf(l.log, "  time limit reached after %d of %d\n", done-from, to-from)
			break
		}
	}
	return done
}

// Request bodies, as the IdPs send them.

func userName(i int) string { return fmt.Sprintf("user%07d@load.example.com", i) }

// oktaUser is Okta's POST /Users body.
func oktaUser(i int) map[string]any {
	name := userName(i)
	return map[string]any{
		"schemas":     []any{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName":    name,
		"name":        map[string]any{"givenName": "Given" + strconv.Itoa(i), "familyName": "Family" + strconv.Itoa(i)},
		"emails":      []any{map[string]any{"primary": true, "value": name, "type": "work"}, map[string]any{"primary": false, "value": "home" + strconv.Itoa(i) + "@example.org", "type": "home"}},
		"displayName": "Given" + strconv.Itoa(i) + " Family" + strconv.Itoa(i),
		"locale":      "en-US",
		"externalId":  "00u" + strconv.Itoa(1_000_000_000+i),
		"password":    "Pa55-" + strconv.Itoa(i*7919),
		"active":      true,
		"groups":      []any{},
	}
}

func lookupPath(name string) string {
	return "/Users?filter=" + url.QueryEscape(`userName eq "`+name+`"`) + "&startIndex=1&count=100"
}

// provisionUser is Okta's create: the userName eq lookup (expected
// empty), then the POST. Each request is recorded in every stat given.
func (s *side) provisionUser(i int, sts []*stat) {
	name := userName(i)
	b, ok := s.do(sts, http.MethodGet, lookupPath(name), nil, uaOkta, http.StatusOK)
	if ok && !bytes.Contains(b, []byte(`"totalResults":0`)) {
		failAll(sts, "pre-create lookup of "+name+" found a user")
	}
	body, _ := json.Marshal(oktaUser(i))
	b, ok = s.do(sts, http.MethodPost, "/Users", body, uaOkta, http.StatusCreated)
	if ok {
		var created struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(b, &created) != nil || created.ID == "" {
			failAll(sts, "POST /Users answered no id")
		}
		s.ids[i] = created.ID
	}
	for _, st := range sts {
		st.addOps(1)
	}
}

func failAll(sts []*stat, detail string) {
	for _, st := range sts {
		st.fail(detail)
	}
}

// newID returns a random time-ordered UUID (version 7), as the handler's
// default generator does.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	ms := uint64(time.Now().UnixMilli())
	for k := range 6 {
		b[k] = byte(ms >> (40 - 8*k))
	}
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
