package scim_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
)

// inputOutcome is what a test of input validation expects: the status and
// scimType.
type inputOutcome struct {
	Status   int
	ScimType string
}

func outcome(r response) inputOutcome {
	st, _ := r.body["scimType"].(string)
	return inputOutcome{Status: r.status, ScimType: st}
}

const patchOpURN = `"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]`

// TestAmbiguousJSON sends bodies that two JSON readers could read
// differently: a member twice in one object (at any depth, in any letter
// case), bytes that are not UTF-8, escaped lone surrogates. Every JSON body
// the handler reads refuses them with 400 invalidSyntax and nothing
// changes.
func TestAmbiguousJSON(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			s := newTestServerWith(t, sc.open(t), scimConfig())
			ada := str(s.must(http.StatusCreated, "POST", "/Users", oktaUser("ada@acme.test", "Ada", "L")).body, "id")
			team := str(s.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"Team"}`).body, "id")
			before := snapshot(t, s.store, "acme")
			tests := []struct {
				name, method, path, body string
			}{
				{"POST /Users duplicate", "POST", "/Users", `{"userName":"x@acme.test","active":true,"active":false}`},
				{"POST /Users duplicate other case", "POST", "/Users", `{"userName":"x@acme.test","USERNAME":"y@acme.test"}`},
				{"POST /Users duplicate in an email", "POST", "/Users", `{"userName":"x@acme.test","emails":[{"value":"a@acme.test","value":"b@acme.test"}]}`},
				{"POST /Users invalid UTF-8", "POST", "/Users", "{\"userName\":\"x\xff@acme.test\"}"},
				{"POST /Users lone surrogate", "POST", "/Users", `{"userName":"x\ud800@acme.test"}`},
				{"PUT /Users duplicate", "PUT", "/Users/" + ada, `{"userName":"ada@acme.test","name":{"givenName":"A","givenName":"B"}}`},
				{"PUT /Users invalid UTF-8", "PUT", "/Users/" + ada, "{\"userName\":\"ada@acme.test\",\"displayName\":\"\xc3\"}"},
				{"PATCH /Users duplicate in a value", "PATCH", "/Users/" + ada, `{` + patchOpURN + `,"Operations":[{"op":"replace","value":{"active":true,"active":false}}]}`},
				{"PATCH /Users duplicate op", "PATCH", "/Users/" + ada, `{` + patchOpURN + `,"Operations":[{"op":"add","op":"remove","path":"title","value":"x"}]}`},
				{"PATCH /Users lone surrogate", "PATCH", "/Users/" + ada, `{` + patchOpURN + `,"Operations":[{"op":"replace","path":"displayName","value":"\udc00"}]}`},
				{"POST /Groups duplicate", "POST", "/Groups", `{"displayName":"A","displayName":"B"}`},
				{"PUT /Groups duplicate", "PUT", "/Groups/" + team, `{"displayName":"Team","members":[{"value":"` + ada + `","Value":"x"}]}`},
				{"PATCH /Groups duplicate", "PATCH", "/Groups/" + team, `{` + patchOpURN + `,"Operations":[{"op":"add","path":"members","value":[{"value":"` + ada + `","value":"nobody"}]}]}`},
				{"PATCH /Groups invalid UTF-8", "PATCH", "/Groups/" + team, "{\"Operations\":[{\"op\":\"replace\",\"path\":\"displayName\",\"value\":\"\xe2\x82\"}]}"},
				{"POST .search duplicate", "POST", "/Users/.search", `{"filter":"userName eq \"ada@acme.test\"","filter":"userName pr"}`},
				{"POST .search lone surrogate", "POST", "/Groups/.search", `{"filter":"displayName eq \"\ud83d\""}`},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					got := outcome(s.do(tt.method, tt.path, tt.body))
					if diff := cmp.Diff(inputOutcome{400, "invalidSyntax"}, got); diff != "" {
						t.Errorf("%s %s (-want +got):\n%s", tt.method, tt.path, diff)
					}
				})
			}
			if diff := cmp.Diff(before, snapshot(t, s.store, "acme")); diff != "" {
				t.Errorf("refused requests changed the tenant (-want +got):\n%s", diff)
			}
			// What is not ambiguous is still accepted: a valid surrogate
			// pair, the same name in sibling objects.
			r := s.must(http.StatusCreated, "POST", "/Users", `{"userName":"\ud83d\ude00@acme.test","emails":[{"value":"a@acme.test","type":"work"},{"value":"b@acme.test","type":"home"}]}`)
			if got := str(r.body, "userName"); got != "😀@acme.test" {
				t.Errorf("userName = %q, want %q", got, "😀@acme.test")
			}
		})
	}
}

// TestNULAndInvalidUTF8 sends NUL characters and bytes that are not
// UTF-8 wherever a string reaches a store: body attributes (400
// invalidValue), filters (400 invalidFilter) and ids in the URL path (404,
// answered without a store call). No store, PostgreSQL included, answers
// 5xx, and nothing changes.
func TestNULAndInvalidUTF8(t *testing.T) {
	for _, sc := range isolationStores {
		t.Run(sc.name, func(t *testing.T) {
			s := newTestServerWith(t, sc.open(t), scimConfig())
			ada := str(s.must(http.StatusCreated, "POST", "/Users", oktaUser("ada@acme.test", "Ada", "L")).body, "id")
			team := str(s.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"Team"}`).body, "id")
			before := snapshot(t, s.store, "acme")
			invalidValue := inputOutcome{400, "invalidValue"}
			invalidFilter := inputOutcome{400, "invalidFilter"}
			notFound := inputOutcome{404, ""}
			tests := []struct {
				name, method, path, body string
				want                     inputOutcome
			}{
				{"userName", "POST", "/Users", `{"userName":"\u0000"}`, invalidValue},
				{"displayName", "POST", "/Users", `{"userName":"x@acme.test","displayName":"a\u0000b"}`, invalidValue},
				{"externalId", "POST", "/Users", `{"userName":"x@acme.test","externalId":"\u0000"}`, invalidValue},
				{"email", "POST", "/Users", `{"userName":"x@acme.test","emails":[{"value":"\u0000@acme.test"}]}`, invalidValue},
				{"PUT userName", "PUT", "/Users/" + ada, `{"userName":"ada\u0000@acme.test"}`, invalidValue},
				{"PATCH displayName", "PATCH", "/Users/" + ada, `{"Operations":[{"op":"replace","path":"displayName","value":"\u0000"}]}`, invalidValue},
				{"PATCH pathless externalId", "PATCH", "/Users/" + ada, `{"Operations":[{"op":"replace","value":{"externalId":"\u0000"}}]}`, invalidValue},
				{"group displayName", "POST", "/Groups", `{"displayName":"\u0000"}`, invalidValue},
				{"group externalId", "PUT", "/Groups/" + team, `{"displayName":"Team","externalId":"x\u0000"}`, invalidValue},
				{"group rename", "PATCH", "/Groups/" + team, `{"Operations":[{"op":"replace","value":{"displayName":"\u0000"}}]}`, invalidValue},
				{"member id", "PATCH", "/Groups/" + team, `{"Operations":[{"op":"add","path":"members","value":[{"value":"\u0000"}]}]}`, invalidValue},
				{"filter userName", "GET", "/Users?filter=" + url.QueryEscape(`userName eq "\u0000"`), "", invalidFilter},
				{"filter raw NUL", "GET", "/Users?filter=" + url.QueryEscape("userName eq \"a\x00\""), "", invalidFilter},
				{"filter externalId", "GET", "/Users?filter=" + url.QueryEscape(`externalId eq "x\u0000"`), "", invalidFilter},
				{"filter email", "GET", "/Users?filter=" + url.QueryEscape(`emails[value co "\u0000"]`), "", invalidFilter},
				{"filter group displayName", "GET", "/Groups?filter=" + url.QueryEscape(`displayName sw "\u0000"`), "", invalidFilter},
				{"filter member", "GET", "/Groups?filter=" + url.QueryEscape(`members.value eq "\u0000"`), "", invalidFilter},
				{"filter not UTF-8", "GET", "/Users?filter=userName+eq+%22%ff%22", "", invalidFilter},
				{"filter lone surrogate", "GET", "/Users?filter=" + url.QueryEscape(`userName eq "\ud800"`), "", invalidFilter},
				{"search filter", "POST", "/Users/.search", `{"filter":"userName eq \"\\u0000\""}`, invalidFilter},
				{"search filter raw", "POST", "/Groups/.search", `{"filter":"displayName eq \"\u0000\""}`, invalidFilter},
				{"GET id not UTF-8", "GET", "/Users/%ff", "", notFound},
				{"GET id with NUL", "GET", "/Users/a%00b", "", notFound},
				{"HEAD group id", "HEAD", "/Groups/%ff", "", notFound},
				{"PUT id", "PUT", "/Users/%ff", `{"userName":"x@acme.test"}`, notFound},
				{"PATCH id", "PATCH", "/Groups/%00", `{"Operations":[{"op":"remove","path":"members"}]}`, notFound},
				{"DELETE id", "DELETE", "/Users/%c3", "", notFound},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					r := s.do(tt.method, tt.path, tt.body)
					if diff := cmp.Diff(tt.want, outcome(r)); diff != "" {
						t.Errorf("%s %s (-want +got):\n%s\n%s", tt.method, tt.path, diff, r.raw)
					}
				})
			}
			if diff := cmp.Diff(before, snapshot(t, s.store, "acme")); diff != "" {
				t.Errorf("refused requests changed the tenant (-want +got):\n%s", diff)
			}
		})
	}
}

