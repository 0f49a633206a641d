package filter

import (
	"errors"
	"testing"
	"time"

	"github.com/scimkit/scim/internal/schema"
	"github.com/scimkit/scim/internal/scimerr"
	"github.com/scimkit/scim/store"
)

// fuzzSeeds are filters and PATCH paths as identity providers send them,
// plus shapes that stress the grammar. The checked-in corpus in
// testdata/fuzz/FuzzParse holds inputs that once failed.
var fuzzSeeds = []string{
	// Okta: import lookups, group push.
	`userName eq "isaac.brock@example.com"`, `displayName eq "Engineering"`,
	`id eq "2819c223-7f76-453a-919d-413861904646"`,
	// Entra: the connection test and its matching attributes.
	`userName eq "8d1b1e4f-6c1b-4b1a-9a6e-3c1e5a2f7d10"`, `externalId eq "0a1b2c3d-4e5f"`,
	`emails[type eq "work"].value eq "ada@contoso.com"`,
	`members[value eq "2819c223"]`, `emails[type eq "work"].value`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "R&D"`,
	`urn:ietf:params:scim:schemas:core:2.0:User:name.givenName sw "A"`,
	// OneLogin, JumpCloud, PingFederate.
	`userName Eq "X"`, `active eq "True"`, `name.familyName co "O'Malley"`,
	`meta.lastModified gt "2011-05-13T04:42:34Z"`,
	// Grammar corners.
	`emails[type eq "work" and value co "@x"] or not (title pr)`,
	`meta.created gt 2015-10-10T14:38:21 02:00`, `emails[type eq "work"].value eq x`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq 1e3`,
	`((a eq "\u00E9"))`, `members[value eq "x" or display co "y"].value`,
	`members.value eq "x" and displayName ne null`, `not(members pr)`,
	`emails[not (type eq "home")]`, `userName eq "a\"b\\c"`,
}

// FuzzParse checks that no filter or PATCH path panics, takes long or
// fails with anything but a SCIM error, over the User and the Group
// resource types, and that a parsed filter evaluates without panicking.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	resources := map[*schema.ResourceType]store.Resolver{
		users: (&store.User{ID: "2819c223", Attributes: store.Attributes{
			"userName": "bjensen@example.com", "active": true, "externalId": "e1",
			"name": map[string]any{"givenName": "Barbara", "familyName": "Jensen"},
			"emails": []any{
				map[string]any{"value": "bjensen@example.com", "type": "work", "primary": true},
				map[string]any{"value": "babs@jensen.org", "type": "home"},
			},
			schema.EnterpriseURN: map[string]any{"department": "Tour", "manager": map[string]any{"value": "26118915"}},
		}, Meta: store.Meta{Created: time.Date(2011, 8, 1, 18, 29, 49, 0, time.UTC)}}).Resolve,
		groups: store.MapResolver(map[string]any{"id": "g1", "displayName": "Tour Guides",
			"members": []any{map[string]any{"value": "2819c223", "display": "Babs"}}}),
	}
	f.Fuzz(func(t *testing.T, s string) {
		var se *scimerr.Error
		parse := func() {
			for _, rt := range []*schema.ResourceType{users, groups} {
				flt, err := Parse(rt, s)
				if err != nil && !errors.As(err, &se) {
					t.Fatalf("Parse(%s, %q): %T %v", rt.Name, s, err, err)
				}
				if err == nil {
					store.Eval(flt, resources[rt])
				}
				if _, err := ParsePath(rt, s); err != nil && !errors.As(err, &se) {
					t.Fatalf("ParsePath(%s, %q): %T %v", rt.Name, s, err, err)
				}
			}
		}
		// A slow input is slow every time; a busy machine only now and
		// then: fail only when three runs in a row are slow.
		for try := 0; ; try++ {
			start := time.Now()
			parse()
			d := time.Since(start)
			if d <= 500*time.Millisecond {
				break
			}
			if try == 2 {
				t.Fatalf("%q took %v", s, d)
			}
		}
	})
}
