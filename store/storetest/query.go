package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
)

// Filter shorthands.
func path(name, sub string) store.Path { return store.Path{Name: name, Sub: sub} }

func ci(p store.Path, op store.Op, v any) store.Compare {
	return store.Compare{Path: p, Op: op, Value: v}
}

func exact(p store.Path, op store.Op, v any) store.Compare {
	return store.Compare{Path: p, Op: op, Value: v, CaseExact: true}
}

func and(l, r store.Filter) store.Filter { return store.And{Left: l, Right: r} }
func or(l, r store.Filter) store.Filter  { return store.Or{Left: l, Right: r} }
func not(f store.Filter) store.Filter    { return store.Not{Filter: f} }

// filterUsers creates the users the filter table runs on, each created one
// minute after the previous.
func filterUsers(f *fixture) {
	users := []*store.User{
		f.newUser("alice", store.Attributes{
			"userName":   "alice@example.com",
			"externalId": "ext-A",
			"nickName":   "Al",
			"name":       map[string]any{"givenName": "Alice", "familyName": "Smith"},
			"emails": []any{
				map[string]any{"value": "alice@x.com", "type": "work", "primary": true},
				map[string]any{"value": "alice@home.org", "type": "home"},
			},
			"active": true,
			"title":  "Engineer",
			"level":  float64(3),
			"tags":   []any{"a", "b"},
			enterprise: map[string]any{
				"department": "R&D",
				"manager":    map[string]any{"value": "m-1"},
			},
		}),
		f.newUser("bob", store.Attributes{
			"userName":   "Bob@Example.com",
			"externalId": "ext-b",
			"name":       map[string]any{"givenName": "Bob", "familyName": "Jones"},
			"emails":     []any{map[string]any{"value": "bob@X.com", "type": "work"}},
			"active":     false,
			"title":      "Manager",
			"level":      float64(5),
			enterprise:   map[string]any{"department": "Sales"},
		}),
		f.newUser("carol", store.Attributes{
			"userName": "carol",
			"nickName": "",
			"name":     map[string]any{"familyName": "Brown"},
			"emails":   []any{map[string]any{"value": "carol@home.org", "type": "home"}},
			"active":   true,
			"level":    float64(1),
			"tags":     []any{"c"},
		}),
		f.newUser("dave", store.Attributes{
			"userName": "dave",
			"name":     map[string]any{"givenName": "Dave"},
			"title":    "engineer",
			"level":    float64(10),
		}),
		f.newUser("elodie", store.Attributes{
			"userName": "ÉLODIE",
			"name":     map[string]any{"givenName": "Élodie", "familyName": "Ünal"},
		}),
	}
	for i, u := range users {
		u.Meta.Created, u.Meta.LastModified = at(i+1), at(i+11)
	}
	f.createUsers(users...)
}

// shortName returns the name a fixture gave the user's id.
func shortName(u store.User) string {
	return strings.SplitN(u.ID, "-", 2)[0]
}

// shortNames returns the short names of users, in their order.
func shortNames(users []store.User) []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = shortName(u)
	}
	return out
}

