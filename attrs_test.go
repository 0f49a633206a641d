package scim_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
	"github.com/scimkit/scim/store/memory"
)

const (
	acmeUserURN  = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"
	acmeGroupURN = "urn:ietf:params:scim:schemas:extension:acme:2.0:Group"
	scimkitURN   = "urn:ietf:params:scim:schemas:extension:scimkit:2.0:User"
	enterURN     = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
)

// attrSchema declares custom attributes of every kind: in the core User
// namespace, in an extension of the app's own, in the role policy's
// extension, and for groups.
func attrSchema() scim.Schema {
	return scim.Schema{
		User: []scim.Attribute{
			{Name: "seatType", CanonicalValues: []string{"standard", "premium"}, CanonicalOnly: true},
			{Name: "licensed", Type: scim.TypeBoolean},
			{Name: "startDate", Type: scim.TypeDateTime, Returned: scim.ReturnedRequest},
			{Name: "profile", Type: scim.TypeComplex, SubAttributes: []scim.Attribute{
				{Name: "team"}, {Name: "level", Type: scim.TypeInteger},
			}},
			{Name: "licenses", Type: scim.TypeComplex, MultiValued: true, SubAttributes: []scim.Attribute{
				{Name: "type", CanonicalValues: []string{"primary", "secondary"}}, {Name: "value"},
			}},
			{Name: "internalId", Mutability: scim.ReadOnly},
			{Name: "hireCode", Mutability: scim.Immutable},
			{Name: "secretPin", Mutability: scim.WriteOnly},
		},
		UserExtensions: []scim.Extension{
			{URN: acmeUserURN, Name: "AcmeUser", Attributes: []scim.Attribute{
				{Name: "licenseTier"}, {Name: "quota", Type: scim.TypeDecimal},
			}},
			{URN: scimkitURN, Attributes: []scim.Attribute{{Name: "costCode"}}},
		},
		Group: []scim.Attribute{{Name: "groupType", Required: true}},
		GroupExtensions: []scim.Extension{
			{URN: acmeGroupURN, Attributes: []scim.Attribute{{Name: "budget", Type: scim.TypeInteger}}},
		},
	}
}

