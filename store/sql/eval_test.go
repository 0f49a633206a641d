package sqlstore_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
)

const ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// evalUsers exercises shapes storetest leaves alone: extension attributes,
// dateTime strings, plain-string emails, LIKE wildcards, quotes, nested
// values and numbers of several kinds.
func evalUsers() []*store.User {
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	mk := func(i int, attrs store.Attributes) *store.User {
		return &store.User{ID: fmt.Sprintf("u%02d", i), Attributes: attrs,
			Meta: store.Meta{Created: t0.Add(time.Duration(i) * time.Hour), LastModified: t0.Add(time.Duration(i) * time.Hour)}}
	}
	return []*store.User{
		mk(1, store.Attributes{"userName": "Ann", "title": "50% off_", ext: map[string]any{"department": "R&D", "manager": map[string]any{"value": "u02"}, "hired": "2020-05-01T00:00:00Z"}, "emails": []any{"ann@x.com", map[string]any{"value": "A@Y.org", "type": "Work", "primary": true}}}),
		mk(2, store.Attributes{"userName": "bo'b", "title": "500 off", ext: map[string]any{"department": "rnd", "hired": "2021-05-01T00:00:00+02:00"}, "level": 2.0, "tags": []any{"x", 1.0, true}}),
		mk(3, store.Attributes{"userName": "Çé", "title": "", "level": 10.0, "emails": []any{map[string]any{"value": "c@x.com", "type": "home", "primary": false}}, "addresses": []any{map[string]any{"locality": "Paris", "codes": []any{"a", "b"}}}}),
		mk(4, store.Attributes{"userName": "dan", "active": false, "tags": []any{}, "name": map[string]any{"givenName": "Dan", "middle": nil}}),
		mk(5, store.Attributes{"userName": "Eve\\", "title": "a\\b", "level": -1.5, ext: map[string]any{}}),
	}
}

func evalFilters() map[string]store.Filter {
	p := func(name, sub string) store.Path { return store.Path{Name: name, Sub: sub} }
	e := func(name string) store.Path { return store.Path{URN: ext, Name: name} }
	c := func(path store.Path, op store.Op, v any) store.Compare {
		return store.Compare{Path: path, Op: op, Value: v}
	}
	x := func(path store.Path, op store.Op, v any) store.Compare {
		return store.Compare{Path: path, Op: op, Value: v, CaseExact: true}
	}
	hired := time.Date(2020, 12, 31, 0, 0, 0, 0, time.UTC)
	return map[string]store.Filter{
		"co percent":              c(p("title", ""), store.Co, "%"),
		"co underscore":           c(p("title", ""), store.Co, "_"),
		"sw 50%":                  c(p("title", ""), store.Sw, "50%"),
		"ew backslash":            x(p("userName", ""), store.Ew, "\\"),
		"co backslash":            x(p("title", ""), store.Co, "\\"),
		"eq quote":                c(p("userName", ""), store.Eq, "BO'B"),
		"eq empty":                c(p("title", ""), store.Eq, ""),
		"ew empty":                c(p("title", ""), store.Ew, ""),
		"pr empty title":          c(p("title", ""), store.Pr, nil),
		"ext eq ignores case":     c(e("department"), store.Eq, "r&d"),
		"ext eq exact":            x(e("department"), store.Eq, "r&d"),
		"ext sub":                 x(store.Path{URN: ext, Name: "manager", Sub: "value"}, store.Eq, "u02"),
		"ext pr":                  c(e("department"), store.Pr, nil),
		"ext time gt":             c(e("hired"), store.Gt, hired),
		"ext time eq offset":      c(e("hired"), store.Eq, time.Date(2021, 4, 30, 22, 0, 0, 0, time.UTC)),
		"ext time co is false":    c(e("hired"), store.Co, hired),
		"not ext time co":         store.Not{Filter: c(e("hired"), store.Co, hired)},
		"plain-string email":      c(p("emails", "value"), store.Eq, "ANN@x.com"),
		"plain-string email vp":   store.ValuePath{Path: p("emails", ""), Filter: c(p("value", ""), store.Eq, "ann@x.com")},
		"emails primary":          store.ValuePath{Path: p("emails", ""), Filter: c(p("primary", ""), store.Eq, true)},
		"emails not primary":      store.ValuePath{Path: p("emails", ""), Filter: c(p("primary", ""), store.Ne, true)},
		"emails type exact":       store.ValuePath{Path: p("emails", ""), Filter: x(p("type", ""), store.Eq, "work")},
		"emails pr value":         store.ValuePath{Path: p("emails", ""), Filter: c(p("value", ""), store.Pr, nil)},
		"emails.value pr":         c(p("emails", "value"), store.Pr, nil),
		"emails.primary eq false": c(p("emails", "primary"), store.Eq, false),
		"number in mixed list":    c(p("tags", ""), store.Eq, 1.0),
		"bool in mixed list":      c(p("tags", ""), store.Eq, true),
		"bool gt is false":        c(p("tags", ""), store.Gt, true),
		"empty list not present":  c(p("tags", ""), store.Pr, nil),
		"ne on number":            c(p("level", ""), store.Ne, 2.0),
		"lt negative":             c(p("level", ""), store.Lt, 0.0),
		"number vs string":        c(p("level", ""), store.Eq, "2"),
		"string gt":               x(p("userName", ""), store.Gt, "Z"),
		"string gt non-ASCII":     c(p("userName", ""), store.Gt, "z"),
		"nested list sub":         c(p("addresses", "codes"), store.Pr, nil),
		"nested list vp":          store.ValuePath{Path: p("addresses", ""), Filter: c(p("codes", ""), store.Eq, "b")},
		"complex vp":              store.ValuePath{Path: p("name", ""), Filter: c(p("givenName", ""), store.Eq, "dan")},
		"null sub not present":    c(p("name", "middle"), store.Pr, nil),
		"id ci":                   c(p("id", ""), store.Eq, "U03"),
		"meta created ge":         c(p("meta", "created"), store.Ge, time.Date(2024, 1, 2, 6, 4, 5, 0, time.UTC)),
		"meta version":            c(p("meta", "version"), store.Eq, 1.0),
		"meta created string":     c(p("meta", "created"), store.Eq, "x"),
		"active eq false":         c(p("active", ""), store.Eq, false),
		"or of not":               store.Or{Left: store.Not{Filter: c(p("active", ""), store.Pr, nil)}, Right: c(p("level", ""), store.Ge, 10.0)},
		"groups not stored":       c(p("groups", "value"), store.Pr, nil),
	}
}

