package patch

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/internal/schema"
	"github.com/scimkit/scim/internal/scimerr"
	"github.com/scimkit/scim/store"
)

const ent = schema.EnterpriseURN

var (
	users = schema.NewUser([]*schema.Attr{
		{Name: "memberRole", Type: schema.String, Mutability: schema.ReadWrite, Returned: schema.Default},
		{Name: "employeeId", Type: schema.String, Mutability: schema.Immutable, Returned: schema.Default},
		{Name: "loginCount", Type: schema.Integer, Mutability: schema.ReadWrite, Returned: schema.Default},
		{Name: "hiredAt", Type: schema.DateTime, Mutability: schema.ReadWrite, Returned: schema.Default},
	})
	groups = schema.NewGroup(nil)
)

func ops(list ...string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + strings.Join(list, ",") + `]}`
}

func bjensen() store.Attributes {
	return store.Attributes{
		"userName": "bjensen@example.com",
		"active":   true,
		"name":     map[string]any{"givenName": "Barbara", "familyName": "Jensen"},
		"emails": []any{
			map[string]any{"value": "bjensen@example.com", "type": "work", "primary": true},
			map[string]any{"value": "babs@jensen.org", "type": "home"},
		},
		ent: map[string]any{"department": "Tour Operations"},
	}
}

// with returns bjensen() changed by fn.
func with(fn func(a store.Attributes)) store.Attributes {
	a := bjensen()
	fn(a)
	return a
}

