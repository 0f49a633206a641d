package patch

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/scimkit/scim/internal/scimerr"
	"github.com/scimkit/scim/store"
)

// applySeeds are PATCH bodies as identity providers send them. The
// checked-in corpus in testdata/fuzz/FuzzApply holds inputs that once
// failed.
var applySeeds = []string{
	// Okta: deactivate, profile push, group push.
	ops(`{"op":"replace","value":{"active":false}}`),
	ops(`{"op":"replace","value":{"id":"abf4dd94","displayName":"Renamed"}}`),
	ops(`{"op":"add","path":"members","value":[{"value":"a","display":"A"},{"value":"b","display":"B"}]}`),
	ops(`{"op":"remove","path":"members[value eq \"a\"]"}`),
	ops(`{"op":"replace","path":"members","value":[]}`),
	// Entra: capitalised ops, string booleans, URN paths, bare manager id,
	// member removal by value list.
	ops(`{"op":"Replace","path":"active","value":"False"}`),
	ops(`{"op":"Add","path":"emails[type eq \"work\"].value","value":"x@contoso.com"}`),
	ops(`{"op":"Replace","path":"name.givenName","value":"Ada"}`),
	ops(`{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"26118915"}`),
	ops(`{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"R&D"}`),
	ops(`{"op":"Remove","path":"members","value":[{"value":"a"}]}`),
	ops(`{"op":"Add","path":"roles","value":[{"primary":"True","value":"admin"}]}`),
	// Entra with aadOptscim062020: pathless dotted and URN keys.
	ops(`{"op":"replace","value":{"name.givenName":"x","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":"1"}}}`),
	ops(`{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"7"}}`),
	// Others and corners.
	ops(`{"op":"remove","path":"emails","value":[{"value":"a"}]}`),
	ops(`{"op":"add","path":"members","value":["a",{"value":"b"}]}`),
	ops(`{"op":"remove","path":"members[value eq \"a\" or value eq \"b\"]"}`),
	ops(`{"op":"add","path":"emails","value":[{"value":"n@x","primary":true}]}`),
	ops(`{"op":"replace","path":"emails[primary eq true].value","value":"p@x"}`),
	ops(`{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}`),
	ops(`{"op":"add","value":{"memberRole":"admin","loginCount":"3","hiredAt":"2020-01-01T00:00:00Z"}}`),
}

// FuzzApply checks that no body panics, that every error is a SCIM error,
// and that what a successful PATCH produces can be stored and sent back
// as JSON and read again as a PUT body (Okta puts back what it got).
func FuzzApply(f *testing.F) {
	for _, s := range applySeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var se *scimerr.Error
		res, err := Apply(users, bjensen(), []byte(body), Options{})
		if err != nil && !errors.As(err, &se) {
			t.Fatalf("Apply users: %T %v", err, err)
		}
		if err == nil {
			roundTrip(t, "Apply users", res.Attrs)
		}
		gres, err := Apply(groups, store.Attributes{"displayName": "g"}, []byte(body), Options{})
		if err != nil && !errors.As(err, &se) {
			t.Fatalf("Apply groups: %T %v", err, err)
		}
		if err == nil {
			roundTrip(t, "Apply groups", gres.Attrs)
			for _, op := range gres.Members {
				if op.Kind == ReplaceMembers && len(op.Members) == 0 {
					t.Fatalf("Apply groups: ReplaceMembers with no members")
				}
				for _, m := range op.Members {
					// Removing "" (members[value eq ""]) removes no one;
					// adding it would be a member without a user.
					if m.Value == "" && op.Kind != RemoveMembers {
						t.Fatalf("Apply groups: %v of an empty member id", op.Kind)
					}
				}
			}
		}
	})
}