// TestIndexedStringLength stores, on every store, indexed strings at
// scim.MaxIndexedBytes made of the worst characters: 4-byte ones; the
// character whose case-folded key (kept and indexed by the SQL store)
// grows most, up to a key of exactly the limit; 2-byte letters folding
// to 3 bytes; letters folding shorter. One byte more, in the value or in
// its key, is 400 invalidValue naming the attribute, never a 500 from a
// column or index too small.
func TestIndexedStringLength(t *testing.T) {
	worst := worstFoldRune()
	fill := func(unit string) string { // units, then "a"s up to a key of the limit
		n := scim.MaxIndexedBytes / max(len(unit), len(store.Fold(unit)))
		v := strings.Repeat(unit, n)
		return v + strings.Repeat("a", scim.MaxIndexedBytes-max(len(v), len(store.Fold(v))))
	}
	atLimit := []string{fill("😀"), fill(string(worst)), fill("Ⱥ"), fill("ẞ"), fill("İ")}
	for _, v := range atLimit {
		if n := max(len(v), len(store.Fold(v))); n != scim.MaxIndexedBytes {
			t.Fatalf("fixture %.20q…: %d bytes, key %d bytes", v, len(v), len(store.Fold(v)))
		}
	}
	over := func(s string) string { return s + "a" }
	for _, sc := range isolationStores {
		t.Run(sc.name, func(t *testing.T) {
			s := newTestServerWith(t, sc.open(t), scimConfig())
			user := func(userName, externalID, email string) string {
				return mustJSON(t, map[string]any{"userName": userName, "externalId": externalID,
					"emails": []any{map[string]any{"value": email, "type": "work"}}})
			}
			group := func(displayName, externalID string) string {
				return mustJSON(t, map[string]any{"displayName": displayName, "externalId": externalID})
			}
			var ada, team string
			for i, v := range atLimit {
				id := str(s.must(http.StatusCreated, "POST", "/Users", user(v, v, v)).body, "id")
				gid := str(s.must(http.StatusCreated, "POST", "/Groups", group(v, v)).body, "id")
				if i == 0 {
					ada, team = id, gid
				}
				// The stored values are found again by the indexes.
				for _, q := range []string{"userName eq " + mustJSON(t, strings.ToUpper(v)), "emails.value eq " + mustJSON(t, v), "externalId eq " + mustJSON(t, v)} {
					r := s.must(http.StatusOK, "GET", "/Users?filter="+url.QueryEscape(q), "")
					if got := r.body["totalResults"]; got != float64(1) {
						t.Errorf("filter %.40q…: totalResults %v, want 1", q, got)
					}
				}
			}
			before := snapshot(t, s.store, "acme")
			patchOp := func(path string, v string) string {
				return mustJSON(t, map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": path, "value": v}}})
			}
			type attempt struct{ name, method, path, body, attr string }
			var tests []attempt
			for i, v := range atLimit {
				o := over(v)
				tests = append(tests,
					attempt{fmt.Sprint("userName ", i), "POST", "/Users", user(o, "x", "x@acme.test"), "userName"},
					attempt{fmt.Sprint("emails.value ", i), "POST", "/Users", user("x@acme.test", "x", o), "emails.value"},
					attempt{fmt.Sprint("PUT userName ", i), "PUT", "/Users/" + ada, user(o, "x", "x@acme.test"), "userName"},
					attempt{fmt.Sprint("PATCH email ", i), "PATCH", "/Users/" + ada, patchOp(`emails[type eq "work"].value`, o), "emails.value"},
					attempt{fmt.Sprint("group displayName ", i), "POST", "/Groups", group(o, "x"), "displayName"},
					attempt{fmt.Sprint("group rename ", i), "PATCH", "/Groups/" + team, patchOp("displayName", o), "displayName"},
				)
				if len(o) > scim.MaxIndexedBytes { // externalId is compared exactly: no key
					tests = append(tests,
						attempt{fmt.Sprint("externalId ", i), "POST", "/Users", user("x@acme.test", o, "x@acme.test"), "externalId"},
						attempt{fmt.Sprint("PATCH externalId ", i), "PATCH", "/Users/" + ada, patchOp("externalId", o), "externalId"},
						attempt{fmt.Sprint("group externalId ", i), "PUT", "/Groups/" + team, group("Team", o), "externalId"},
					)
				}
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					r := s.do(tt.method, tt.path, tt.body)
					if diff := cmp.Diff(inputOutcome{400, "invalidValue"}, outcome(r)); diff != "" {
						t.Fatalf("%s %s (-want +got):\n%s\n%.300s", tt.method, tt.path, diff, r.raw)
					}
					if detail := str(r.body, "detail"); !strings.Contains(detail, `"`+tt.attr+`"`) {
						t.Errorf("detail %q does not name %q", detail, tt.attr)
					}
				})
			}
			if diff := cmp.Diff(before, snapshot(t, s.store, "acme")); diff != "" {
				t.Errorf("refused requests changed the tenant (-want +got):\n%.2000s", diff)
			}
		})
	}
}