func TestApplyUser(t *testing.T) {
	tests := []struct {
		name  string
		attrs store.Attributes // bjensen() when nil
		body  string
		want  store.Attributes
	}{
		{"add repeating a value in another case keeps the first, made primary", nil,
			ops(`{"op":"add","path":"emails","value":[{"value":"BABS@jensen.org","type":"Home","primary":true},{"value":"babs@jensen.org","type":"other"}]}`),
			with(func(a store.Attributes) {
				a["emails"] = []any{
					map[string]any{"value": "bjensen@example.com", "type": "work", "primary": false},
					map[string]any{"value": "babs@jensen.org", "type": "home", "primary": true},
					map[string]any{"value": "babs@jensen.org", "type": "other"},
				}
			})},
		{"add of values already there changes nothing", nil,
			ops(`{"op":"add","path":"emails","value":[{"value":"babs@jensen.org","type":"home"}]}`),
			bjensen()},
		{"filtered replace making two values equal leaves one", nil,
			ops(`{"op":"replace","path":"emails[type eq \"home\"]","value":{"value":"bjensen@example.com","type":"work"}}`),
			with(func(a store.Attributes) { a["emails"] = a["emails"].([]any)[:1] })},
		{"Okta deactivate: pathless replace", nil,
			ops(`{"op":"replace","value":{"active":false}}`),
			with(func(a store.Attributes) { a["active"] = false })},
		{"Entra deactivate: capitalised op, string boolean", nil,
			ops(`{"op":"Replace","path":"active","value":"False"}`),
			with(func(a store.Attributes) { a["active"] = false })},
		{"Entra aadOptscim062020: pathless value with a filtered path as key", nil,
			ops(`{"op":"replace","value":{"emails[type eq \"work\"].value":"b@example.com","name.givenName":"Babs"}}`),
			with(func(a store.Attributes) {
				a["emails"].([]any)[0].(map[string]any)["value"] = "b@example.com"
				a["name"].(map[string]any)["givenName"] = "Babs"
			})},
		{"pathless filtered key that matches nothing creates the element", store.Attributes{"userName": "x"},
			ops(`{"op":"add","value":{"emails[type eq \"work\"].value":"x@example.com"}}`),
			store.Attributes{"userName": "x", "emails": []any{map[string]any{"type": "work", "value": "x@example.com"}}}},
		{"pathless filtered key on an unknown attribute is ignored", nil,
			ops(`{"op":"replace","value":{"nothing[type eq \"work\"].value":"x","displayName":"B"}}`),
			with(func(a store.Attributes) { a["displayName"] = "B" })},
		{"SCIM 1.1 URN path", nil,
			ops(`{"op":"replace","path":"urn:scim:schemas:extension:enterprise:1.0:department","value":"Ops"}`),
			with(func(a store.Attributes) { a[ent].(map[string]any)["department"] = "Ops" })},
		{"Entra reactivate", with(func(a store.Attributes) { a["active"] = false }),
			ops(`{"op":"Replace","path":"active","value":"True"}`), bjensen()},
		{"attribute name in any case", nil,
			ops(`{"op":"REPLACE","path":"DisplayName","value":"Babs"}`),
			with(func(a store.Attributes) { a["displayName"] = "Babs" })},
		{"add on single-valued replaces", nil,
			ops(`{"op":"add","path":"userName","value":"babs@example.com"}`),
			with(func(a store.Attributes) { a["userName"] = "babs@example.com" })},
		{"sub-attribute", nil,
			ops(`{"op":"replace","path":"name.givenName","value":"Babs"}`),
			with(func(a store.Attributes) { a["name"].(map[string]any)["givenName"] = "Babs" })},
		{"sub-attribute creates the complex attribute", store.Attributes{"userName": "x"},
			ops(`{"op":"add","path":"name.familyName","value":"Doe"}`),
			store.Attributes{"userName": "x", "name": map[string]any{"familyName": "Doe"}}},
		{"core URN path", nil,
			ops(`{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:User:name.familyName","value":"J"}`),
			with(func(a store.Attributes) { a["name"].(map[string]any)["familyName"] = "J" })},
		{"add on complex merges", nil,
			ops(`{"op":"add","path":"name","value":{"middleName":"Jane","GivenName":"Babs"}}`),
			with(func(a store.Attributes) {
				a["name"] = map[string]any{"givenName": "Babs", "familyName": "Jensen", "middleName": "Jane"}
			})},
		{"replace on complex merges too", nil,
			ops(`{"op":"replace","path":"name","value":{"familyName":"Doe"}}`),
			with(func(a store.Attributes) { a["name"].(map[string]any)["familyName"] = "Doe" })},
		{"add on multi-valued appends", nil,
			ops(`{"op":"add","path":"emails","value":[{"value":"b@x.com","type":"other"}]}`),
			with(func(a store.Attributes) {
				a["emails"] = append(a["emails"].([]any), map[string]any{"value": "b@x.com", "type": "other"})
			})},
		{"add on multi-valued skips identical elements", nil,
			ops(`{"op":"add","path":"emails","value":[{"value":"babs@jensen.org","type":"home"}]}`),
			bjensen()},
		{"add of a primary element clears the other primary", nil,
			ops(`{"op":"add","path":"emails","value":[{"value":"b@x.com","type":"other","Primary":"True"}]}`),
			with(func(a store.Attributes) {
				a["emails"] = []any{
					map[string]any{"value": "bjensen@example.com", "type": "work", "primary": false},
					map[string]any{"value": "babs@jensen.org", "type": "home"},
					map[string]any{"value": "b@x.com", "type": "other", "primary": true},
				}
			})},
		{"replace on multi-valued replaces the list", nil,
			ops(`{"op":"replace","path":"emails","value":[{"value":"new@x.com","type":"work","primary":true}]}`),
			with(func(a store.Attributes) {
				a["emails"] = []any{map[string]any{"value": "new@x.com", "type": "work", "primary": true}}
			})},
		{"replace with empty list removes", nil,
			ops(`{"op":"replace","path":"emails","value":[]}`),
			with(func(a store.Attributes) { delete(a, "emails") })},
		{"filtered sub-attribute replace", nil,
			ops(`{"op":"replace","path":"emails[type eq \"work\"].value","value":"bj@example.com"}`),
			with(func(a store.Attributes) { a["emails"].([]any)[0].(map[string]any)["value"] = "bj@example.com" })},
		{"Entra creates the work email when absent", store.Attributes{"userName": "x"},
			ops(`{"op":"Add","path":"emails[type eq \"work\"].value","value":"x@example.com"}`),
			store.Attributes{"userName": "x", "emails": []any{map[string]any{"type": "work", "value": "x@example.com"}}}},
		{"Entra replace creates the work email when absent", store.Attributes{"userName": "x"},
			ops(`{"op":"Replace","path":"emails[type eq \"work\"].value","value":"x@example.com"}`),
			store.Attributes{"userName": "x", "emails": []any{map[string]any{"type": "work", "value": "x@example.com"}}}},
		{"a canonical type in any case creates the element in its canonical spelling", store.Attributes{"userName": "x"},
			ops(`{"op":"replace","path":"phoneNumbers[type eq \"Mobile\"].value","value":"+1 555"}`),
			store.Attributes{"userName": "x", "phoneNumbers": []any{map[string]any{"type": "mobile", "value": "+1 555"}}}},
		{"Entra pathless filtered key creates the work email", store.Attributes{"userName": "x"},
			ops(`{"op":"replace","value":{"emails[type eq \"work\"].value":"x@example.com"}}`),
			store.Attributes{"userName": "x", "emails": []any{map[string]any{"type": "work", "value": "x@example.com"}}}},
		{"several ops on one filtered element merge into one element", store.Attributes{"userName": "x"},
			ops(`{"op":"Add","path":"addresses[type eq \"work\"].streetAddress","value":"1 Main St"}`,
				`{"op":"Add","path":"addresses[type eq \"work\"].locality","value":"Springfield"}`,
				`{"op":"Add","path":"addresses[type eq \"work\"].primary","value":"True"}`),
			store.Attributes{"userName": "x", "addresses": []any{
				map[string]any{"type": "work", "streetAddress": "1 Main St", "locality": "Springfield", "primary": true},
			}}},
		{"filtered primary clears the other primary", nil,
			ops(`{"op":"replace","path":"emails[type eq \"home\"].primary","value":true}`),
			with(func(a store.Attributes) {
				a["emails"] = []any{
					map[string]any{"value": "bjensen@example.com", "type": "work", "primary": false},
					map[string]any{"value": "babs@jensen.org", "type": "home", "primary": true},
				}
			})},
		{"filtered add without sub-attribute merges into the element", nil,
			ops(`{"op":"add","path":"emails[type eq \"home\"]","value":{"display":"Home"}}`),
			with(func(a store.Attributes) { a["emails"].([]any)[1].(map[string]any)["display"] = "Home" })},
		{"filtered replace without sub-attribute replaces the element", nil,
			ops(`{"op":"replace","path":"emails[type eq \"home\"]","value":{"value":"b@home.org"}}`),
			with(func(a store.Attributes) {
				a["emails"].([]any)[1] = map[string]any{"type": "home", "value": "b@home.org"}
			})},
		{"remove with filter removes matching elements", nil,
			ops(`{"op":"remove","path":"emails[type eq \"home\"]"}`),
			with(func(a store.Attributes) { a["emails"] = a["emails"].([]any)[:1] })},
		{"remove with filter matching nothing is a no-op", nil,
			ops(`{"op":"remove","path":"emails[type eq \"other\"]"}`), bjensen()},
		{"remove the last element removes the attribute", store.Attributes{"userName": "x", "emails": []any{map[string]any{"value": "a", "type": "work"}}},
			ops(`{"op":"remove","path":"emails[type eq \"work\"]"}`), store.Attributes{"userName": "x"}},
		{"remove sub-attribute of filtered elements", nil,
			ops(`{"op":"remove","path":"emails[type eq \"work\"].primary"}`),
			with(func(a store.Attributes) { delete(a["emails"].([]any)[0].(map[string]any), "primary") })},
		{"remove sub-attribute", nil,
			ops(`{"op":"remove","path":"name.givenName"}`),
			with(func(a store.Attributes) { delete(a["name"].(map[string]any), "givenName") })},
		{"remove last sub-attribute removes the complex attribute", store.Attributes{"userName": "x", "name": map[string]any{"givenName": "a"}},
			ops(`{"op":"remove","path":"name.givenName"}`), store.Attributes{"userName": "x"}},
		{"remove attribute", nil,
			ops(`{"op":"remove","path":"emails"}`), with(func(a store.Attributes) { delete(a, "emails") })},
		{"remove absent attribute is a no-op", nil,
			ops(`{"op":"remove","path":"title"}`), bjensen()},
		{"remove listed values only", nil,
			ops(`{"op":"remove","path":"emails","value":[{"value":"babs@jensen.org"}]}`),
			with(func(a store.Attributes) { a["emails"] = a["emails"].([]any)[:1] })},
		{"null value removes", nil,
			ops(`{"op":"replace","path":"name","value":null}`), with(func(a store.Attributes) { delete(a, "name") })},
		{"null in pathless value removes", nil,
			ops(`{"op":"replace","value":{"name":null}}`), with(func(a store.Attributes) { delete(a, "name") })},
		{"enterprise attribute by URN path", nil,
			ops(`{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"R&D"}`),
			with(func(a store.Attributes) { a[ent] = map[string]any{"department": "R&D"} })},
		{"Entra manager as a bare id", nil,
			ops(`{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"26118915"}`),
			with(func(a store.Attributes) {
				a[ent] = map[string]any{"department": "Tour Operations", "manager": map[string]any{"value": "26118915"}}
			})},
		{"manager.value path", store.Attributes{"userName": "x"},
			ops(`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value","value":"42"}`),
			store.Attributes{"userName": "x", ent: map[string]any{"manager": map[string]any{"value": "42"}}}},
		{"manager object drops read-only displayName", store.Attributes{"userName": "x"},
			ops(`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"42","displayName":"Boss"}}`),
			store.Attributes{"userName": "x", ent: map[string]any{"manager": map[string]any{"value": "42"}}}},
		{"remove last extension attribute removes the extension", nil,
			ops(`{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"}`),
			with(func(a store.Attributes) { delete(a, ent) })},
		{"path naming the extension schema", store.Attributes{"userName": "x"},
			ops(`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"costCenter":"4130"}}`),
			store.Attributes{"userName": "x", ent: map[string]any{"costCenter": "4130"}}},
		{"pathless with dotted and URN keys (aadOptscim062020)", nil,
			ops(`{"op":"replace","value":{"name.givenName":"Babs","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"Sales","displayName":"B"}}`),
			with(func(a store.Attributes) {
				a["name"].(map[string]any)["givenName"] = "Babs"
				a[ent] = map[string]any{"department": "Sales"}
				a["displayName"] = "B"
			})},
		{"pathless with extension object", nil,
			ops(`{"op":"add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"Division":"West","manager":"7"}}}`),
			with(func(a store.Attributes) {
				a[ent] = map[string]any{"department": "Tour Operations", "division": "West", "manager": map[string]any{"value": "7"}}
			})},
		{"pathless ignores id, meta, schemas, groups, password and unknown keys", nil,
			ops(`{"op":"replace","value":{"id":"2819c223","schemas":["x"],"meta":{"version":"1"},"groups":[{"value":"g"}],"password":"p","nosuch":1,"title":"Tour Guide"}}`),
			with(func(a store.Attributes) { a["title"] = "Tour Guide" })},
		{"password with a path is accepted and dropped", nil,
			ops(`{"op":"replace","path":"password","value":"secret"}`), bjensen()},
		{"numbers coerced to string attributes", nil,
			ops(`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":12345}`),
			with(func(a store.Attributes) { a[ent].(map[string]any)["employeeNumber"] = "12345" })},
		{"integer from string", store.Attributes{"userName": "x"},
			ops(`{"op":"add","path":"loginCount","value":"7"}`), store.Attributes{"userName": "x", "loginCount": 7.0}},
		{"dateTime", store.Attributes{"userName": "x"},
			ops(`{"op":"add","path":"hiredAt","value":"2015-10-10T14:38:21.8617979-07:00"}`),
			store.Attributes{"userName": "x", "hiredAt": "2015-10-10T14:38:21.8617979-07:00"}},
		{"immutable attribute may be added when absent", store.Attributes{"userName": "x"},
			ops(`{"op":"add","path":"employeeId","value":"E1"}`), store.Attributes{"userName": "x", "employeeId": "E1"}},
		{"immutable attribute may be set to its own value", store.Attributes{"userName": "x", "employeeId": "E1"},
			ops(`{"op":"replace","value":{"employeeId":"E1"}}`), store.Attributes{"userName": "x", "employeeId": "E1"}},
		{"empty operations", nil, ops(), bjensen()},
		{"null operations", nil, `{"Operations":null}`, bjensen()},
		{"missing schemas and extra members (Microsoft)", nil,
			`{"id":"2819c223","Operations":[{"op":"replace","path":"nickName","value":"Babs"}]}`,
			with(func(a store.Attributes) { a["nickName"] = "Babs" })},
		{"lower-case operations key", nil,
			`{"operations":[{"op":"replace","path":"nickName","value":"Babs"}]}`,
			with(func(a store.Attributes) { a["nickName"] = "Babs" })},
		{"ops apply in order", nil,
			ops(`{"op":"replace","path":"title","value":"a"}`, `{"op":"remove","path":"title"}`, `{"op":"add","path":"title","value":"b"}`),
			with(func(a store.Attributes) { a["title"] = "b" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attrs := tt.attrs
			if attrs == nil {
				attrs = bjensen()
			}
			before := fmt.Sprint(attrs)
			got, err := Apply(users, attrs, []byte(tt.body), Options{})
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if diff := cmp.Diff(tt.want, got.Attrs); diff != "" {
				t.Errorf("Attrs mismatch (-want +got):\n%s", diff)
			}
			if got.Members != nil {
				t.Errorf("Members = %v, want none for a user", got.Members)
			}
			if after := fmt.Sprint(attrs); after != before {
				t.Errorf("input modified:\nbefore %s\nafter  %s", before, after)
			}
			if wantChanged := !cmp.Equal(attrs, tt.want); got.Changed != wantChanged {
				t.Errorf("Changed = %v, want %v", got.Changed, wantChanged)
			}
		})
	}
}

func wantSCIMError(t *testing.T, err error, status int, scimType string) {
	t.Helper()
	var se *scimerr.Error
	if !errors.As(err, &se) {
		t.Fatalf("error = %v (%T), want *scimerr.Error", err, err)
	}
	if se.Status != status || se.ScimType != scimType {
		t.Errorf("error = %d %q (%s), want %d %q", se.Status, se.ScimType, se.Detail, status, scimType)
	}
}

func TestApplyErrors(t *testing.T) {
	tests := []struct {
		name     string
		rt       *schema.ResourceType
		attrs    store.Attributes
		body     string
		status   int
		scimType string
		detail   string
	}{
		{"malformed JSON", users, nil, `{"Operations":[`, 400, scimerr.InvalidSyntax, "malformed"},
		{"not an object", users, nil, `[]`, 400, scimerr.InvalidSyntax, ""},
		{"operations not a list", users, nil, `{"Operations":{}}`, 400, scimerr.InvalidSyntax, "Operations"},
		{"unknown op", users, nil, ops(`{"op":"merge","path":"title","value":"x"}`), 400, scimerr.InvalidSyntax, `"merge"`},
		{"missing op", users, nil, ops(`{"path":"title","value":"x"}`), 400, scimerr.InvalidSyntax, ""},
		{"remove without path", users, nil, ops(`{"op":"remove"}`), 400, scimerr.NoTarget, ""},
		{"unknown attribute in path", users, nil, ops(`{"op":"add","path":"nosuch","value":"x"}`), 400, scimerr.InvalidPath, "nosuch"},
		{"bad path syntax", users, nil, ops(`{"op":"add","path":"emails[type eq","value":"x"}`), 400, scimerr.InvalidPath, ""},
		{"id", users, nil, ops(`{"op":"replace","path":"id","value":"x"}`), 400, scimerr.Mutability, `"id"`},
		{"meta", users, nil, ops(`{"op":"replace","path":"meta.lastModified","value":"2020-01-01T00:00:00Z"}`), 400, scimerr.Mutability, "meta"},
		{"schemas", users, nil, ops(`{"op":"add","path":"schemas","value":["x"]}`), 400, scimerr.Mutability, ""},
		{"groups on a user", users, nil, ops(`{"op":"add","path":"groups","value":[{"value":"g"}]}`), 400, scimerr.Mutability, "groups"},
		{"read-only sub-attribute", users, nil, ops(`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName","value":"x"}`), 400, scimerr.Mutability, "displayName"},
		{"immutable attribute changed", users, store.Attributes{"userName": "x", "employeeId": "E1"}, ops(`{"op":"replace","path":"employeeId","value":"E2"}`), 400, scimerr.Mutability, "employeeId"},
		{"immutable attribute removed", users, store.Attributes{"userName": "x", "employeeId": "E1"}, ops(`{"op":"remove","path":"employeeId"}`), 400, scimerr.Mutability, "employeeId"},
		{"required attribute removed", users, nil, ops(`{"op":"remove","path":"userName"}`), 400, scimerr.InvalidValue, "userName"},
		{"wrong type for boolean", users, nil, ops(`{"op":"replace","path":"active","value":"yes"}`), 400, scimerr.InvalidValue, "active"},
		{"wrong type in pathless value", users, nil, ops(`{"op":"replace","value":{"active":"maybe"}}`), 400, scimerr.InvalidValue, "active"},
		{"wrong type for string", users, nil, ops(`{"op":"replace","path":"title","value":{"a":1}}`), 400, scimerr.InvalidValue, "title"},
		{"wrong type inside element", users, nil, ops(`{"op":"add","path":"emails","value":[{"value":"x","primary":"often"}]}`), 400, scimerr.InvalidValue, "emails.primary"},
		{"list for single-valued complex", users, nil, ops(`{"op":"add","path":"name","value":[{"givenName":"x"}]}`), 400, scimerr.InvalidValue, "name"},
		{"non-integer for integer", users, nil, ops(`{"op":"add","path":"loginCount","value":1.5}`), 400, scimerr.InvalidValue, "loginCount"},
		{"bad dateTime", users, nil, ops(`{"op":"add","path":"hiredAt","value":"yesterday"}`), 400, scimerr.InvalidValue, "hiredAt"},
		{"two primaries in one add", users, nil, ops(`{"op":"add","path":"emails","value":[{"value":"a","primary":true},{"value":"b","primary":true}]}`), 400, scimerr.InvalidValue, "primary"},
		{"pathless value not an object", users, nil, ops(`{"op":"replace","value":"x"}`), 400, scimerr.InvalidValue, ""},
		{"replace on a non-canonical type creates nothing", users, nil, ops(`{"op":"replace","path":"emails[type eq \"nonexistent\"].value","value":"x@example.com"}`), 400, scimerr.NoTarget, "work"},
		{"add on a non-canonical type creates nothing", users, nil, ops(`{"op":"add","path":"emails[type eq \"nonexistent\"]","value":{"value":"x@example.com"}}`), 400, scimerr.NoTarget, ""},
		{"pathless filtered key on a non-canonical type", users, nil, ops(`{"op":"replace","value":{"emails[type eq \"nonexistent\"].value":"x@example.com"}}`), 400, scimerr.NoTarget, ""},
		{"filter on value matching nothing creates nothing", users, nil, ops(`{"op":"replace","path":"emails[value eq \"nobody@example.com\"].primary","value":true}`), 400, scimerr.NoTarget, ""},
		{"conjunction matching nothing creates nothing", users, nil, ops(`{"op":"add","path":"emails[type eq \"work\" and value eq \"n@example.com\"].display","value":"N"}`), 400, scimerr.NoTarget, ""},
		{"filter on an attribute without canonical types", users, nil, ops(`{"op":"add","path":"entitlements[type eq \"work\"].value","value":"x"}`), 400, scimerr.NoTarget, ""},
		{"filtered add with unstampable filter", users, store.Attributes{"userName": "x"}, ops(`{"op":"add","path":"emails[type ne \"work\"].value","value":"x"}`), 400, scimerr.NoTarget, ""},
		{"too many operations", users, nil, ops(strings.Repeat(`{"op":"add","path":"title","value":"x"},`, 1000) + `{"op":"add","path":"title","value":"x"}`), http.StatusRequestEntityTooLarge, scimerr.TooMany, "1000"},
		{"too many members", groups, store.Attributes{"displayName": "g"}, ops(`{"op":"add","path":"members","value":[` + strings.Repeat(`{"value":"u"},`, 10000) + `{"value":"u"}]}`), http.StatusRequestEntityTooLarge, scimerr.TooMany, ""},
		{"member without value", groups, store.Attributes{"displayName": "g"}, ops(`{"op":"add","path":"members","value":[{"display":"x"}]}`), 400, scimerr.InvalidValue, "members"},
		{"member filter other than value eq", groups, store.Attributes{"displayName": "g"}, ops(`{"op":"remove","path":"members[display eq \"x\"]"}`), 400, scimerr.InvalidFilter, ""},
		{"filtered add on members", groups, store.Attributes{"displayName": "g"}, ops(`{"op":"add","path":"members[value eq \"x\"]","value":{"value":"x"}}`), 400, scimerr.InvalidPath, ""},
		{"remove displayName", groups, store.Attributes{"displayName": "g"}, ops(`{"op":"remove","path":"displayName"}`), 400, scimerr.InvalidValue, "displayName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attrs := tt.attrs
			if attrs == nil {
				attrs = bjensen()
			}
			got, err := Apply(tt.rt, attrs, []byte(tt.body), Options{})
			if err == nil {
				t.Fatalf("Apply = %v, want error", got)
			}
			wantSCIMError(t, err, tt.status, tt.scimType)
			var se *scimerr.Error
			if errors.As(err, &se) && !strings.Contains(se.Detail, tt.detail) {
				t.Errorf("detail %q does not mention %q", se.Detail, tt.detail)
			}
		})
	}
}

