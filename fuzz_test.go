package scim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
	"github.com/scimkit/scim/store/memory"
)

// Fixture ids of FuzzHandler: the handler numbers resources id-0001, …
// in the order the fixture creates them.
const (
	fuzzAda   = "id-0001" // acme, provisioned, in fuzzTeam
	fuzzBob   = "id-0002" // acme, provisioned, inactive
	fuzzTeam  = "id-0003" // acme group with ada
	fuzzOther = "id-0004" // tenant other's user
	fuzzOwner = "app-owner"
)

// handlerSeeds are requests as identity providers send them:
// method, path with query, body, If-Match, and flags (see fuzzRequest).
var handlerSeeds = []struct {
	method, path, body, ifMatch string
	flags                       uint8
}{
	// Okta: connection test, import, create, profile push, deactivate,
	// group push.
	{"GET", "/Users?startIndex=1&count=2", "", "", 0},
	{"GET", "/Groups?startIndex=1&count=100", "", "", 0},
	{"GET", "/Users?filter=userName+eq+%22ada%40acme.test%22&startIndex=1&count=100", "", "", 0},
	{"POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"isaac@acme.test","name":{"givenName":"Isaac","familyName":"Brock"},"emails":[{"primary":true,"value":"isaac@acme.test","type":"work"}],"displayName":"Isaac Brock","externalId":"00ujl29u0le5T6Aj10h7","groups":[],"password":"1mz050nq","active":true}`, "", 0},
	{"PUT", "/Users/" + fuzzAda, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"` + fuzzAda + `","userName":"ada@acme.test","name":{"givenName":"Ada","familyName":"L"},"active":true,"meta":{"resourceType":"User"}}`, `W/"1"`, 0},
	{"PATCH", "/Users/" + fuzzAda, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`, "", 0},
	{"POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Test SCIMv2","members":[]}`, "", 0},
	{"PATCH", "/Groups/" + fuzzTeam, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"` + fuzzBob + `","display":"bob"}]}]}`, "", 0},
	{"PATCH", "/Groups/" + fuzzTeam, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"` + fuzzAda + `\"]"}]}`, "", 0},
	{"PATCH", "/Groups/" + fuzzTeam, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"id":"` + fuzzTeam + `","displayName":"Renamed"}}]}`, "", 0},
	{"DELETE", "/Groups/" + fuzzTeam, "", "", 0},
	// Entra: random-GUID probe, capitalised ops, string booleans,
	// member removal by value list, group lookup without members.
	{"GET", "/Users?filter=userName+eq+%228d1b1e4f-6c1b-4b1a-9a6e-3c1e5a2f7d10%22", "", "", 0},
	{"GET", "/Users?filter=emails%5Btype+eq+%22work%22%5D.value+eq+%22ada%40acme.test%22", "", "", 0},
	{"PATCH", "/Users/" + fuzzAda, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"},{"op":"Add","path":"emails[type eq \"work\"].value","value":"a2@acme.test"},{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"` + fuzzBob + `"}]}`, "", 0},
	{"PATCH", "/Groups/" + fuzzTeam, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Remove","path":"members","value":[{"value":"` + fuzzAda + `"}]}]}`, "", 0},
	{"GET", "/Groups?excludedAttributes=members&filter=displayName+eq+%22Team%22", "", "", 0},
	{"DELETE", "/Users/" + fuzzBob, "", "", 0},
	// OneLogin, PingFederate, JumpCloud; searching; discovery.
	{"POST", "/Users/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"active eq \"True\"","startIndex":1,"count":10,"sortBy":"userName","attributes":["userName"]}`, "", 0},
	{"POST", "/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"displayName pr","startIndex":2,"count":3,"sortBy":"userName","excludedAttributes":["members"]}`, "", 0},
	{"GET", "/ServiceProviderConfig", "", "", 0},
	{"GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", "", "", 0},
	{"GET", "/ResourceTypes", "", "", 0},
	// Across tenants, without a token, with linking and strict members.
	{"GET", "/Users/" + fuzzOther, "", "", 0},
	{"DELETE", "/Users/" + fuzzAda, "", "", 1},
	{"GET", "/Users", "", "", 2},
	{"POST", "/Users", `{"userName":"owner@acme.test","emails":[{"value":"owner@acme.test"}]}`, "", 4},
	{"PATCH", "/Users/" + fuzzOwner, `{"Operations":[{"op":"replace","path":"memberRole","value":"viewer"}]}`, "", 4},
	{"POST", "/Groups", `{"displayName":"X","members":[{"value":"` + fuzzOther + `"},{"value":"nobody"}]}`, "", 8},
	{"HEAD", "/Users/" + fuzzAda, "", "", 16},
	{"GET", "/Users/" + fuzzAda + "?attributes=emails,groups&excludedAttributes=name", "", `W/"1"`, 0},
	// Paging and sorting at the edges.
	{"GET", "/Users?startIndex=9.2e18&count=1e2&sortBy=emails&sortOrder=DESCENDING", "", "", 0},
	{"GET", "/Groups?startIndex=-9223372036854775808&count=-1&attributes=members.display", "", "", 0},
	{"POST", "/Groups/.search", `{"startIndex":1e400,"count":"2","sortBy":["x"],"excludedAttributes":"members"}`, "", 0},
}

