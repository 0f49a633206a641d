package scim_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim"
)

const appExt = "urn:ietf:params:scim:schemas:extension:scimkit:2.0:User"

func patchOps(ops string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + ops + `]}`
}

// Removing the role attribute resets the user to the policy's default
// role, wherever the role is removed from; a role sent beside the removal
// wins; PUT without the attribute keeps the role (Okta may omit it).
func TestRoleAttributeRemoval(t *testing.T) {
	tests := []struct {
		name, method, body string
		want               string
	}{
		{"remove memberRole", "PATCH", patchOps(`{"op":"remove","path":"memberRole"}`), "viewer"},
		{"Entra Remove, any case", "PATCH", patchOps(`{"op":"Remove","path":"MEMBERROLE"}`), "viewer"},
		{"remove in the extension", "PATCH", patchOps(`{"op":"remove","path":"` + appExt + `:memberRole"}`), "viewer"},
		{"remove the whole extension", "PATCH", patchOps(`{"op":"remove","path":"` + appExt + `"}`), "viewer"},
		{"replace with null", "PATCH", patchOps(`{"op":"replace","path":"memberRole","value":null}`), "viewer"},
		{"an empty string is no value: kept", "PATCH", patchOps(`{"op":"replace","path":"memberRole","value":""}`), "admin"},
		{"pathless null", "PATCH", patchOps(`{"op":"replace","value":{"memberRole":null}}`), "viewer"},
		{"pathless extension null", "PATCH", patchOps(`{"op":"replace","value":{"` + appExt + `":null}}`), "viewer"},
		{"removal with a value in the extension", "PATCH",
			patchOps(`{"op":"remove","path":"memberRole"},{"op":"replace","path":"` + appExt + `:memberRole","value":"data_owner"}`), "data_owner"},
		{"Entra replace in the extension", "PATCH", patchOps(`{"op":"Replace","path":"` + appExt + `:memberRole","value":"data_owner"}`), "data_owner"},
		{"PATCH of another attribute keeps the role", "PATCH", patchOps(`{"op":"replace","value":{"active":false}}`), "admin"},
		{"PUT without the role keeps it", "PUT", `{"userName":"rolly@example.com","active":true}`, "admin"},
	}
	for _, sc := range stores {
		for _, tt := range tests {
			t.Run(sc.name+"/"+tt.name, func(t *testing.T) {
				s := newTestServerWith(t, sc.open(t), scimConfig())
				id := str(s.must(http.StatusCreated, "POST", "/Users", `{"userName":"rolly@example.com","memberRole":"admin"}`).body, "id")
				s.must(http.StatusOK, tt.method, "/Users/"+id, tt.body)
				u := s.must(http.StatusOK, "GET", "/Users/"+id, "").body
				got := []string{str(u, "memberRole"), str(u[appExt].(map[string]any), "memberRole")}
				if diff := cmp.Diff([]string{tt.want, tt.want}, got); diff != "" {
					t.Errorf("role at top level, in extension (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// Removing the protected owner's role would demote them: refused like any
// demotion, with the event, and nothing changes.
func TestRoleAttributeRemovalProtected(t *testing.T) {
	for _, sc := range stores {
		for _, path := range []string{"memberRole", appExt, appExt + ":memberRole"} {
			t.Run(sc.name+"/"+path, func(t *testing.T) {
				var log eventLog
				st := sc.open(t)
				owner := seedUser(t, st, "acme", "boss@acme.test", "owner")
				s := newTestServerPolicy(t, st, ownerPolicy(), scim.Config{Users: scim.UserRules{LinkExisting: true}, OnEvent: log.add})
				before := snapshot(t, st, "acme")
				s.must(http.StatusForbidden, "PATCH", "/Users/"+owner, patchOps(`{"op":"remove","path":"`+path+`"}`))
				if diff := cmp.Diff(before, snapshot(t, st, "acme")); diff != "" {
					t.Errorf("refusal changed state:\n%s", diff)
				}
				if diff := cmp.Diff([]string{"user.protected_refused"}, log.take()); diff != "" {
					t.Errorf("events (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// With the standard roles attribute as the role attribute, removing it
// resets the user to the default role too.
func TestRolesAttributeRemoval(t *testing.T) {
	policy := scim.RolePolicy{Attribute: "roles", Values: []string{"viewer", "admin"}, Default: "viewer"}
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			s := newTestServerPolicy(t, sc.open(t), policy, scimConfig())
			id := str(s.must(http.StatusCreated, "POST", "/Users", `{"userName":"r@example.com","roles":[{"value":"admin"}]}`).body, "id")
			u := s.must(http.StatusOK, "PATCH", "/Users/"+id, patchOps(`{"op":"Remove","path":"roles"}`)).body
			want := []any{map[string]any{"value": "viewer", "primary": true}}
			if diff := cmp.Diff(want, u["roles"]); diff != "" {
				t.Errorf("roles after removal (-want +got):\n%s", diff)
			}
		})
	}
}

// /Schemas says what omitting and removing the role attribute do.
func TestRoleAttributeRemovalDocumented(t *testing.T) {
	s := newTestServer(t, scimConfig())
	for _, id := range []string{"urn:ietf:params:scim:schemas:core:2.0:User", appExt} {
		doc := s.must(http.StatusOK, "GET", "/Schemas/"+id, "").body
		desc := ""
		for _, a := range doc["attributes"].([]any) {
			if m := a.(map[string]any); m["name"] == "memberRole" {
				desc, _ = m["description"].(string)
			}
		}
		for _, want := range []string{"Omitted", "kept", `reset to the default role "viewer"`} {
			if !strings.Contains(desc, want) {
				t.Errorf("%s: memberRole description %q does not say %q", id, desc, want)
			}
		}
	}
}