// worstFoldRune returns the rune whose case-folded key (store.Fold) is
// longest for its own length.
func worstFoldRune() rune {
	worst, worstRune := 0.0, rune(0)
	for r := rune(0x80); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		in := string(r)
		if g := float64(len(store.Fold(in))) / float64(len(in)); g > worst {
			worst, worstRune = g, r
		}
	}
	return worstRune
}

// TestMaxValues caps the values of a multi-valued attribute (members
// aside) in a body and in the result of a PATCH: more is 413 tooMany and
// nothing changes; repeats do not count.
func TestMaxValues(t *testing.T) {
	emails := func(n int, prefix string) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = map[string]any{"value": fmt.Sprintf("%s%d@acme.test", prefix, i), "type": "work"}
		}
		return out
	}
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			s := newTestServerWith(t, sc.open(t), scimConfig())
			ada := str(s.must(http.StatusCreated, "POST", "/Users", oktaUser("ada@acme.test", "Ada", "L")).body, "id")
			before := snapshot(t, s.store, "acme")
			var ops []any
			for i := range 1000 {
				ops = append(ops, map[string]any{"op": "add", "path": "emails", "value": emails(10, fmt.Sprintf("op%d-", i))})
			}
			roles := make([]any, 1001)
			for i := range roles {
				roles[i] = map[string]any{"value": fmt.Sprintf("role-%d", i)}
			}
			tests := []struct {
				name, method, path, body string
			}{
				{"POST 1,001 emails", "POST", "/Users", mustJSON(t, map[string]any{"userName": "x@acme.test", "emails": emails(1001, "x")})},
				{"POST 5,000 emails", "POST", "/Users", mustJSON(t, map[string]any{"userName": "x@acme.test", "emails": emails(5000, "")})},
				{"PUT 1,001 roles", "PUT", "/Users/" + ada, mustJSON(t, map[string]any{"userName": "ada@acme.test", "roles": roles})},
				{"PATCH 1,000 ops of 10 emails", "PATCH", "/Users/" + ada, mustJSON(t, map[string]any{"Operations": ops})},
				{"PATCH one op of 1,001 roles", "PATCH", "/Users/" + ada, mustJSON(t, map[string]any{"Operations": []any{map[string]any{"op": "add", "value": map[string]any{"roles": roles}}}})},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					r := s.do(tt.method, tt.path, tt.body)
					if diff := cmp.Diff(inputOutcome{413, "tooMany"}, outcome(r)); diff != "" {
						t.Errorf("%s %s (-want +got):\n%s\n%.300s", tt.method, tt.path, diff, r.raw)
					}
				})
			}
			if diff := cmp.Diff(before, snapshot(t, s.store, "acme")); diff != "" {
				t.Errorf("refused requests changed the tenant (-want +got):\n%.2000s", diff)
			}
			// At the limit, and over it only by repeats, is accepted.
			list := emails(1000, "y")
			list = append(list, map[string]any{"value": "Y0@ACME.TEST", "type": "Work"})
			r := s.must(http.StatusCreated, "POST", "/Users", mustJSON(t, map[string]any{"userName": "y@acme.test", "emails": list}))
			if got := len(r.body["emails"].([]any)); got != 1000 {
				t.Errorf("stored %d emails, want 1000", got)
			}
		})
	}
	t.Run("configured", func(t *testing.T) {
		s := newTestServer(t, scim.Config{Limits: scim.Limits{MaxValues: 2}})
		phones := `[{"value":"1","type":"work"},{"value":"2","type":"home"},{"value":"3","type":"mobile"}]`
		if diff := cmp.Diff(inputOutcome{413, "tooMany"}, outcome(s.do("POST", "/Users", `{"userName":"x@acme.test","phoneNumbers":`+phones+`}`))); diff != "" {
			t.Errorf("POST with 3 phone numbers, MaxValues 2 (-want +got):\n%s", diff)
		}
		ada := str(s.must(http.StatusCreated, "POST", "/Users", `{"userName":"ada@acme.test","phoneNumbers":[{"value":"1","type":"work"},{"value":"2"}]}`).body, "id")
		r := s.do("PATCH", "/Users/"+ada, `{"Operations":[{"op":"add","path":"phoneNumbers","value":[{"value":"3"}]}]}`)
		if diff := cmp.Diff(inputOutcome{413, "tooMany"}, outcome(r)); diff != "" {
			t.Errorf("PATCH to 3 phone numbers, MaxValues 2 (-want +got):\n%s", diff)
		}
		s = newTestServer(t, scim.Config{Limits: scim.Limits{MaxValues: -1}})
		s.must(http.StatusCreated, "POST", "/Users", mustJSON(t, map[string]any{"userName": "x@acme.test", "emails": emails(1500, "x")}))
	})
}