// hardeningSeeds are requests with input that once reached a store and
// failed there: NUL characters and bytes that are not UTF-8 (PostgreSQL
// refuses them), strings too long for an index (MySQL, PostgreSQL),
// thousands of values, repeated values and ambiguous JSON. They are seeds
// of FuzzHandler and replayed over every store by
// TestHandlerSeedsOnEveryStore.
var hardeningSeeds = []struct {
	method, path, body, ifMatch string
	flags                       uint8
}{
	{"POST", "/Users", `{"userName":"\u0000"}`, "", 0},
	{"POST", "/Users", `{"userName":"x@acme.test","displayName":"a\u0000","externalId":"\u0000"}`, "", 0},
	{"POST", "/Users", `{"userName":"x@acme.test","emails":[{"value":"\u0000@acme.test"}]}`, "", 0},
	{"POST", "/Groups", `{"displayName":"\u0000"}`, "", 0},
	{"PATCH", "/Users/" + fuzzAda, `{"Operations":[{"op":"replace","value":{"externalId":"\u0000","displayName":"\u0000"}}]}`, "", 0},
	{"PATCH", "/Groups/" + fuzzTeam, `{"Operations":[{"op":"add","path":"members","value":[{"value":"\u0000"}]},{"op":"replace","path":"displayName","value":"\u0000"}]}`, "", 0},
	{"GET", "/Users?filter=userName+eq+%22%5Cu0000%22", "", "", 0},
	{"GET", "/Users?filter=userName+eq+%22%00%22", "", "", 0},
	{"GET", "/Users?filter=externalId+eq+%22%ff%22", "", "", 0},
	{"GET", "/Groups?filter=displayName+co+%22%5Cud800%22", "", "", 0},
	{"GET", "/Groups?filter=members.value+eq+%22%5Cu0000%22", "", "", 0},
	{"POST", "/Users/.search", `{"filter":"emails.value sw "\u0000""}`, "", 0},
	{"GET", "/Users/%ff", "", "", 0},
	{"GET", "/Users/a%00b", "", "", 0},
	{"PUT", "/Users/%c3", `{"userName":"x@acme.test"}`, "", 0},
	{"DELETE", "/Groups/%00", "", "", 0},
	{"POST", "/Users", "{\"userName\":\"x\xff@acme.test\"}", "", 0},
	{"POST", "/Users", `{"userName":"x\ud800@acme.test"}`, "", 0},
	{"POST", "/Users", `{"userName":"x@acme.test","active":true,"active":false}`, "", 0},
	{"POST", "/Users", `{"userName":"` + strings.Repeat("x", 800) + `"}`, "", 0},
	{"POST", "/Users", `{"userName":"x@acme.test","externalId":"` + strings.Repeat("é", 3000) + `"}`, "", 0},
	{"POST", "/Users", `{"userName":"x@acme.test","emails":[{"value":"` + strings.Repeat("Ⱥ", 257) + `"}]}`, "", 0},
	{"POST", "/Groups", `{"displayName":"` + strings.Repeat("Ⱥ", 300) + `"}`, "", 0},
	{"PATCH", "/Groups/" + fuzzTeam, `{"Operations":[{"op":"replace","value":{"displayName":"` + strings.Repeat("😀", 1000) + `"}}]}`, "", 0},
	{"POST", "/Users", `{"userName":"x@acme.test","emails":[` + strings.Repeat(`{"value":"d@acme.test","type":"work"},`, 1200) + `{"value":"d@acme.test"}]}`, "", 0},
	{"POST", "/Users", `{"userName":"x@acme.test","emails":[{"value":"dup@acme.test","type":"work"},{"value":"DUP@acme.test","type":"work","primary":true}]}`, "", 0},
	{"PATCH", "/Groups/" + fuzzTeam, `{"Operations":[{"op":"add","path":"members","value":[{"value":"` + strings.Repeat("m", 300) + `"},{"value":"` + strings.Repeat("Ⱥ", 2000) + `"}]}]}`, "", 8},
	{"POST", "/Groups", `{"displayName":"Big","members":[{"value":"` + strings.Repeat("m", 3000) + `"}]}`, "", 0},
	{"GET", "/Users?filter=userName+eq+%22" + strings.Repeat("x", 3000) + "%22+or+externalId+eq+%22" + strings.Repeat("y", 1000) + "%22", "", "", 0},
	{"GET", "/Groups?filter=members.value+eq+%22" + strings.Repeat("z", 3000) + "%22", "", "", 0},
	{"GET", "/Users/" + strings.Repeat("i", 3000), "", "", 0},
	{"POST", "/Users", `{"userName":"x@acme.test","seatType":"premium","profile":{"team":"a","level":"3"},"licenses":[{"type":"primary","value":"L"}],"` + acmeUserURN + `":{"licenseTier":"g","quota":"1e3"},"` + scimkitURN + `":{"costCode":7}}`, "", 0},
	{"PATCH", "/Users/" + fuzzAda, `{"Operations":[{"op":"Add","path":"licenses[type eq \"secondary\"].value","value":"L2"},{"op":"replace","value":{"` + acmeUserURN + `:quota":null,"profile.level":1e308,"hireCode":"h"}},{"op":"remove","path":"` + acmeUserURN + `"}]}`, "", 0},
	{"GET", "/Users?filter=" + url.QueryEscape(acmeUserURN+`:quota gt 1 or licenses[type eq "primary" and value sw "L"] or profile.level eq 3`) + "&attributes=startDate,secretPin&excludedAttributes=" + acmeUserURN, "", "", 0},
	{"PUT", "/Groups/" + fuzzTeam, `{"displayName":"Team","groupType":["x"],"` + acmeGroupURN + `":{"budget":1.5}}`, "", 0},
}

