package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// scimError decodes the status, scimType and detail of an error answer.
func scimError(t *testing.T, r response) (string, string) {
	t.Helper()
	var e struct{ ScimType, Detail string }
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error answer is not JSON: %v\n%s", err, r.body)
	}
	return e.ScimType, e.Detail
}

func responseID(t *testing.T, r response) string {
	t.Helper()
	var doc struct{ ID string }
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.ID
}

// TestSeatLimitFlag runs the demo with -seat-limit 3 and an owner (one
// seat taken): two creates pass, the third and a reactivation beyond the
// limit get 403, a deactivation frees a seat. On a SQLite file, so that
// the count is the database's.
func TestSeatLimitFlag(t *testing.T) {
	d := startDemo(t, demoConfig{args: []string{"-db", "seats.db", "-token", "tok", "-seat-limit", "3", "-owner", "boss@example.com"}})
	user := func(name string, active bool) string {
		return fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"%s@example.com","active":%v}`, name, active)
	}
	steps := []struct {
		name, method, path, body string
		status                   int
	}{
		{"second seat", "POST", "/Users", user("ada", true), 201},
		{"third seat", "POST", "/Users", user("bob", true), 201},
		{"an inactive user takes no seat", "POST", "/Users", user("cy", false), 201},
		{"a fourth active user is refused", "POST", "/Users", user("dee", true), 403},
		{"so is a reactivation", "PATCH", "/Users/{cy}", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":true}}]}`, 403},
		{"a deactivation frees a seat", "PATCH", "/Users/{bob}", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`, 200},
		{"which a reactivation takes", "PATCH", "/Users/{cy}", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":true}}]}`, 200},
		{"and then none is left", "POST", "/Users", user("eve", true), 403},
	}
	ids := map[string]string{}
	for _, s := range steps {
		path := s.path
		for name, id := range ids {
			path = strings.ReplaceAll(path, "{"+name+"}", id)
		}
		r := d.call(t, s.method, path, "tok", s.body)
		if r.status != s.status {
			t.Fatalf("%s: %s %s: status %d, want %d\n%s", s.name, s.method, path, r.status, s.status, r.body)
		}
		if r.status == http.StatusCreated {
			var doc struct{ ID, UserName string }
			json.Unmarshal(r.body, &doc)
			ids[strings.TrimSuffix(doc.UserName, "@example.com")] = doc.ID
		}
		if r.status == http.StatusForbidden {
			if _, detail := scimError(t, r); !strings.Contains(detail, "3 seats") {
				t.Errorf("%s: detail %q does not name the plan's seats", s.name, detail)
			}
		}
	}
	list := d.call(t, "GET", "/Users?filter=active+eq+true&count=0", "tok", "")
	if !strings.Contains(string(list.body), `"totalResults":3`) {
		t.Errorf("active users at the end: %s, want 3", list.body)
	}
}

// TestVerifiedDomainFlag runs the demo with two verified domains: a create,
// an update and a link with an address outside them get 400
// invalidValue; addresses inside them, in any case, pass; a user whose
// old address is outside them can still be deactivated.
func TestVerifiedDomainFlag(t *testing.T) {
	d := startDemo(t, demoConfig{args: []string{"-db", "memory", "-token", "tok",
		"-verified-domain", "example.com", "-verified-domain", "corp.example", "-existing", "old@legacy.example"}})
	user := func(userName string, emails ...string) string {
		var list []string
		for _, e := range emails {
			list = append(list, fmt.Sprintf(`{"value":%q}`, e))
		}
		return fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":%q,"emails":[%s]}`, userName, strings.Join(list, ","))
	}
	ok := d.call(t, "POST", "/Users", "tok", user("ada@EXAMPLE.com", "ada@corp.example"))
	if ok.status != http.StatusCreated {
		t.Fatalf("POST inside the domains: %d %s", ok.status, ok.body)
	}
	ada := responseID(t, ok)
	tests := []struct {
		name, method, path, body string
		status                   int
		scimType                 string
	}{
		{"a userName outside", "POST", "/Users", user("bob@gmail.example"), 400, "invalidValue"},
		{"an email outside", "POST", "/Users", user("bob", "bob@example.com", "bob@gmail.example"), 400, "invalidValue"},
		{"a subdomain is another domain", "POST", "/Users", user("bob@mail.example.com"), 400, "invalidValue"},
		{"a userName that is no address passes", "POST", "/Users", user("bob", "bob@corp.example"), 201, ""},
		{"an update adding an address outside", "PATCH", "/Users/" + ada, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"emails","value":[{"value":"ada@home.example"}]}]}`, 400, "invalidValue"},
		{"linking an app user keeps their old address", "POST", "/Users", user("old@legacy.example", "old@legacy.example"), 201, ""},
		{"who can then be deactivated", "PATCH", "/Users/{old}", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`, 200, ""},
	}
	old := ""
	for _, tc := range tests {
		r := d.call(t, tc.method, strings.ReplaceAll(tc.path, "{old}", old), "tok", tc.body)
		if r.status != tc.status {
			t.Fatalf("%s: status %d, want %d\n%s", tc.name, r.status, tc.status, r.body)
		}
		if tc.status == http.StatusBadRequest {
			if scimType, detail := scimError(t, r); scimType != tc.scimType || !strings.Contains(detail, "not in a verified domain") {
				t.Errorf("%s: scimType %q detail %q", tc.name, scimType, detail)
			}
		}
		if strings.HasPrefix(tc.name, "linking") {
			old = responseID(t, r)
			if !strings.HasPrefix(old, "app-") {
				t.Errorf("the POST did not link the app user: id %q", old)
			}
		}
	}
}

// TestAdmissionFlagsRefuseBadValues checks that the new flags refuse what
// cannot work, before serving.
func TestAdmissionFlagsRefuseBadValues(t *testing.T) {
	for _, args := range [][]string{{"-seat-limit", "-1"}, {"-verified-domain", "a@b.example"}, {"-verified-domain", " "}} {
		code, _, stderr := runDemo(t, t.TempDir(), append([]string{"-db", "memory", "-token", "t"}, args...)...)
		if code == 0 || !strings.Contains(stderr, "invalid "+args[0]) {
			t.Errorf("%v: exit %d, stderr %q; want a failure naming %s", args, code, stderr, args[0])
		}
	}
}