// TestDuplicateValues checks that a multi-valued attribute never keeps
// the same (type, value) twice (RFC 7643 §2.4), whether a POST, a PUT or
// a PATCH brings the repeat: the first is kept, primary when a repeat
// was; value and type compare as the schema says.
func TestDuplicateValues(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			s := newTestServerWith(t, sc.open(t), scimConfig())
			body := `{"userName":"ada@acme.test",
				"emails":[{"value":"dup@example.com","type":"work"},{"value":"dup@example.com","type":"work"},
					{"value":"DUP@example.com","type":"Work","primary":true,"display":"x"},{"value":"dup@example.com","type":"home"}],
				"phoneNumbers":[{"value":"+1 555","type":"work"},{"value":"+1 555","type":"work"}],
				"ims":[{"value":"ada","type":"xmpp"},{"value":"ada","type":"xmpp"}],
				"photos":[{"value":"https://p.test/a","type":"photo"},{"value":"https://p.test/a","type":"photo"}],
				"addresses":[{"streetAddress":"1 Main","type":"work"},{"streetAddress":"1 Main","type":"work","primary":true},{"streetAddress":"2 Main","type":"work"}],
				"entitlements":[{"value":"e"},{"value":"e"}],
				"roles":[{"value":"r","type":"t"},{"value":"r","type":"t"},{"value":"r"}],
				"x509Certificates":[{"value":"QUJD"},{"value":"QUJD"},{"value":"qujd"}]}`
			want := map[string]any{
				"emails": []any{
					map[string]any{"value": "dup@example.com", "type": "work", "primary": true},
					map[string]any{"value": "dup@example.com", "type": "home"},
				},
				"phoneNumbers":     []any{map[string]any{"value": "+1 555", "type": "work"}},
				"ims":              []any{map[string]any{"value": "ada", "type": "xmpp"}},
				"photos":           []any{map[string]any{"value": "https://p.test/a", "type": "photo"}},
				"addresses":        []any{map[string]any{"streetAddress": "1 Main", "type": "work", "primary": true}, map[string]any{"streetAddress": "2 Main", "type": "work"}},
				"entitlements":     []any{map[string]any{"value": "e"}},
				"roles":            []any{map[string]any{"value": "r", "type": "t"}, map[string]any{"value": "r"}},
				"x509Certificates": []any{map[string]any{"value": "QUJD"}, map[string]any{"value": "qujd"}},
			}
			pick := func(doc map[string]any) map[string]any {
				out := map[string]any{}
				for k := range want {
					out[k] = doc[k]
				}
				return out
			}
			r := s.must(http.StatusCreated, "POST", "/Users", body)
			ada := str(r.body, "id")
			if diff := cmp.Diff(want, pick(r.body)); diff != "" {
				t.Errorf("POST (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, pick(s.must(http.StatusOK, "GET", "/Users/"+ada, "").body)); diff != "" {
				t.Errorf("GET after POST (-want +got):\n%s", diff)
			}
			r = s.must(http.StatusOK, "PUT", "/Users/"+ada, body)
			if diff := cmp.Diff(want, pick(r.body)); diff != "" {
				t.Errorf("PUT (-want +got):\n%s", diff)
			}
			// A PATCH adding a repeat, in another case, changes nothing but
			// primary.
			r = s.must(http.StatusOK, "PATCH", "/Users/"+ada, `{"Operations":[
				{"op":"add","path":"emails","value":[{"value":"Dup@Example.com","type":"HOME","primary":true}]},
				{"op":"add","path":"roles","value":[{"value":"r","type":"t"}]},
				{"op":"add","value":{"phoneNumbers":[{"value":"+1 555","type":"work"},{"value":"+1 556","type":"work"}]}}]}`)
			want["emails"] = []any{
				map[string]any{"value": "dup@example.com", "type": "work", "primary": false},
				map[string]any{"value": "dup@example.com", "type": "home", "primary": true},
			}
			want["phoneNumbers"] = []any{map[string]any{"value": "+1 555", "type": "work"}, map[string]any{"value": "+1 556", "type": "work"}}
			if diff := cmp.Diff(want, pick(r.body)); diff != "" {
				t.Errorf("PATCH (-want +got):\n%s", diff)
			}
			// A filtered replace that makes two elements the same leaves one.
			r = s.must(http.StatusOK, "PATCH", "/Users/"+ada, `{"Operations":[{"op":"replace","path":"phoneNumbers[value eq \"+1 556\"].value","value":"+1 555"}]}`)
			if diff := cmp.Diff([]any{map[string]any{"value": "+1 555", "type": "work"}}, r.body["phoneNumbers"]); diff != "" {
				t.Errorf("PATCH making a repeat (-want +got):\n%s", diff)
			}
			// Group members are one per user id.
			g := s.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"Team","members":[{"value":"`+ada+`"},{"value":"`+ada+`","display":"again"}]}`)
			if got := len(g.body["members"].([]any)); got != 1 {
				t.Errorf("group has %d members, want 1", got)
			}
		})
	}
}

// TestRolesOfUnstorableID asks Handler.Roles (an app's own endpoints call
// it with an id from their URL) about ids no store can hold: ErrNotFound
// on every store, PostgreSQL included.
func TestRolesOfUnstorableID(t *testing.T) {
	for _, sc := range isolationStores {
		t.Run(sc.name, func(t *testing.T) {
			h, err := scim.NewHandler(sc.open(t), demoPolicy, scim.Config{Authenticator: tokensFor(), Logger: discardLogger()})
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"\xff", "a\x00b"} {
				if _, err := h.Roles(context.Background(), "acme", id); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("Roles(%q) = %v, want ErrNotFound", id, err)
				}
			}
		})
	}
}