// FuzzHandler sends whole requests through the handler over a memory
// store holding a small fixture in two tenants. Whatever the method, path,
// query, body and headers, the answer is never a 500 (the handler turns a
// panic into one), and every body is a JSON object of a SCIM shape: a
// ListResponse, a resource, or an Error with schemas, status and detail,
// whose detail carries no internal text.
func FuzzHandler(f *testing.F) {
	for _, s := range handlerSeeds {
		f.Add(s.method, s.path, s.body, s.ifMatch, s.flags)
	}
	for _, s := range hardeningSeeds {
		f.Add(s.method, s.path, s.body, s.ifMatch, s.flags)
	}
	f.Fuzz(func(t *testing.T, method, path, body, ifMatch string, flags uint8) {
		req, ok := fuzzRequest(method, path, body, ifMatch, flags)
		if !ok {
			return
		}
		h := fuzzHandler(t, flags, memory.New())
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkSCIMResponse(t, req.Method, req.URL.Path, rec, method+path+body+ifMatch)
	})
}

// TestHandlerSeedsOnEveryStore replays FuzzHandler's seeds and the
// hardening inputs over the SQL stores (PostgreSQL and MySQL when their
// DSNs are set), each on a fresh fixture in tenants of its own: no answer
// is a 5xx, and every answer has a SCIM shape.
func TestHandlerSeedsOnEveryStore(t *testing.T) {
	seeds := append(handlerSeeds[:len(handlerSeeds):len(handlerSeeds)], hardeningSeeds...)
	for _, sc := range isolationStores[1:] {
		t.Run(sc.name, func(t *testing.T) {
			st := sc.open(t)
			for i, s := range seeds {
				t.Run(fmt.Sprintf("%02d_%s", i, s.method), func(t *testing.T) {
					req, ok := fuzzRequest(s.method, s.path, s.body, s.ifMatch, s.flags)
					if !ok {
						t.Fatalf("seed %d is not a request", i)
					}
					h := fuzzHandler(t, s.flags, tenantScoped{Store: st, prefix: fmt.Sprintf("seed%02d-", i)})
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code >= 500 {
						t.Fatalf("%s %.80s: status %d\n%s", s.method, s.path, rec.Code, rec.Body)
					}
					checkSCIMResponse(t, req.Method, req.URL.Path, rec, s.method+s.path+s.body+s.ifMatch)
				})
			}
		})
	}
}

