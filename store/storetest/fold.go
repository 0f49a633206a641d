package storetest

import (
	"slices"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
)

// testFolding checks that uniqueness, lookups, case-insensitive filters
// and sorting all compare strings as store.Fold does, beyond ASCII: the
// same results from every store, whatever its engine's own lower().
func testFolding(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("look-alike userNames and displayNames conflict", func(t *testing.T) {
		f := newFixture(t, newStore)
		f.createUsers(f.newUser("admin", nil), f.newUser("josé", nil), f.newUser("straße", nil))
		f.createGroups(f.newGroup("Équipe", nil))
		for _, name := range []string{
			"ＡＤＭＩＮ",       // fullwidth
			"admin\u200b", // zero-width space
			"\u202eadmin", // right-to-left override
			"JOSE\u0301",  // decomposed (NFD)
			"STRASSE",     // ß folds to ss
			"strasse",     // ß folds to ss
			"ſtraße",      // long s
			"Ｓｔｒａｓｓｅ",     // fullwidth
		} {
			u := f.newUser(name, nil)
			u.ID = f.id("new-" + name)
			err := f.s.Update(f.ctx, f.tenant, func(tx store.Tx) error { return tx.CreateUser(f.ctx, u) })
			wantErr(t, "CreateUser "+name, err, store.ErrConflict)
		}
		for _, name := range []string{"E\u0301QUIPE", "ÉQUIPE", "équipe\u200d"} {
			g := f.newGroup(name, nil)
			g.ID = f.id("new-" + name)
			err := f.s.Update(f.ctx, f.tenant, func(tx store.Tx) error { return tx.CreateGroup(f.ctx, g) })
			wantErr(t, "CreateGroup "+name, err, store.ErrConflict)
		}
		for q, want := range map[string]string{"ＡＤＭＩＮ": "admin", "JOSE\u0301": "josé", "STRASSE": "straße"} {
			var got store.User
			f.view(func(r store.Reader) error {
				var err error
				got, err = r.UserByUserName(f.ctx, q)
				return err
			})
			if got.UserName() != want {
				t.Errorf("UserByUserName(%q) = %q, want %q", q, got.UserName(), want)
			}
		}
	})

	t.Run("filters and sorting fold beyond ASCII", func(t *testing.T) {
		f := newFixture(t, newStore)
		users := []*store.User{
			f.newUser("admin", store.Attributes{"title": "Ingénieur"}),
			f.newUser("emile", store.Attributes{
				"userName": "ÉMILE \u212AELVIN", // Kelvin sign
				"title":    "ＩＮＧÉＮＩＥＵＲ",
				"emails":   []any{map[string]any{"value": "ÉMILE@EXAMPLE.COM", "type": "Wörk"}},
			}),
			f.newUser("strasse", store.Attributes{"userName": "Straße", "title": "Straße"}),
			f.newUser("zoe", store.Attributes{"userName": "zoe"}),
		}
		for i, u := range users {
			u.Meta.Created = at(i)
		}
		f.createUsers(users...)
		f.createGroups(f.newGroup("Équipe", nil), f.newGroup("ops", nil))
		f.addMembers(f.id("Équipe"), at(1), store.Member{Value: f.id("emile"), Display: "ÉMILE \u212AELVIN"})
		f.addMembers(f.id("ops"), at(1), store.Member{Value: f.id("admin"), Display: "admin"})

		userName := path("userName", "")
		for _, tc := range []struct {
			name   string
			filter store.Filter
			want   []string
		}{
			{"userName eq fullwidth", ci(userName, store.Eq, "ＡＤＭＩＮ"), []string{"admin"}},
			{"userName eq Kelvin sign and lower case", ci(userName, store.Eq, "émile kelvin"), []string{"emile"}},
			{"userName eq decomposed", ci(userName, store.Eq, "E\u0301MILE KELVIN"), []string{"emile"}},
			{"userName ne", ci(userName, store.Ne, "émile kelvin"), []string{"admin", "strasse", "zoe"}},
			{"userName co ß as ss", ci(userName, store.Co, "SS"), []string{"strasse"}},
			{"userName sw", ci(userName, store.Sw, "ÉMILE K"), []string{"emile"}},
			{"userName ew", ci(userName, store.Ew, "\u212AELVIN"), []string{"emile"}},
			{"JSON attribute eq", ci(path("title", ""), store.Eq, "ingénieur"), []string{"admin", "emile"}},
			{"JSON attribute co", ci(path("title", ""), store.Co, "SSE"), []string{"strasse"}},
			{"JSON attribute ge", ci(path("title", ""), store.Ge, "STRASSE"), []string{"strasse"}},
			{"emails.value eq", ci(path("emails", "value"), store.Eq, "émile@example.com"), []string{"emile"}},
			{"emails[type eq]", store.ValuePath{Path: path("emails", ""), Filter: ci(path("type", ""), store.Eq, "WÖRK")}, []string{"emile"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got := shortNames(f.listUsers(store.Query{Filter: tc.filter, Limit: 100}).Users)
				slices.Sort(got)
				if diff := gocmp.Diff(tc.want, got, cmpOpts...); diff != "" {
					t.Errorf("ListUsers (-want +got):\n%s", diff)
				}
			})
		}

		display := path("members", "display")
		for _, tc := range []struct {
			name   string
			filter store.Filter
			want   []string
		}{
			{"displayName eq decomposed", ci(path("displayName", ""), store.Eq, "E\u0301QUIPE"), []string{"Équipe"}},
			{"members.display eq", ci(display, store.Eq, "émile kelvin"), []string{"Équipe"}},
			{"members.display ne", not(ci(display, store.Eq, "émile kelvin")), []string{"ops"}},
			{"members.display co", ci(display, store.Co, "KELVIN"), []string{"Équipe"}},
			{"members.display sw", ci(display, store.Sw, "ÉMILE"), []string{"Équipe"}},
			{"members[display eq]", store.ValuePath{Path: path("members", ""), Filter: ci(path("display", ""), store.Eq, "émile kelvin")}, []string{"Équipe"}},
			{"members[display ew]", store.ValuePath{Path: path("members", ""), Filter: ci(path("display", ""), store.Ew, "kelvin")}, []string{"Équipe"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got := displayNames(f.listGroups(store.Query{Filter: tc.filter, Limit: 100}).Groups)
				slices.Sort(got)
				if diff := gocmp.Diff(tc.want, got, cmpOpts...); diff != "" {
					t.Errorf("ListGroups (-want +got):\n%s", diff)
				}
			})
		}

		t.Run("sort by userName", func(t *testing.T) {
			got := shortNames(f.listUsers(store.Query{SortBy: userName, Limit: 100}).Users)
			// Folded: admin, e\u0301mile kelvin, strasse, zoe.
			if diff := gocmp.Diff([]string{"admin", "emile", "strasse", "zoe"}, got, cmpOpts...); diff != "" {
				t.Errorf("ListUsers sorted by userName (-want +got):\n%s", diff)
			}
		})
	})
}