// entraUser is a POST with declared core and extension attributes, the
// enterprise extension whole, and attributes the app did not declare.
const entraUser = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "` + enterURN + `", "` + acmeUserURN + `", "urn:example:unknown"],
  "userName": "ada@example.com", "active": true, "memberRole": "admin",
  "seatType": "Standard", "Licensed": "True", "startDate": "2026-01-05T09:00:00Z",
  "profile": {"team": "Red", "level": 3},
  "licenses": [{"type": "primary", "value": "L1"}, {"type": "secondary", "value": "L2"}],
  "internalId": "sent-by-idp", "hireCode": "H-1", "secretPin": "1234",
  "favouriteColour": "green",
  "urn:example:unknown": {"x": 1},
  "` + acmeUserURN + `": {"LICENSETIER": "silver", "quota": 1.5, "shoeSize": 9},
  "` + scimkitURN + `": {"costCode": "CC-1"},
  "` + enterURN + `": {"employeeNumber": "701984", "costCenter": "4130", "organization": "Universal Studios",
    "division": "Theme Park", "department": "Tour Operations",
    "manager": {"value": "mgr-0", "$ref": "../Users/mgr-0", "displayName": "read-only, dropped"}}
}`

// userAttrs is what a read of the user returns besides id, schemas and
// meta.
func userAttrs(doc map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range doc {
		if k != "id" && k != "meta" {
			out[k] = v
		}
	}
	return out
}

func TestDeclaredAttributes(t *testing.T) {
	for _, st := range isolationStores {
		t.Run(st.name, func(t *testing.T) {
			testDeclaredAttributes(t, st.open(t))
		})
	}
}

func testDeclaredAttributes(t *testing.T, st store.Store) {
	s := newTestServerWith(t, st, scim.Config{Schema: attrSchema()})
	created := s.must(http.StatusCreated, "POST", "/Users", entraUser)
	id := str(created.body, "id")
	want := map[string]any{
		"schemas":    []any{"urn:ietf:params:scim:schemas:core:2.0:User", enterURN, scimkitURN, acmeUserURN},
		"userName":   "ada@example.com",
		"active":     true,
		"memberRole": "admin",
		"seatType":   "standard",
		"licensed":   true,
		"profile":    map[string]any{"team": "Red", "level": float64(3)},
		"licenses": []any{map[string]any{"type": "primary", "value": "L1"},
			map[string]any{"type": "secondary", "value": "L2"}},
		"hireCode":  "H-1",
		acmeUserURN: map[string]any{"licenseTier": "silver", "quota": 1.5},
		scimkitURN:  map[string]any{"costCode": "CC-1", "memberRole": "admin", "managed": true},
		enterURN: map[string]any{"employeeNumber": "701984", "costCenter": "4130", "organization": "Universal Studios",
			"division": "Theme Park", "department": "Tour Operations", "manager": map[string]any{"value": "mgr-0", "$ref": "../Users/mgr-0"}},
	}
	if diff := cmp.Diff(want, userAttrs(created.body)); diff != "" {
		t.Fatalf("POST answer (-want +got):\n%s", diff)
	}
	got := s.must(http.StatusOK, "GET", "/Users/"+id, "")
	if diff := cmp.Diff(want, userAttrs(got.body)); diff != "" {
		t.Errorf("GET (-want +got):\n%s", diff)
	}

	// Returned "request": only when named; writeOnly: stored, never returned.
	got = s.must(http.StatusOK, "GET", "/Users/"+id+"?attributes=startDate,secretPin", "")
	if diff := cmp.Diff("2026-01-05T09:00:00Z", got.body["startDate"]); diff != "" {
		t.Errorf("attributes=startDate (-want +got):\n%s", diff)
	}
	if _, ok := got.body["secretPin"]; ok {
		t.Errorf("a writeOnly attribute was returned: %s", got.raw)
	}
	u := readUser(t, st, id)
	if pin, _ := store.AttrString(u.Attributes, "", "secretPin"); pin != "1234" {
		t.Errorf("secretPin stored as %q, want 1234", pin)
	}
	if _, ok := store.AttrValue(u.Attributes, "", "favouriteColour"); ok {
		t.Errorf("an undeclared attribute was stored: %v", u.Attributes)
	}
	if _, ok := store.AttrValue(u.Attributes, "", "internalId"); ok {
		t.Errorf("a readOnly attribute sent by the IdP was stored: %v", u.Attributes)
	}

	// Another user, that the filters must not find.
	s.must(http.StatusCreated, "POST", "/Users", `{"userName":"bob@example.com","seatType":"premium","licensed":false,
	  "profile":{"team":"Blue","level":4},"licenses":[{"type":"primary","value":"L7"}],
	  "`+acmeUserURN+`":{"licenseTier":"gold","quota":2},"`+scimkitURN+`":{"costCode":"CC-9"},
	  "`+enterURN+`":{"department":"Finance"}}`)
	for _, f := range []string{
		`seatType eq "STANDARD"`,
		`licensed eq true`,
		`profile.team eq "red"`,
		`profile.level eq 3`,
		`licenses.value eq "L2"`,
		`licenses[type eq "primary" and value eq "L1"]`,
		acmeUserURN + `:licenseTier eq "silver"`,
		acmeUserURN + `:quota eq 1.5`,
		scimkitURN + `:costCode eq "CC-1"`,
		enterURN + `:department eq "Tour Operations"`,
		enterURN + `:manager.value eq "mgr-0"`,
		`startDate gt "2026-01-01T00:00:00Z"`,
	} {
		list := s.must(http.StatusOK, "GET", "/Users?filter="+url.QueryEscape(f), "")
		var ids []string
		for _, r := range resources(t, list) {
			ids = append(ids, str(r, "id"))
		}
		if diff := cmp.Diff([]string{id}, ids); diff != "" {
			t.Errorf("filter %s (-want +got):\n%s", f, diff)
		}
	}

	// PATCH by every path form IdPs send.
	patch := func(ops string) {
		t.Helper()
		s.must(http.StatusOK, "PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+ops+`]}`)
	}
	patch(`{"op":"Replace","path":"seatType","value":"PREMIUM"}`)
	patch(`{"op":"replace","path":"profile.team","value":"Green"}`)
	patch(`{"op":"Add","path":"` + acmeUserURN + `:licenseTier","value":"gold"}`)
	patch(`{"op":"replace","path":"licenses[type eq \"primary\"].value","value":"L9"}`)
	patch(`{"op":"Replace","value":{"profile.level":"5","licensed":"False","` + acmeUserURN + `:quota":"2.5",
	  "` + enterURN + `:department":"Ops","` + scimkitURN + `:costCode":"CC-2"}}`)
	patch(`{"op":"Replace","path":"` + enterURN + `:manager","value":"mgr-1"}`)
	patch(`{"op":"add","path":"` + scimkitURN + `:memberRole","value":"data_owner"}`)
	patch(`{"op":"Remove","path":"licenses[type eq \"secondary\"]"}`)
	patch(`{"op":"Add","path":"licenses[type eq \"secondary\"].value","value":"L5"}`)
	want["seatType"] = "premium"
	want["licensed"] = false
	want["memberRole"] = "data_owner"
	want["profile"] = map[string]any{"team": "Green", "level": float64(5)}
	want["licenses"] = []any{map[string]any{"type": "primary", "value": "L9"}, map[string]any{"type": "secondary", "value": "L5"}}
	want[acmeUserURN] = map[string]any{"licenseTier": "gold", "quota": 2.5}
	want[scimkitURN] = map[string]any{"costCode": "CC-2", "memberRole": "data_owner", "managed": true}
	ent := want[enterURN].(map[string]any)
	ent["department"], ent["manager"] = "Ops", map[string]any{"value": "mgr-1", "$ref": "../Users/mgr-0"}
	got = s.must(http.StatusOK, "GET", "/Users/"+id, "")
	if diff := cmp.Diff(want, userAttrs(got.body)); diff != "" {
		t.Errorf("after PATCH (-want +got):\n%s", diff)
	}
	list := s.must(http.StatusOK, "GET", "/Users?filter="+url.QueryEscape(acmeUserURN+`:licenseTier eq "gold" and seatType eq "premium" and profile.team eq "Green"`), "")
	if n := len(resources(t, list)); n != 1 {
		t.Errorf("filter after PATCH found %d users, want 1", n)
	}
	patch(`{"op":"remove","path":"` + acmeUserURN + `:quota"}`)
	want[acmeUserURN] = map[string]any{"licenseTier": "gold"}

	// The app sets its readOnly attribute; an IdP's PUT (Okta sends back
	// what it read, changed) keeps it and changes the rest.
	setAttr(t, st, id, "internalId", "app-7")
	want["internalId"] = "app-7"
	got = s.must(http.StatusOK, "GET", "/Users/"+id, "")
	doc := got.body
	doc["seatType"] = "standard"
	doc["internalId"] = "changed-by-idp"
	delete(doc, "hireCode") // left out: kept
	doc[acmeUserURN] = map[string]any{"licenseTier": "bronze"}
	put := s.must(http.StatusOK, "PUT", "/Users/"+id, mustJSON(t, doc))
	want["seatType"] = "standard"
	want[acmeUserURN] = map[string]any{"licenseTier": "bronze"}
	if diff := cmp.Diff(want, userAttrs(put.body)); diff != "" {
		t.Errorf("PUT answer (-want +got):\n%s", diff)
	}
	got = s.must(http.StatusOK, "GET", "/Users/"+id, "")
	if diff := cmp.Diff(want, userAttrs(got.body)); diff != "" {
		t.Errorf("GET after PUT (-want +got):\n%s", diff)
	}
	u = readUser(t, st, id)
	if v, _ := store.AttrString(u.Attributes, acmeUserURN, "licenseTier"); v != "bronze" {
		t.Errorf("store.AttrString(licenseTier) = %q, want bronze", v)
	}
	if v, _ := store.AttrNumber(u.Attributes, "", "profile.level"); v != 5 {
		t.Errorf("store.AttrNumber(profile.level) = %v, want 5", v)
	}

	// Bad values and writes the schema forbids: 400 with the right
	// scimType, nothing changed.
	before := s.must(http.StatusOK, "GET", "/Users/"+id, "").raw
	bad := []struct {
		name, method, body, scimType string
	}{
		{"non-canonical seatType", "PATCH", `{"op":"replace","path":"seatType","value":"gold"}`, "invalidValue"},
		{"integer as text", "PATCH", `{"op":"replace","path":"profile.level","value":"high"}`, "invalidValue"},
		{"fraction for an integer", "PATCH", `{"op":"replace","value":{"profile.level":2.5}}`, "invalidValue"},
		{"boolean as text", "PATCH", `{"op":"replace","path":"licensed","value":"maybe"}`, "invalidValue"},
		{"dateTime", "PATCH", `{"op":"replace","path":"startDate","value":"yesterday"}`, "invalidValue"},
		{"decimal in the extension", "PATCH", `{"op":"replace","path":"` + acmeUserURN + `:quota","value":"lots"}`, "invalidValue"},
		{"object for a string", "PATCH", `{"op":"replace","path":"seatType","value":{"a":1}}`, "invalidValue"},
		{"readOnly by path", "PATCH", `{"op":"replace","path":"internalId","value":"x"}`, "mutability"},
		{"immutable changed", "PATCH", `{"op":"replace","path":"hireCode","value":"H-2"}`, "mutability"},
		{"immutable removed", "PATCH", `{"op":"remove","path":"hireCode"}`, "mutability"},
		{"undeclared by path", "PATCH", `{"op":"replace","path":"favouriteColour","value":"red"}`, "invalidPath"},
		{"immutable changed by PUT", "PUT", `{"userName":"ada@example.com","hireCode":"H-3"}`, "mutability"},
		{"non-canonical seatType by PUT", "PUT", `{"userName":"ada@example.com","seatType":"gold"}`, "invalidValue"},
	}
	for _, b := range bad {
		body := b.body
		if b.method == "PATCH" {
			body = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + body + `]}`
		}
		r := s.do(b.method, "/Users/"+id, body)
		if r.status != http.StatusBadRequest || str(r.body, "scimType") != b.scimType {
			t.Errorf("%s: %d %s, want 400 %s: %s", b.name, r.status, str(r.body, "scimType"), b.scimType, r.raw)
		}
	}
	if after := s.must(http.StatusOK, "GET", "/Users/"+id, "").raw; after != before {
		t.Errorf("a refused write changed the user:\n%s\n%s", before, after)
	}
	r := s.do("POST", "/Users", `{"userName":"cy@example.com","seatType":"gold"}`)
	if r.status != http.StatusBadRequest || str(r.body, "scimType") != "invalidValue" {
		t.Errorf("POST with a non-canonical value: %d %s", r.status, r.raw)
	}

	// Groups: a declared core attribute (required) and an extension.
	g := s.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"Eng","groupType":"team","`+acmeGroupURN+`":{"budget":"100"},"members":[]}`)
	gid := str(g.body, "id")
	wantGroup := map[string]any{
		"schemas":     []any{"urn:ietf:params:scim:schemas:core:2.0:Group", acmeGroupURN},
		"displayName": "Eng", "groupType": "team", acmeGroupURN: map[string]any{"budget": float64(100)},
		"members": []any{},
	}
	if diff := cmp.Diff(wantGroup, userAttrs(g.body)); diff != "" {
		t.Errorf("POST /Groups (-want +got):\n%s", diff)
	}
	s.must(http.StatusNoContent, "PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations":[{"op":"Replace","value":{"`+acmeGroupURN+`:budget":250,"groupType":"project"}}]}`)
	list = s.must(http.StatusOK, "GET", "/Groups?excludedAttributes=members&filter="+url.QueryEscape(acmeGroupURN+`:budget eq 250 and groupType eq "project"`), "")
	if got := resources(t, list); len(got) != 1 || str(got[0], "id") != gid {
		t.Errorf("group filter: %s", list.raw)
	}
	r = s.do("POST", "/Groups", `{"displayName":"Ops"}`)
	if r.status != http.StatusBadRequest || str(r.body, "scimType") != "invalidValue" {
		t.Errorf("POST /Groups without a required attribute: %d %s", r.status, r.raw)
	}
	r = s.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"groupType"}]}`)
	if r.status != http.StatusBadRequest || str(r.body, "scimType") != "invalidValue" {
		t.Errorf("PATCH removing a required attribute: %d %s", r.status, r.raw)
	}
}