// normalizeSeeds are POST and PUT bodies as identity providers send them.
var normalizeSeeds = []string{
	// Okta create, with password and groups.
	`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"isaac@example.com","name":{"givenName":"Isaac","familyName":"Brock"},"emails":[{"primary":true,"value":"isaac@example.com","type":"work"}],"displayName":"Isaac Brock","locale":"en-US","externalId":"00ujl29u0le5T6Aj10h7","groups":[],"password":"1mz050nq","active":true}`,
	// Okta profile push: the whole document back, id and meta included.
	`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"23a35c27","userName":"isaac@example.com","name":{"givenName":"Isaac","familyName":"Brock"},"active":false,"meta":{"resourceType":"User","version":"W/\"3\""}}`,
	// Entra create, with the enterprise extension and roles.
	`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"externalId":"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef","userName":"Test_User_ab6490ee@contoso.com","active":true,"addresses":[{"primary":true,"type":"work","country":"US","locality":"Seattle"}],"displayName":"Test User","emails":[{"primary":true,"type":"work","value":"Test_User_fd0ea19b@contoso.com"}],"meta":{"resourceType":"User"},"name":{"familyName":"User","givenName":"Test"},"phoneNumbers":[{"primary":true,"type":"work","value":"123-555-1234"}],"roles":[],"title":"Engineer","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D","manager":"26118915","employeeNumber":"42"}}`,
	// OneLogin: string booleans, a SCIM 1.x URN, a top-level URN key.
	`{"schemas":["urn:scim:schemas:core:1.0"],"userName":"o@x","active":"True","emails":[{"value":"o@x","primary":"true"}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"Ops","memberRole":"default"}`,
	// Groups: Okta push, Entra with members, JumpCloud.
	`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Test SCIMv2","members":[]}`,
	`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"externalId":"8aa1a0c0","displayName":"Group1DisplayName","members":[{"value":"a","display":"A"},"b"]}`,
	`{"displayName":"g","members":null,"id":"x","meta":{"created":"2020-01-01T00:00:00Z"}}`,
	// Corners.
	`{"userName":"x","emails":[{"value":"a","primary":true},{"value":"b","primary":true}]}`,
	`{"USERNAME":"x","Name":{"GivenName":1},"loginCount":"12","hiredAt":"not a date","active":null}`,
}

// FuzzNormalize checks that no POST or PUT body panics Normalize, that
// every error is a SCIM error, and that what it returns can be stored,
// sent as JSON and normalised again (a GET then PUT round trip).
func FuzzNormalize(f *testing.F) {
	for _, s := range normalizeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		dec := json.NewDecoder(bytes.NewReader([]byte(body)))
		dec.UseNumber() // as the handler decodes bodies
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil || doc == nil {
			return
		}
		var se *scimerr.Error
		attrs, _, err := Normalize(users, doc)
		if err != nil && !errors.As(err, &se) {
			t.Fatalf("Normalize users: %T %v", err, err)
		}
		if err == nil {
			roundTrip(t, "Normalize users", attrs)
		}
		// The decoded body is read, never changed: decode it again to be
		// sure the group run sees the same input.
		dec = json.NewDecoder(bytes.NewReader([]byte(body)))
		dec.UseNumber()
		doc = nil
		dec.Decode(&doc)
		attrs, members, err := Normalize(groups, doc)
		if err != nil && !errors.As(err, &se) {
			t.Fatalf("Normalize groups: %T %v", err, err)
		}
		if err == nil {
			roundTrip(t, "Normalize groups", attrs)
			for _, m := range members {
				if m.Value == "" {
					t.Fatalf("Normalize groups: a member with an empty id")
				}
			}
		}
	})
}

// roundTrip checks that attributes marshal to JSON and that the JSON,
// decoded as a request body would be, normalises without error.
func roundTrip(t *testing.T, what string, attrs store.Attributes) {
	t.Helper()
	b, err := json.Marshal(attrs)
	if err != nil {
		t.Fatalf("%s: result does not marshal: %v\n%#v", what, err, attrs)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%s: result JSON does not decode: %v\n%s", what, err, b)
	}
	rt := users
	if _, ok := attrs["userName"]; !ok {
		rt = groups
	}
	if _, _, err := Normalize(rt, doc); err != nil {
		t.Fatalf("%s: result %s does not normalise again: %v", what, b, err)
	}
}
