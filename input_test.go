package scim_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
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