// fuzzRequest builds the request FuzzHandler sends. flags: bits 0-1 pick
// the credentials (acme's token, other's, none, a wrong one), bit 2 turns
// on LinkExisting, bit 3 StrictMembers, bit 4 PatchNoContent and
// HideUnmanaged, bit 5 sends If-None-Match instead of If-Match.
func fuzzRequest(method, path, body, ifMatch string, flags uint8) (*http.Request, bool) {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	var req *http.Request
	var err error
	if rd != nil {
		req, err = http.NewRequest(method, "http://scim.test"+path, rd)
	} else {
		req, err = http.NewRequest(method, "http://scim.test"+path, nil)
	}
	if err != nil {
		return nil, false // not a request a server could receive
	}
	req.RequestURI = req.URL.RequestURI()
	switch flags & 3 {
	case 0:
		req.Header.Set("Authorization", "Bearer "+tokenAcme)
	case 1:
		req.Header.Set("Authorization", "Bearer "+tokenOther)
	case 3:
		req.Header.Set("Authorization", "Bearer x"+tokenAcme)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	if ifMatch != "" && validHeaderValue(ifMatch) {
		if flags&32 != 0 {
			req.Header.Set("If-None-Match", ifMatch)
		} else {
			req.Header.Set("If-Match", ifMatch)
		}
	}
	return req, true
}

// validHeaderValue reports whether v could arrive as a header value.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// tenantScoped is a store whose tenants are renamed with a prefix, so
// that fixtures can share one database.
type tenantScoped struct {
	store.Store
	prefix string
}

func (s tenantScoped) View(ctx context.Context, tenant string, fn func(store.Reader) error) error {
	return s.Store.View(ctx, s.prefix+tenant, fn)
}

func (s tenantScoped) Update(ctx context.Context, tenant string, fn func(store.Tx) error) error {
	return s.Store.Update(ctx, s.prefix+tenant, fn)
}

// fuzzFixture is a handler of one configuration over a store that each
// run of FuzzHandler replaces: building a handler costs far more than a
// request, so handlers are made once per configuration and process.
type fuzzFixture struct {
	h     *scim.Handler
	st    *swappedStore
	clock atomic.Int64
}

// swappedStore is the store of a fuzzFixture; fuzz runs in one process
// are sequential, so replacing it between runs needs no lock.
type swappedStore struct{ store.Store }

var fuzzFixtures = map[uint8]*fuzzFixture{}

// fuzzSchema is attrSchema without its required group attribute, so that
// the corpus's group bodies stay valid.
func fuzzSchema() scim.Schema {
	sc := attrSchema()
	sc.Group[0].Required = false
	return sc
}

// fuzzHandler returns a handler, configured by flags (see fuzzRequest),
// over st, a new store, to which it adds the fixture: in acme two
// provisioned users (bob inactive), a group with ada, and the org owner as
// an unmanaged app user; in other one user.
func fuzzHandler(t *testing.T, flags uint8, st store.Store) *scim.Handler {
	t.Helper()
	key := flags & (4 | 8 | 16)
	fx := fuzzFixtures[key]
	if fx == nil {
		fx = &fuzzFixture{st: &swappedStore{}}
		start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		policy := demoPolicy
		policy.Protected = []string{"owner"}
		h, err := scim.NewHandler(fx.st, policy, scim.Config{
			Authenticator: tokensFor(),
			Logger:        discardLogger(),
			Now:           func() time.Time { return start.Add(time.Duration(fx.clock.Load()) * time.Second) },
			NewID:         func() string { return fmt.Sprintf("id-%04d", fx.clock.Add(1)) },
			Limits:        scim.Limits{RequestsPerSecond: 1e9}, // runs are not traffic
			Users: scim.UserRules{LinkExisting: flags&4 != 0, PatchNoContent: flags&16 != 0,
				HideUnmanaged: flags&16 != 0},
			Groups: scim.GroupRules{StrictMembers: flags&8 != 0},
			Schema: fuzzSchema(),
		})
		if err != nil {
			t.Fatal(err)
		}
		fx.h = h
		fuzzFixtures[key] = fx
	}
	ctx := context.Background()
	err := st.Update(ctx, "acme", func(tx store.Tx) error {
		return tx.CreateUser(ctx, &store.User{ID: fuzzOwner, Role: "owner", Attributes: store.Attributes{
			"userName": "owner@acme.test", "active": true, "memberRole": "owner",
			"emails": []any{map[string]any{"value": "owner@acme.test", "type": "work", "primary": true}},
		}})
	})
	if err != nil {
		t.Fatal(err)
	}
	fx.st.Store = st
	fx.clock.Store(0)
	for _, s := range []struct{ token, path, body string }{
		{tokenAcme, "/Users", `{"userName":"ada@acme.test","externalId":"ext-ada","emails":[{"value":"ada@acme.test","type":"work","primary":true}],"name":{"givenName":"Ada"},"memberRole":"admin"}`},
		{tokenAcme, "/Users", `{"userName":"bob@acme.test","active":false}`},
		{tokenAcme, "/Groups", `{"displayName":"Team","members":[{"value":"` + fuzzAda + `"}]}`},
		{tokenOther, "/Users", `{"userName":"mallory@other.test","emails":[{"value":"mallory@other.test"}]}`},
	} {
		req := httptest.NewRequest("POST", s.path, strings.NewReader(s.body))
		req.Header.Set("Authorization", "Bearer "+s.token)
		rec := httptest.NewRecorder()
		fx.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated {
			t.Fatalf("fixture POST %s: %d %s", s.path, rec.Code, rec.Body)
		}
	}
	return fx.h
}

// internalText are fragments of Go, store and driver errors that must not
// reach a client, unless the client sent them itself.
var internalText = []string{
	"store:", "panic", "goroutine", ".go:", "runtime error", "nil pointer", "interface conversion",
	"index out of range", "sql", "json: cannot", "json: unsupported", "invalid character", "cannot unmarshal", "end of json input",
	"reflect", "0x", "unexpected eof",
}

// checkSCIMResponse asserts the shape of one answer. sent is everything the
// client sent, so that an echo of its own input is not taken for a leak.
func checkSCIMResponse(t *testing.T, method, path string, rec *httptest.ResponseRecorder, sent string) {
	t.Helper()
	raw := rec.Body.Bytes()
	if rec.Code == http.StatusInternalServerError || rec.Code < 200 || rec.Code > 599 {
		t.Fatalf("%s %s: status %d\n%s", method, path, rec.Code, raw)
	}
	if rec.Code == http.StatusNoContent || rec.Code == http.StatusNotModified {
		if len(raw) != 0 {
			t.Fatalf("%s %s: %d with a body: %s", method, path, rec.Code, raw)
		}
		return
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("%s %s: %d, body is not a JSON object: %v\n%s", method, path, rec.Code, err, raw)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/scim+json" {
		t.Fatalf("%s %s: Content-Type %q", method, path, ct)
	}
	schemas, _ := body["schemas"].([]any)
	if len(schemas) == 0 {
		t.Fatalf("%s %s: no schemas: %s", method, path, raw)
	}
	switch schemas[0] {
	case "urn:ietf:params:scim:api:messages:2.0:Error":
		if rec.Code < 400 {
			t.Fatalf("%s %s: an Error with status %d: %s", method, path, rec.Code, raw)
		}
		if got := body["status"]; got != fmt.Sprint(rec.Code) {
			t.Fatalf("%s %s: Error status %v, HTTP %d: %s", method, path, got, rec.Code, raw)
		}
		detail, _ := body["detail"].(string)
		if detail == "" {
			t.Fatalf("%s %s: Error without detail: %s", method, path, raw)
		}
		d, s := strings.ToLower(detail), strings.ToLower(sent)
		for _, w := range internalText {
			if strings.Contains(d, w) && !strings.Contains(s, w) {
				t.Fatalf("%s %s: detail leaks %q: %s", method, path, w, raw)
			}
		}
	case "urn:ietf:params:scim:api:messages:2.0:ListResponse":
		if rec.Code != http.StatusOK {
			t.Fatalf("%s %s: a ListResponse with status %d", method, path, rec.Code)
		}
		for _, k := range []string{"totalResults", "startIndex", "itemsPerPage"} {
			if n, ok := body[k].(float64); !ok || n != float64(int(n)) || n < 0 {
				t.Fatalf("%s %s: %s is %v: %s", method, path, k, body[k], raw)
			}
		}
		if body["startIndex"].(float64) < 1 {
			t.Fatalf("%s %s: startIndex below 1: %s", method, path, raw)
		}
		if _, ok := body["Resources"].([]any); !ok {
			t.Fatalf("%s %s: Resources is %T: %s", method, path, body["Resources"], raw)
		}
	default:
		if rec.Code >= 300 {
			t.Fatalf("%s %s: a resource with status %d: %s", method, path, rec.Code, raw)
		}
		if _, ok := body["password"]; ok {
			t.Fatalf("%s %s: a password in the answer: %s", method, path, raw)
		}
	}
}