func testFilterUsers(t *testing.T, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore)
	filterUsers(f)
	all := []string{"alice", "bob", "carol", "dave", "elodie"}
	tests := []struct {
		name   string
		filter store.Filter
		want   []string
	}{
		{"nil filter matches all", nil, all},
		{"eq userName ignores case", ci(path("userName", ""), store.Eq, "ALICE@example.COM"), []string{"alice"}},
		{"eq userName non-ASCII ignores case", ci(path("userName", ""), store.Eq, "élodie"), []string{"elodie"}},
		{"eq unknown userName", ci(path("userName", ""), store.Eq, "nobody"), nil},
		{"eq case-exact string", exact(path("title", ""), store.Eq, "engineer"), []string{"dave"}},
		{"eq case-insensitive string", ci(path("title", ""), store.Eq, "ENGINEER"), []string{"alice", "dave"}},
		{"eq case-exact userName", exact(path("userName", ""), store.Eq, "bob@example.com"), nil},
		{"ne matches a missing attribute", ci(path("title", ""), store.Ne, "engineer"), []string{"bob", "carol", "elodie"}},
		{"ne on multi-valued means no value equals", ci(path("emails", "type"), store.Ne, "home"), []string{"bob", "dave", "elodie"}},
		{"ne on missing externalId", exact(path("externalId", ""), store.Ne, "ext-A"), []string{"bob", "carol", "dave", "elodie"}},
		{"co", ci(path("emails", "value"), store.Co, "@X.COM"), []string{"alice", "bob"}},
		{"co case-exact", exact(path("emails", "value"), store.Co, "@X.com"), []string{"bob"}},
		{"sw", ci(path("userName", ""), store.Sw, "B"), []string{"bob"}},
		{"ew", ci(path("userName", ""), store.Ew, "EXAMPLE.com"), []string{"alice", "bob"}},
		{"gt number", ci(path("level", ""), store.Gt, float64(3)), []string{"bob", "dave"}},
		{"ge number", ci(path("level", ""), store.Ge, float64(3)), []string{"alice", "bob", "dave"}},
		{"lt number", ci(path("level", ""), store.Lt, float64(3)), []string{"carol"}},
		{"le number", ci(path("level", ""), store.Le, float64(3)), []string{"alice", "carol"}},
		{"eq number", ci(path("level", ""), store.Eq, float64(5)), []string{"bob"}},
		{"gt string ignores case", ci(path("title", ""), store.Gt, "F"), []string{"bob"}},
		{"le string ignores case", ci(path("title", ""), store.Le, "ENGINEER"), []string{"alice", "dave"}},
		{"pr", ci(path("title", ""), store.Pr, nil), []string{"alice", "bob", "dave"}},
		{"pr on multi-valued", ci(path("emails", ""), store.Pr, nil), []string{"alice", "bob", "carol"}},
		{"pr on an empty string is false", ci(path("nickName", ""), store.Pr, nil), []string{"alice"}},
		{"pr on a sub-attribute", ci(path("name", "familyName"), store.Pr, nil), []string{"alice", "bob", "carol", "elodie"}},
		{"eq true", ci(path("active", ""), store.Eq, true), []string{"alice", "carol"}},
		{"eq false", ci(path("active", ""), store.Eq, false), []string{"bob"}},
		{"not", not(ci(path("active", ""), store.Eq, true)), []string{"bob", "dave", "elodie"}},
		{"not of an operator on a missing attribute", not(ci(path("title", ""), store.Co, "GIN")), []string{"bob", "carol", "elodie"}},
		{"and", and(ci(path("title", ""), store.Eq, "engineer"), ci(path("active", ""), store.Eq, true)), []string{"alice"}},
		{"or", or(ci(path("userName", ""), store.Sw, "a"), ci(path("userName", ""), store.Sw, "b")), []string{"alice", "bob"}},
		{"or of an indexed and a scanned clause", or(ci(path("userName", ""), store.Eq, "alice@example.com"), ci(path("title", ""), store.Eq, "manager")), []string{"alice", "bob"}},
		{"and of an indexed clause with a failing one", and(ci(path("userName", ""), store.Eq, "alice@example.com"), ci(path("active", ""), store.Eq, false)), nil},
		{"and with the indexed clause on the right", and(ci(path("active", ""), store.Eq, true), ci(path("userName", ""), store.Eq, "CAROL")), []string{"carol"}},
		{"not of an indexed clause", not(ci(path("userName", ""), store.Eq, "carol")), []string{"alice", "bob", "dave", "elodie"}},
		{"sub-attribute", ci(path("name", "familyName"), store.Eq, "smith"), []string{"alice"}},
		{"sub-attribute sw", ci(path("name", "givenName"), store.Sw, "d"), []string{"dave"}},
		{"sub-attribute non-ASCII ignores case", ci(path("name", "familyName"), store.Eq, "ünal"), []string{"elodie"}},
		{"multi-valued any element matches", ci(path("emails", "value"), store.Eq, "alice@home.org"), []string{"alice"}},
		{"multi-valued sub-attribute", ci(path("emails", "type"), store.Eq, "home"), []string{"alice", "carol"}},
		{"emails.value eq ignores case", ci(path("emails", "value"), store.Eq, "BOB@x.com"), []string{"bob"}},
		{"multi-valued simple attribute", ci(path("tags", ""), store.Eq, "b"), []string{"alice"}},
		{"value path on a simple multi-valued attribute", store.ValuePath{Path: path("tags", ""), Filter: ci(path("value", ""), store.Eq, "c")}, []string{"carol"}},
		{"value path", store.ValuePath{Path: path("emails", ""), Filter: and(ci(path("type", ""), store.Eq, "work"), ci(path("value", ""), store.Co, "@x.com"))}, []string{"alice", "bob"}},
		{"value path matches within one element", store.ValuePath{Path: path("emails", ""), Filter: and(ci(path("type", ""), store.Eq, "home"), ci(path("value", ""), store.Co, "@x.com"))}, nil},
		{"value path eq value", store.ValuePath{Path: path("emails", ""), Filter: ci(path("value", ""), store.Eq, "Carol@Home.org")}, []string{"carol"}},
		{"value path type and value eq (Entra)", store.ValuePath{Path: path("emails", ""), Filter: and(ci(path("type", ""), store.Eq, "work"), ci(path("value", ""), store.Eq, "alice@x.com"))}, []string{"alice"}},
		{"value path type and value eq, wrong type", store.ValuePath{Path: path("emails", ""), Filter: and(ci(path("type", ""), store.Eq, "home"), ci(path("value", ""), store.Eq, "alice@x.com"))}, nil},
		{"value path with or", store.ValuePath{Path: path("emails", ""), Filter: or(ci(path("value", ""), store.Sw, "bob"), ci(path("value", ""), store.Sw, "carol"))}, []string{"bob", "carol"}},
		{"extension attribute", ci(store.Path{URN: enterprise, Name: "department"}, store.Eq, "r&d"), []string{"alice"}},
		{"extension sub-attribute", exact(store.Path{URN: enterprise, Name: "manager", Sub: "value"}, store.Eq, "m-1"), []string{"alice"}},
		{"extension pr", ci(store.Path{URN: enterprise, Name: "department"}, store.Pr, nil), []string{"alice", "bob"}},
		{"core attribute is not the extension's", ci(path("department", ""), store.Pr, nil), nil},
		{"id", exact(path("id", ""), store.Eq, f.id("bob")), []string{"bob"}},
		{"id ne", exact(path("id", ""), store.Ne, f.id("bob")), []string{"alice", "carol", "dave", "elodie"}},
		{"externalId case-exact", exact(path("externalId", ""), store.Eq, "ext-b"), []string{"bob"}},
		{"externalId case-exact other case", exact(path("externalId", ""), store.Eq, "EXT-B"), nil},
		{"externalId ignoring case", ci(path("externalId", ""), store.Eq, "EXT-B"), []string{"bob"}},
		{"meta.created eq", ci(path("meta", "created"), store.Eq, at(3)), []string{"carol"}},
		{"meta.created gt", ci(path("meta", "created"), store.Gt, at(3)), []string{"dave", "elodie"}},
		{"meta.created ge", ci(path("meta", "created"), store.Ge, at(3)), []string{"carol", "dave", "elodie"}},
		{"meta.lastModified lt", ci(path("meta", "lastModified"), store.Lt, at(13)), []string{"alice", "bob"}},
		{"meta.lastModified le", ci(path("meta", "lastModified"), store.Le, at(13)), []string{"alice", "bob", "carol"}},
		{"meta.created pr", ci(path("meta", "created"), store.Pr, nil), all},
		{"type mismatch matches nothing", ci(path("level", ""), store.Eq, "5"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page := f.listUsers(store.Query{Filter: tc.filter, Limit: 100})
			got := shortNames(page.Users)
			slices.Sort(got)
			if diff := gocmp.Diff(tc.want, got, cmpOpts...); diff != "" {
				t.Errorf("ListUsers (-want +got):\n%s", diff)
			}
			if page.Total != len(tc.want) {
				t.Errorf("Total = %d, want %d", page.Total, len(tc.want))
			}
			if n := f.listUsers(store.Query{Filter: tc.filter, Limit: 0}); n.Total != len(tc.want) || len(n.Users) != 0 {
				t.Errorf("with Limit 0: Total = %d and %d users, want %d and none", n.Total, len(n.Users), len(tc.want))
			}
		})
	}
}