func m(value, display string) store.Member { return store.Member{Value: value, Display: display} }

func TestApplyGroup(t *testing.T) {
	base := func() store.Attributes { return store.Attributes{"displayName": "Tour Guides", "externalId": "okta-1"} }
	tests := []struct {
		name        string
		body        string
		want        store.Attributes // base() when nil
		wantMembers []MemberOp
	}{
		{"Okta rename: pathless replace with id", ops(`{"op":"replace","value":{"id":"abf4dd94","displayName":"Guides"}}`),
			store.Attributes{"displayName": "Guides", "externalId": "okta-1"}, nil},
		{"Okta add members", ops(`{"op":"add","path":"members","value":[{"value":"u1","display":"a@x.com"},{"value":"u2","display":"b@x.com"}]}`),
			nil, []MemberOp{{Kind: AddMembers, Members: []store.Member{m("u1", "a@x.com"), m("u2", "b@x.com")}}}},
		{"Okta remove by filter without value", ops(`{"op":"remove","path":"members[value eq \"u1\"]"}`),
			nil, []MemberOp{{Kind: RemoveMembers, Members: []store.Member{m("u1", "")}}}},
		{"Okta removals merge into one change", ops(`{"op":"remove","path":"members[value eq \"u1\"]"}`, `{"op":"remove","path":"members[value eq \"u2\"]"}`),
			nil, []MemberOp{{Kind: RemoveMembers, Members: []store.Member{m("u1", ""), m("u2", "")}}}},
		{"remove by filter joined by or", ops(`{"op":"remove","path":"members[value eq \"u1\" or value eq \"u2\"]"}`),
			nil, []MemberOp{{Kind: RemoveMembers, Members: []store.Member{m("u1", ""), m("u2", "")}}}},
		{"Okta empty push removes all", ops(`{"op":"replace","path":"members","value":[]}`),
			nil, []MemberOp{{Kind: RemoveAllMembers}}},
		{"replace members", ops(`{"op":"replace","path":"members","value":[{"value":"u1","$ref":"https://x/Users/u1","type":"User"}]}`),
			nil, []MemberOp{{Kind: ReplaceMembers, Members: []store.Member{m("u1", "")}}}},
		{"Entra removes only the listed members", ops(`{"op":"Remove","path":"members","value":[{"value":"u1"}]}`),
			nil, []MemberOp{{Kind: RemoveMembers, Members: []store.Member{m("u1", "")}}}},
		{"Entra add, capitalised", ops(`{"op":"Add","path":"members","value":[{"value":"u3"}]}`),
			nil, []MemberOp{{Kind: AddMembers, Members: []store.Member{m("u3", "")}}}},
		{"remove members without value removes all", ops(`{"op":"remove","path":"members"}`),
			nil, []MemberOp{{Kind: RemoveAllMembers}}},
		{"Microsoft bare string member", ops(`{"op":"add","path":"members","value":"string id 1"}`),
			nil, []MemberOp{{Kind: AddMembers, Members: []store.Member{m("string id 1", "")}}}},
		{"single member object, keys in any case", ops(`{"op":"add","path":"members","value":{"Value":"u1","Display":"A"}}`),
			nil, []MemberOp{{Kind: AddMembers, Members: []store.Member{m("u1", "A")}}}},
		{"pathless add with members", ops(`{"op":"add","value":{"members":[{"value":"u1"}]}}`),
			nil, []MemberOp{{Kind: AddMembers, Members: []store.Member{m("u1", "")}}}},
		{"pathless replace with members and name", ops(`{"op":"replace","value":{"displayName":"G","members":[{"value":"u1"}]}}`),
			store.Attributes{"displayName": "G", "externalId": "okta-1"}, []MemberOp{{Kind: ReplaceMembers, Members: []store.Member{m("u1", "")}}}},
		{"duplicate ids collapse", ops(`{"op":"add","path":"members","value":[{"value":"u1","display":"first"},{"value":"u1","display":"again"}]}`),
			nil, []MemberOp{{Kind: AddMembers, Members: []store.Member{m("u1", "first")}}}},
		{"add after remove stays ordered", ops(`{"op":"remove","path":"members[value eq \"u1\"]"}`, `{"op":"add","path":"members","value":[{"value":"u1"}]}`),
			nil, []MemberOp{
				{Kind: RemoveMembers, Members: []store.Member{m("u1", "")}},
				{Kind: AddMembers, Members: []store.Member{m("u1", "")}},
			}},
		{"add after replace folds into the replace", ops(`{"op":"replace","path":"members","value":[{"value":"u1"}]}`, `{"op":"add","path":"members","value":[{"value":"u2"}]}`),
			nil, []MemberOp{{Kind: ReplaceMembers, Members: []store.Member{m("u1", ""), m("u2", "")}}}},
		{"remove after replace folds into the replace", ops(`{"op":"replace","path":"members","value":[{"value":"u1"},{"value":"u2"}]}`, `{"op":"remove","path":"members[value eq \"u1\"]"}`),
			nil, []MemberOp{{Kind: ReplaceMembers, Members: []store.Member{m("u2", "")}}}},
		{"add after remove all becomes a replace", ops(`{"op":"remove","path":"members"}`, `{"op":"add","path":"members","value":[{"value":"u2"}]}`),
			nil, []MemberOp{{Kind: ReplaceMembers, Members: []store.Member{m("u2", "")}}}},
		{"replace supersedes earlier changes", ops(`{"op":"add","path":"members","value":[{"value":"u1"}]}`, `{"op":"replace","path":"members","value":[{"value":"u2"}]}`),
			nil, []MemberOp{{Kind: ReplaceMembers, Members: []store.Member{m("u2", "")}}}},
		{"Entra remove with an empty list removes nothing", ops(`{"op":"Remove","path":"members","value":[]}`), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attrs := base()
			attrs["members"] = []any{map[string]any{"value": "stale"}} // never read
			got, err := Apply(groups, attrs, []byte(tt.body), Options{})
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			want := tt.want
			if want == nil {
				want = base()
			}
			if diff := cmp.Diff(want, got.Attrs); diff != "" {
				t.Errorf("Attrs mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantMembers, got.Members); diff != "" {
				t.Errorf("Members mismatch (-want +got):\n%s", diff)
			}
			if wantChanged := !cmp.Equal(base(), want); got.Changed != wantChanged {
				t.Errorf("Changed = %v, want %v", got.Changed, wantChanged)
			}
		})
	}
}