// TestFiltersMatchEval checks every filter against store.Eval on the same
// users, on every engine.
func TestFiltersMatchEval(t *testing.T) {
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			s := eng.open(t)
			ctx := context.Background()
			all := evalUsers()
			if err := s.Update(ctx, "eval", func(tx store.Tx) error {
				for _, u := range all {
					if err := tx.CreateUser(ctx, u); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			for name, f := range evalFilters() {
				var want []string
				for _, u := range all {
					if store.Eval(f, u.Resolve) {
						want = append(want, u.ID)
					}
				}
				var got []string
				err := s.View(ctx, "eval", func(r store.Reader) error {
					page, err := r.ListUsers(ctx, store.Query{Filter: f, Limit: 100})
					for _, u := range page.Users {
						got = append(got, u.ID)
					}
					if err == nil && page.Total != len(got) {
						t.Errorf("%s: Total %d, %d users", name, page.Total, len(got))
					}
					return err
				})
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				if diff := gocmp.Diff(want, got); diff != "" {
					t.Errorf("%s: ids unlike store.Eval (-want +got):\n%s", name, diff)
				}
			}
			for _, path := range []store.Path{{Name: "title"}, {Name: "level"}, {Name: "tags"}, {Name: "emails", Sub: "value"}, {URN: ext, Name: "department"}, {Name: "userName"}} {
				for _, desc := range []bool{false, true} {
					want := slices.Clone(all)
					slices.SortStableFunc(want, func(a, b *store.User) int {
						ka, oka := store.SortKey(a.Resolve, path)
						kb, okb := store.SortKey(b.Resolve, path)
						var c int
						switch {
						case !oka && !okb:
							return 0
						case !oka:
							c = 1
						case !okb:
							c = -1
						default:
							c = store.CompareSortKeys(ka, kb, false)
						}
						if desc {
							c = -c
						}
						return cmp.Compare(c, 0)
					})
					var wantIDs, gotIDs []string
					for _, u := range want {
						wantIDs = append(wantIDs, u.ID)
					}
					s.View(ctx, "eval", func(r store.Reader) error {
						page, err := r.ListUsers(ctx, store.Query{SortBy: path, Descending: desc, Limit: 100})
						for _, u := range page.Users {
							gotIDs = append(gotIDs, u.ID)
						}
						return err
					})
					if diff := gocmp.Diff(wantIDs, gotIDs); diff != "" {
						t.Errorf("sort by %v desc=%v (-want +got):\n%s", path, desc, diff)
					}
				}
			}
		})
	}
}
