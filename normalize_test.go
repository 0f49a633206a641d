package scim_test

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// userBody is a POST /Users body with the given userName and work email.
func userBody(t *testing.T, userName, email string) string {
	t.Helper()
	return mustJSON(t, map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": userName,
		"emails":   []any{map[string]any{"value": email, "type": "work", "primary": true}},
		"active":   true,
	})
}

// TestLookAlikeUserNames: userNames that look the same are one userName on
// every store: the second POST of a look-alike pair gets 409 uniqueness, a
// name with an invisible character gets 400 invalidValue, and filters find
// a user by any look-alike spelling.
func TestLookAlikeUserNames(t *testing.T) {
	for _, st := range isolationStores {
		t.Run(st.name, func(t *testing.T) {
			s := newTestServerWith(t, st.open(t), scimConfig())
			for i, tc := range []struct {
				name, first, second string
			}{
				{"NFC then NFD", "josé@example.com", "jose\u0301@example.com"},
				{"NFD then NFC", "rene\u0301@example.com", "rené@example.com"},
				{"fullwidth", "admin", "ａｄｍｉｎ"},
				{"fullwidth capitals", "root", "ＲＯＯＴ"},
				{"sharp s", "straße", "STRASSE"},
				{"Kelvin sign", "kelvin", "\u212Aelvin"},
				{"outer spaces second", "spaced@x.com", "  spaced@x.com "},
				{"outer spaces first", " \u00a0padded@x.com\u3000", "padded@x.com"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					s.must(201, "POST", "/Users", userBody(t, tc.first, fmt.Sprintf("first%d@x.com", i)))
					r := s.do("POST", "/Users", userBody(t, tc.second, fmt.Sprintf("second%d@x.com", i)))
					if r.status != 409 || r.body["scimType"] != "uniqueness" {
						t.Errorf("second POST %q after %q: %d %v, want 409 uniqueness\n%s", tc.second, tc.first, r.status, r.body["scimType"], r.raw)
					}
				})
			}
			for _, name := range []string{"ad\u200bmin", "admin\u200b", "\u202eadmin", "a\u200db", "\ufeffbom", "tab\there", "nul\x00x", "new\nline"} {
				r := s.do("POST", "/Users", userBody(t, name, "invisible@x.com"))
				if r.status != 400 || r.body["scimType"] != "invalidValue" {
					t.Errorf("POST userName %q: %d %v, want 400 invalidValue\n%s", name, r.status, r.body["scimType"], r.raw)
				}
			}
			for _, q := range []string{"ＡＤＭＩＮ", "Admin", "JOSE\u0301@EXAMPLE.COM", "strasse", "\u212AELVIN", "  spaced@x.com "} {
				r := s.must(200, "GET", "/Users?filter="+url.QueryEscape(fmt.Sprintf("userName eq %q", q)), "")
				if r.body["totalResults"] != float64(1) {
					t.Errorf("filter userName eq %q: totalResults %v, want 1\n%s", q, r.body["totalResults"], r.raw)
				}
			}
		})
	}
}

// TestUserNameAndEmailsStoredNormalised: what POST, PUT and PATCH store is
// the trimmed, composed (NFC) userName and trimmed email values.
func TestUserNameAndEmailsStoredNormalised(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			s := newTestServerWith(t, st.open(t), scimConfig())
			created := s.must(201, "POST", "/Users", userBody(t, "  jose\u0301@example.com\t", " jose@example.com  "))
			id := created.body["id"].(string)
			got := s.must(200, "GET", "/Users/"+id, "")
			want := map[string]any{"userName": "josé@example.com", "email": "jose@example.com"}
			gotV := map[string]any{"userName": got.body["userName"], "email": got.body["emails"].([]any)[0].(map[string]any)["value"]}
			if diff := cmp.Diff(want, gotV); diff != "" {
				t.Errorf("after POST (-want +got):\n%s", diff)
			}
			s.must(200, "PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"userName","value":"  renamed@example.com "}]}`)
			if got := s.must(200, "GET", "/Users/"+id, ""); got.body["userName"] != "renamed@example.com" {
				t.Errorf("after PATCH userName = %q, want renamed@example.com", got.body["userName"])
			}
			r := s.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"userName","value":"re\u200bnamed@example.com"}]}`)
			if r.status != 400 || r.body["scimType"] != "invalidValue" {
				t.Errorf("PATCH userName with U+200B: %d %v, want 400 invalidValue\n%s", r.status, r.body["scimType"], r.raw)
			}
			s.must(200, "PUT", "/Users/"+id, userBody(t, " ｐｕｔ@example.com ", "put@example.com"))
			if got := s.must(200, "GET", "/Users/"+id, ""); got.body["userName"] != "ｐｕｔ@example.com" {
				t.Errorf("after PUT userName = %q, want the trimmed name, its width kept", got.body["userName"])
			}
		})
	}
}