func TestApplyIsAtomic(t *testing.T) {
	attrs := bjensen()
	_, err := Apply(users, attrs, []byte(ops(
		`{"op":"replace","path":"title","value":"x"}`,
		`{"op":"replace","path":"active","value":"nope"}`)), Options{})
	wantSCIMError(t, err, 400, scimerr.InvalidValue)
	if diff := cmp.Diff(bjensen(), attrs); diff != "" {
		t.Errorf("input modified (-want +got):\n%s", diff)
	}
}

func TestApplyLimits(t *testing.T) {
	body := ops(`{"op":"add","path":"title","value":"a"}`, `{"op":"add","path":"title","value":"b"}`)
	_, err := Apply(users, bjensen(), []byte(body), Options{MaxOperations: 1})
	wantSCIMError(t, err, http.StatusRequestEntityTooLarge, scimerr.TooMany)
	body = ops(`{"op":"add","path":"members","value":["a","b"]}`, `{"op":"remove","path":"members[value eq \"c\"]"}`)
	_, err = Apply(groups, store.Attributes{"displayName": "g"}, []byte(body), Options{MaxMembers: 2})
	wantSCIMError(t, err, http.StatusRequestEntityTooLarge, scimerr.TooMany)
	// bjensen has two emails.
	body = ops(`{"op":"add","path":"emails","value":[{"value":"c@example.com"}]}`)
	_, err = Apply(users, bjensen(), []byte(body), Options{MaxValues: 2})
	wantSCIMError(t, err, http.StatusRequestEntityTooLarge, scimerr.TooMany)
	body = ops(`{"op":"add","path":"emails","value":[{"value":"c@example.com"}]}`, `{"op":"remove","path":"emails[value eq \"babs@jensen.org\"]"}`)
	if _, err := Apply(users, bjensen(), []byte(body), Options{MaxValues: 3}); err != nil {
		t.Errorf("three values, MaxValues 3: %v", err)
	}
	body = ops(`{"op":"add","path":"emails","value":[{"value":"BJENSEN@example.com","type":"WORK"},{"value":"babs@jensen.org","type":"home"}]}`)
	if _, err := Apply(users, bjensen(), []byte(body), Options{MaxValues: 2}); err != nil {
		t.Errorf("repeats at the limit: %v", err)
	}
	_, _, err = NormalizeWith(users, map[string]any{"userName": "x", "roles": []any{"a", "b", "c"}}, Options{MaxValues: 2})
	wantSCIMError(t, err, http.StatusRequestEntityTooLarge, scimerr.TooMany)
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name        string
		rt          *schema.ResourceType
		body        map[string]any
		want        store.Attributes
		wantMembers []store.Member
	}{
		{"Okta POST", users, map[string]any{
			"schemas":  []any{schema.UserURN},
			"userName": "x@example.com", "password": "p", "externalId": "00u1", "groups": []any{},
			"name":   map[string]any{"GivenName": "X", "familyName": nil},
			"emails": []any{map[string]any{"Primary": "True", "Value": "x@example.com", "Type": "work"}},
			"active": "true", "id": "abc", "meta": map[string]any{"resourceType": "User"},
		}, store.Attributes{
			"userName": "x@example.com", "externalId": "00u1", "active": true,
			"name":   map[string]any{"givenName": "X"},
			"emails": []any{map[string]any{"primary": true, "value": "x@example.com", "type": "work"}},
		}, nil},
		{"Entra POST with extension and misspelled attributes", users, map[string]any{
			"UserName": "y", "displayname": "Y", "roles": []any{}, "nickNam": "typo",
			ent: map[string]any{"Department": "Sales", "manager": "42", "unknown": 1},
		}, store.Attributes{
			"userName": "y", "displayName": "Y",
			ent: map[string]any{"department": "Sales", "manager": map[string]any{"value": "42"}},
		}, nil},
		{"extension attributes as top-level URN keys", users, map[string]any{
			"userName": "z", ent + ":department": "Ops", "urn:ietf:params:scim:schemas:core:2.0:User:title": "T",
		}, store.Attributes{"userName": "z", "title": "T", ent: map[string]any{"department": "Ops"}}, nil},
		{"OneLogin SCIM 1.1 template: 1.1 URNs, a single email object, managerId", users, map[string]any{
			"schemas":  []any{schema.CoreURN1, schema.EnterpriseURN1},
			"userName": "o@example.com", "active": "true", "title": "CTO",
			"emails": map[string]any{"value": "o@example.com", "type": "work", "primary": "true"},
			schema.EnterpriseURN1: map[string]any{"department": "R&D",
				"manager": map[string]any{"managerId": "m-1", "displayName": "Mo Manager"}},
			schema.CoreURN1 + ":nickName": "O",
		}, store.Attributes{
			"userName": "o@example.com", "active": true, "title": "CTO", "nickName": "O",
			"emails": []any{map[string]any{"value": "o@example.com", "type": "work", "primary": true}},
			ent:      map[string]any{"department": "R&D", "manager": map[string]any{"value": "m-1"}}, // displayName is read-only
		}, nil},
		{"Entra group with the legacy ADSCIM schema as a key", groups, map[string]any{
			"schemas":             []any{schema.GroupURN, schema.ADSCIMGroupURI},
			schema.ADSCIMGroupURI: map[string]any{"displayName": "G"},
		}, store.Attributes{"displayName": "G"}, nil},
		{"app attribute", users, map[string]any{"userName": "z", "MemberRole": "admin"},
			store.Attributes{"userName": "z", "memberRole": "admin"}, nil},
		{"group with members", groups, map[string]any{
			"displayName": "G", "members": []any{map[string]any{"value": "u1", "display": "A", "$ref": "x"}, "u2"},
		}, store.Attributes{"displayName": "G"}, []store.Member{m("u1", "A"), m("u2", "")}},
		{"group with empty members", groups, map[string]any{"displayName": "G", "members": []any{}},
			store.Attributes{"displayName": "G"}, []store.Member{}},
		{"group without members", groups, map[string]any{"displayName": "G"},
			store.Attributes{"displayName": "G"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, members, err := Normalize(tt.rt, tt.body)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("attributes mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantMembers, members); diff != "" {
				t.Errorf("members mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNormalizeErrors(t *testing.T) {
	tests := []struct {
		name string
		body map[string]any
	}{
		{"two primaries", map[string]any{"userName": "x", "emails": []any{
			map[string]any{"value": "a", "primary": true}, map[string]any{"value": "b", "primary": "True"}}}},
		{"wrong type for boolean", map[string]any{"userName": "x", "active": "sometimes"}},
		{"wrong type for string", map[string]any{"userName": []any{"x"}}},
		{"extension not an object", map[string]any{"userName": "x", ent: "Sales"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Normalize(users, tt.body)
			wantSCIMError(t, err, 400, scimerr.InvalidValue)
		})
	}
}

func BenchmarkApply(b *testing.B) {
	b.Run("EntraUser", func(b *testing.B) {
		attrs := bjensen()
		body := []byte(ops(
			`{"op":"Replace","path":"active","value":"False"}`,
			`{"op":"Replace","path":"displayName","value":"Barbara J"}`,
			`{"op":"Add","path":"emails[type eq \"work\"].value","value":"barbara@example.com"}`,
			`{"op":"Replace","path":"name.familyName","value":"Jensen-Smith"}`,
			`{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Sales"}`,
			`{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"26118915"}`,
		))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Apply(users, attrs, body, Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("OktaGroupAdd100", func(b *testing.B) {
		var vals []string
		for i := range 100 {
			vals = append(vals, fmt.Sprintf(`{"value":"00u%017d","display":"user%d@example.com"}`, i, i))
		}
		body := []byte(ops(`{"op":"add","path":"members","value":[` + strings.Join(vals, ",") + `]}`))
		attrs := store.Attributes{"displayName": "Tour Guides"}
		b.ReportAllocs()
		for b.Loop() {
			res, err := Apply(groups, attrs, body, Options{})
			if err != nil || len(res.Members[0].Members) != 100 {
				b.Fatal(err)
			}
		}
	})
	b.Run("OktaGroupRemove20", func(b *testing.B) {
		var list []string
		for i := range 20 {
			list = append(list, fmt.Sprintf(`{"op":"remove","path":"members[value eq \"00u%017d\"]"}`, i))
		}
		body := []byte(ops(list...))
		attrs := store.Attributes{"displayName": "Tour Guides"}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Apply(groups, attrs, body, Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