// readUser reads a user of tenant acme through the store.
func readUser(t *testing.T, st store.Store, id string) store.User {
	t.Helper()
	var u store.User
	err := st.View(context.Background(), "acme", func(tx store.Reader) error {
		var err error
		u, err = tx.User(context.Background(), id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// setAttr sets a core attribute of a user of tenant acme through the store,
// as the app sets its read-only attributes.
func setAttr(t *testing.T, st store.Store, id, name string, v any) {
	t.Helper()
	err := st.Update(context.Background(), "acme", func(tx store.Tx) error {
		u, err := tx.User(context.Background(), id)
		if err != nil {
			return err
		}
		u.Attributes[name] = v
		return tx.UpdateUser(context.Background(), &u)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDeclaredAttributesEncoded: a store that hands out users encoded
// (store.RawUserReader, store.RawUserLister) returns the attributes the app
// declared in the role policy's extension beside the role, as a decoded
// read does.
func TestDeclaredAttributesEncoded(t *testing.T) {
	for _, st := range isolationStores {
		t.Run(st.name, func(t *testing.T) {
			s := newTestServerWith(t, st.open(t), scim.Config{Schema: scim.Schema{
				User:           []scim.Attribute{{Name: "seatType"}},
				UserExtensions: []scim.Extension{{URN: scimkitURN, Attributes: []scim.Attribute{{Name: "costCode"}, {Name: "zone"}}}},
			}})
			id := str(s.must(http.StatusCreated, "POST", "/Users", `{"userName":"ada@example.com","seatType":"x",
			  "`+scimkitURN+`":{"costCode":"CC-1","zone":"eu","memberRole":"admin"}}`).body, "id")
			want := map[string]any{"costCode": "CC-1", "zone": "eu", "memberRole": "admin", "managed": true}
			got := s.must(http.StatusOK, "GET", "/Users/"+id, "")
			if diff := cmp.Diff(want, got.body[scimkitURN]); diff != "" {
				t.Errorf("GET (-want +got):\n%s", diff)
			}
			list := s.must(http.StatusOK, "GET", "/Users?filter="+url.QueryEscape(`userName eq "ada@example.com"`), "")
			if diff := cmp.Diff(got.body, resources(t, list)[0]); diff != "" {
				t.Errorf("listed (-GET +list):\n%s", diff)
			}
			if got.body["seatType"] != "x" {
				t.Errorf("seatType = %v", got.body["seatType"])
			}
		})
	}
}

// TestDeclaredAttributesDiscovery: /Schemas and /ResourceTypes advertise
// the declared attributes and extensions, as Okta's and Entra's schema
// discovery read them.
func TestDeclaredAttributesDiscovery(t *testing.T) {
	s := newTestServer(t, scim.Config{Schema: attrSchema()})
	rt := s.must(http.StatusOK, "GET", "/ResourceTypes/User", "")
	wantExt := []any{
		map[string]any{"schema": enterURN, "required": false},
		map[string]any{"schema": scimkitURN, "required": false},
		map[string]any{"schema": acmeUserURN, "required": false},
	}
	if diff := cmp.Diff(wantExt, rt.body["schemaExtensions"]); diff != "" {
		t.Errorf("User schemaExtensions (-want +got):\n%s", diff)
	}
	rt = s.must(http.StatusOK, "GET", "/ResourceTypes/Group", "")
	if diff := cmp.Diff([]any{map[string]any{"schema": acmeGroupURN, "required": false}}, rt.body["schemaExtensions"]); diff != "" {
		t.Errorf("Group schemaExtensions (-want +got):\n%s", diff)
	}
	acme := s.must(http.StatusOK, "GET", "/Schemas/"+acmeUserURN, "")
	if diff := cmp.Diff("AcmeUser", acme.body["name"]); diff != "" {
		t.Errorf("name (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"licenseTier", "quota"}, attrNames(acme.body)); diff != "" {
		t.Errorf("acme attributes (-want +got):\n%s", diff)
	}
	role := s.must(http.StatusOK, "GET", "/Schemas/"+scimkitURN, "")
	if diff := cmp.Diff([]string{"memberRole", "managed", "costCode"}, attrNames(role.body)); diff != "" {
		t.Errorf("role extension attributes (-want +got):\n%s", diff)
	}
	core := s.must(http.StatusOK, "GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", "")
	var seat map[string]any
	for _, a := range core.body["attributes"].([]any) {
		if m := a.(map[string]any); m["name"] == "seatType" {
			seat = m
		}
	}
	wantSeat := map[string]any{"name": "seatType", "type": "string", "multiValued": false, "required": false,
		"caseExact": false, "mutability": "readWrite", "returned": "default", "uniqueness": "none",
		"canonicalValues": []any{"standard", "premium"}}
	if diff := cmp.Diff(wantSeat, seat); diff != "" {
		t.Errorf("seatType in /Schemas (-want +got):\n%s", diff)
	}
	if !strings.Contains(str(core.body, "description"), "are ignored") {
		t.Errorf("the User schema does not say undeclared attributes are ignored: %q", str(core.body, "description"))
	}
	group := s.must(http.StatusOK, "GET", "/Schemas/"+acmeGroupURN, "")
	if diff := cmp.Diff([]string{"budget"}, attrNames(group.body)); diff != "" {
		t.Errorf("group extension attributes (-want +got):\n%s", diff)
	}
}

func attrNames(schema map[string]any) []string {
	var out []string
	for _, a := range schema["attributes"].([]any) {
		out = append(out, a.(map[string]any)["name"].(string))
	}
	return out
}

// TestSchemaConfigRefused: NewHandler refuses declarations that cannot
// work, with an error matching ErrInvalidConfig that names the field.
func TestSchemaConfigRefused(t *testing.T) {
	tests := []struct {
		name   string
		schema scim.Schema
		field  string
	}{
		{"core name", scim.Schema{User: []scim.Attribute{{Name: "emails"}}}, "Config.Schema.User[0].Name"},
		{"core name in another case", scim.Schema{User: []scim.Attribute{{Name: "USERNAME"}}}, "Config.Schema.User[0].Name"},
		{"common name", scim.Schema{Group: []scim.Attribute{{Name: "externalId"}}}, "Config.Schema.Group[0].Name"},
		{"enterprise name at the top", scim.Schema{User: []scim.Attribute{{Name: "department"}}}, "Config.Schema.User[0].Name"},
		{"role attribute", scim.Schema{User: []scim.Attribute{{Name: "memberrole"}}}, "Config.Schema.User[0].Name"},
		{"role attribute in its extension", scim.Schema{UserExtensions: []scim.Extension{{URN: scimkitURN, Attributes: []scim.Attribute{{Name: "managed"}}}}}, "Config.Schema.UserExtensions[0].Attributes[0].Name"},
		{"duplicate ignoring case", scim.Schema{User: []scim.Attribute{{Name: "seat"}, {Name: "Seat"}}}, "Config.Schema.User[1].Name"},
		{"bad name", scim.Schema{User: []scim.Attribute{{Name: "seat type"}}}, "Config.Schema.User[0].Name"},
		{"empty name", scim.Schema{User: []scim.Attribute{{}}}, "Config.Schema.User[0].Name"},
		{"bad type", scim.Schema{User: []scim.Attribute{{Name: "a", Type: "text"}}}, "Config.Schema.User[0].Type"},
		{"complex without subs", scim.Schema{User: []scim.Attribute{{Name: "a", Type: scim.TypeComplex}}}, "Config.Schema.User[0].SubAttributes"},
		{"complex sub", scim.Schema{User: []scim.Attribute{{Name: "a", Type: scim.TypeComplex, SubAttributes: []scim.Attribute{{Name: "b", Type: scim.TypeComplex}}}}}, "Config.Schema.User[0].SubAttributes[0].Type"},
		{"subs on a string", scim.Schema{User: []scim.Attribute{{Name: "a", SubAttributes: []scim.Attribute{{Name: "b"}}}}}, "Config.Schema.User[0].SubAttributes"},
		{"duplicate sub", scim.Schema{User: []scim.Attribute{{Name: "a", Type: scim.TypeComplex, SubAttributes: []scim.Attribute{{Name: "b"}, {Name: "B"}}}}}, "Config.Schema.User[0].SubAttributes[1].Name"},
		{"readOnly sub", scim.Schema{User: []scim.Attribute{{Name: "a", Type: scim.TypeComplex, SubAttributes: []scim.Attribute{{Name: "b", Mutability: scim.ReadOnly}}}}}, "Config.Schema.User[0].SubAttributes[0].Mutability"},
		{"multi-valued sub", scim.Schema{User: []scim.Attribute{{Name: "a", Type: scim.TypeComplex, SubAttributes: []scim.Attribute{{Name: "b", MultiValued: true}}}}}, "Config.Schema.User[0].SubAttributes[0].MultiValued"},
		{"bad mutability", scim.Schema{User: []scim.Attribute{{Name: "a", Mutability: "sometimes"}}}, "Config.Schema.User[0].Mutability"},
		{"bad returned", scim.Schema{User: []scim.Attribute{{Name: "a", Returned: "often"}}}, "Config.Schema.User[0].Returned"},
		{"writeOnly returned", scim.Schema{User: []scim.Attribute{{Name: "a", Mutability: scim.WriteOnly, Returned: scim.ReturnedAlways}}}, "Config.Schema.User[0].Returned"},
		{"required readOnly", scim.Schema{User: []scim.Attribute{{Name: "a", Mutability: scim.ReadOnly, Required: true}}}, "Config.Schema.User[0].Required"},
		{"canonical only without values", scim.Schema{User: []scim.Attribute{{Name: "a", CanonicalOnly: true}}}, "Config.Schema.User[0].CanonicalOnly"},
		{"canonical only on a number", scim.Schema{User: []scim.Attribute{{Name: "a", Type: scim.TypeInteger, CanonicalOnly: true, CanonicalValues: []string{"1"}}}}, "Config.Schema.User[0].CanonicalOnly"},
		{"not a URN", scim.Schema{UserExtensions: []scim.Extension{{URN: "acme:User"}}}, "Config.Schema.UserExtensions[0].URN"},
		{"empty URN", scim.Schema{GroupExtensions: []scim.Extension{{}}}, "Config.Schema.GroupExtensions[0].URN"},
		{"URN with a space", scim.Schema{UserExtensions: []scim.Extension{{URN: "urn:acme:v1 User"}}}, "Config.Schema.UserExtensions[0].URN"},
		{"enterprise URN", scim.Schema{UserExtensions: []scim.Extension{{URN: strings.ToUpper(enterURN)}}}, "Config.Schema.UserExtensions[0].URN"},
		{"core URN", scim.Schema{GroupExtensions: []scim.Extension{{URN: "urn:ietf:params:scim:schemas:core:2.0:Group"}}}, "Config.Schema.GroupExtensions[0].URN"},
		{"duplicate URN", scim.Schema{UserExtensions: []scim.Extension{{URN: acmeUserURN}, {URN: strings.ToLower(acmeUserURN)}}}, "Config.Schema.UserExtensions[1].URN"},
		{"URN prefixing another", scim.Schema{UserExtensions: []scim.Extension{{URN: "urn:acme:User"}, {URN: "urn:acme:User:v2"}}}, "Config.Schema.UserExtensions[0].URN"},
		{"role URN in another case", scim.Schema{UserExtensions: []scim.Extension{{URN: strings.ToUpper(scimkitURN)}}}, "Config.Schema.UserExtensions[0].URN"},
		{"required role extension", scim.Schema{UserExtensions: []scim.Extension{{URN: scimkitURN, Required: true}}}, "Config.Schema.UserExtensions[0].Required"},
		{"duplicate in an extension", scim.Schema{UserExtensions: []scim.Extension{{URN: acmeUserURN, Attributes: []scim.Attribute{{Name: "a"}, {Name: "A"}}}}}, "Config.Schema.UserExtensions[0].Attributes[1].Name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := scim.NewHandler(memoryStore(), demoPolicy, scim.Config{Authenticator: tokensFor(), Schema: tt.schema})
			if !errors.Is(err, scim.ErrInvalidConfig) {
				t.Fatalf("NewHandler: %v, want ErrInvalidConfig", err)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error %q does not name %s", err, tt.field)
			}
		})
	}
	// The role attribute in the standard roles: an extension of the
	// policy's URN holds the app's attributes beside managed.
	roles := scim.RolePolicy{Attribute: "roles", ExtensionURN: scimkitURN, Values: []string{"a"}, Default: "a"}
	if _, err := scim.NewHandler(memoryStore(), roles, scim.Config{Authenticator: tokensFor(), Schema: scim.Schema{
		UserExtensions: []scim.Extension{{URN: scimkitURN, Attributes: []scim.Attribute{{Name: "memberRole"}}}},
	}}); err != nil {
		t.Errorf("NewHandler with roles and an attribute in the policy's extension: %v", err)
	}
}

func memoryStore() store.Store { return memory.New() }

// TestDeclaredReturned: the returned characteristic of declared
// attributes against attributes and excludedAttributes.
func TestDeclaredReturned(t *testing.T) {
	s := newTestServer(t, scim.Config{Schema: scim.Schema{
		User: []scim.Attribute{
			{Name: "tenantKey", Returned: scim.ReturnedAlways},
			{Name: "note", Returned: scim.ReturnedRequest},
			{Name: "pin", Mutability: scim.WriteOnly},
			{Name: "plain"},
		},
		UserExtensions: []scim.Extension{{URN: acmeUserURN, Attributes: []scim.Attribute{
			{Name: "tier", Returned: scim.ReturnedAlways}, {Name: "hidden", Returned: scim.ReturnedNever},
		}}},
	}})
	created := s.must(http.StatusCreated, "POST", "/Users", `{"userName":"ada@example.com","tenantKey":"k","note":"n","pin":"1","plain":"p",
	  "`+acmeUserURN+`":{"tier":"t","hidden":"h"}}`)
	id := str(created.body, "id")
	keys := func(doc map[string]any) []string {
		var out []string
		for k := range doc {
			if k != "id" && k != "schemas" && k != "meta" && k != "active" {
				out = append(out, k)
			}
		}
		return sortedCopy(out)
	}
	tests := []struct {
		query string
		want  []string
		ext   map[string]any
	}{
		{"", []string{"memberRole", "plain", "tenantKey", "urn:ietf:params:scim:schemas:extension:scimkit:2.0:User", "userName", acmeUserURN}, map[string]any{"tier": "t"}},
		{"?attributes=userName", []string{"tenantKey", "userName", acmeUserURN}, map[string]any{"tier": "t"}},
		{"?attributes=note,pin," + acmeUserURN + ":hidden", []string{"note", "tenantKey", acmeUserURN}, map[string]any{"tier": "t"}},
		{"?excludedAttributes=tenantKey,plain," + acmeUserURN + ":tier", []string{"memberRole", "tenantKey", "urn:ietf:params:scim:schemas:extension:scimkit:2.0:User", "userName", acmeUserURN}, map[string]any{"tier": "t"}},
	}
	for _, tt := range tests {
		got := s.must(http.StatusOK, "GET", "/Users/"+id+tt.query, "")
		if diff := cmp.Diff(sortedCopy(tt.want), keys(got.body)); diff != "" {
			t.Errorf("GET%s (-want +got):\n%s", tt.query, diff)
		}
		if diff := cmp.Diff(tt.ext, got.body[acmeUserURN]); diff != "" {
			t.Errorf("GET%s extension (-want +got):\n%s", tt.query, diff)
		}
	}
	if diff := cmp.Diff(sortedCopy(tests[0].want), keys(created.body)); diff != "" {
		t.Errorf("POST answer (-want +got):\n%s", diff)
	}
}