func testFilterGroups(t *testing.T, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore)
	f.createUsers(f.newUser("alice", nil), f.newUser("bob", nil), f.newUser("carol", nil))
	f.createGroups(
		f.newGroup("Engineering", store.Attributes{"externalId": "g-ext-1"}),
		f.newGroup("Sales", nil),
		f.newGroup("Empty", nil),
	)
	eng, sales := f.id("Engineering"), f.id("Sales")
	f.addMembers(eng, at(1), store.Member{Value: f.id("alice"), Display: "Alice A"}, store.Member{Value: f.id("bob")})
	f.addMembers(sales, at(1), store.Member{Value: f.id("bob"), Display: "Bob B"})
	member := func(name string) store.Filter { return exact(path("members", "value"), store.Eq, f.id(name)) }
	tests := []struct {
		name   string
		filter store.Filter
		want   []string
	}{
		{"nil filter matches all", nil, []string{"Empty", "Engineering", "Sales"}},
		{"displayName eq ignores case", ci(path("displayName", ""), store.Eq, "ENGINEERING"), []string{"Engineering"}},
		{"displayName co", ci(path("displayName", ""), store.Co, "A"), []string{"Sales"}},
		{"displayName ne", ci(path("displayName", ""), store.Ne, "sales"), []string{"Empty", "Engineering"}},
		{"externalId", exact(path("externalId", ""), store.Eq, "g-ext-1"), []string{"Engineering"}},
		{"id", exact(path("id", ""), store.Eq, sales), []string{"Sales"}},
		{"members.value eq one group", member("alice"), []string{"Engineering"}},
		{"members.value eq two groups", member("bob"), []string{"Engineering", "Sales"}},
		{"members.value eq no group", member("carol"), nil},
		{"members.value eq an unknown id", exact(path("members", "value"), store.Eq, "nobody"), nil},
		{"id and members.value (Entra)", and(exact(path("id", ""), store.Eq, eng), member("alice")), []string{"Engineering"}},
		{"id and members.value, not a member", and(exact(path("id", ""), store.Eq, sales), member("alice")), nil},
		{"members.value and displayName", and(member("bob"), ci(path("displayName", ""), store.Eq, "sales")), []string{"Sales"}},
		{"members value path", store.ValuePath{Path: path("members", ""), Filter: exact(path("value", ""), store.Eq, f.id("bob"))}, []string{"Engineering", "Sales"}},
		{"members.value ne", exact(path("members", "value"), store.Ne, f.id("alice")), []string{"Empty", "Sales"}},
		{"members pr", ci(path("members", ""), store.Pr, nil), []string{"Engineering", "Sales"}},
		{"not members pr", not(ci(path("members", ""), store.Pr, nil)), []string{"Empty"}},
		{"members.display", ci(path("members", "display"), store.Eq, "bob b"), []string{"Sales"}},
		{"members.value or", or(member("alice"), member("carol")), []string{"Engineering"}},
	}
	for _, tc := range tests {
		for _, withMembers := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/WithMembers=%v", tc.name, withMembers), func(t *testing.T) {
				page := f.listGroups(store.Query{Filter: tc.filter, Limit: 100, WithMembers: withMembers})
				got := displayNames(page.Groups)
				slices.Sort(got)
				if diff := gocmp.Diff(tc.want, got, cmpOpts...); diff != "" {
					t.Errorf("ListGroups (-want +got):\n%s", diff)
				}
				if page.Total != len(tc.want) {
					t.Errorf("Total = %d, want %d", page.Total, len(tc.want))
				}
				for _, g := range page.Groups {
					if !withMembers && g.Members != nil {
						t.Errorf("group %s has Members %v with WithMembers false", g.DisplayName(), g.Members)
					}
				}
			})
		}
	}
	t.Run("WithMembers loads members", func(t *testing.T) {
		page := f.listGroups(store.Query{Filter: exact(path("id", ""), store.Eq, eng), Limit: 10, WithMembers: true})
		if len(page.Groups) != 1 {
			t.Fatalf("got %d groups, want 1", len(page.Groups))
		}
		want := []store.Member{{Value: f.id("alice"), Display: "Alice A"}, {Value: f.id("bob")}}
		if diff := gocmp.Diff(sortedMembers(want), sortedMembers(page.Groups[0].Members), cmpOpts...); diff != "" {
			t.Errorf("Members (-want +got):\n%s", diff)
		}
	})
}
