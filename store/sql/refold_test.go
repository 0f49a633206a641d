package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
	sqlstore "github.com/scimkit/scim/store/sql"
)

// oldFold is store.Fold as the versions before migration 0005 computed
// it: each rune lowered, then mapped to the lower case of the smallest
// rune of its simple-folding orbit; no normalisation.
func oldFold(s string) string {
	return strings.Map(func(r rune) rune {
		r = unicode.ToLower(r)
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return unicode.ToLower(least)
	}, s)
}

// oldRows writes rows into a database at migration 4 as the versions
// before 0005 wrote them: keys folded by oldFold; filter documents of
// non-ASCII resources as they were (here left empty, so that only a
// recomputed one answers).
type oldRows struct {
	t  *testing.T
	db *sql.DB
	d  sqlstore.Dialect
}

func (o oldRows) exec(query string, args ...any) {
	o.t.Helper()
	if o.d == sqlstore.Postgres {
		n := 0
		var b strings.Builder
		for _, c := range query {
			if c == '?' {
				n++
				b.WriteString("$" + strconv.Itoa(n))
				continue
			}
			b.WriteRune(c)
		}
		query = b.String()
	}
	if _, err := o.db.Exec(query, args...); err != nil {
		o.t.Fatalf("%s: %v", query, err)
	}
}

func (o oldRows) user(tenant, id string, attrs store.Attributes) {
	o.t.Helper()
	doc, fdoc, err := sqlstore.EncodeDoc(attrs)
	if err != nil {
		o.t.Fatal(err)
	}
	if strings.ContainsFunc(doc, func(r rune) bool { return r > unicode.MaxASCII }) {
		fdoc = `{"e":{},"o":{},"v":{}}`
	}
	name, _ := attrs["userName"].(string)
	o.exec("INSERT INTO scim_users (tenant, id, user_name, user_name_folded, managed, doc, fdoc, version, role, managed_by) VALUES (?, ?, ?, ?, ?, ?, ?, 1, '', '')",
		tenant, id, name, oldFold(name), true, doc, fdoc)
	for i, el := range attrs["emails"].([]any) {
		v := el.(map[string]any)["value"].(string)
		o.exec("INSERT INTO scim_emails (tenant, user_id, pos, value, value_folded, bare) VALUES (?, ?, ?, ?, ?, 0)", tenant, id, i, v, oldFold(v))
	}
	o.exec("UPDATE scim_tenants SET user_count = user_count + 1, managed_count = managed_count + 1 WHERE name = ?", tenant)
}

func (o oldRows) group(tenant, id, name string, members map[string]string) {
	o.t.Helper()
	doc, fdoc, err := sqlstore.EncodeDoc(store.Attributes{"displayName": name})
	if err != nil {
		o.t.Fatal(err)
	}
	o.exec("INSERT INTO scim_groups (tenant, id, display_name, display_name_folded, doc, fdoc, version) VALUES (?, ?, ?, ?, ?, ?, 1)",
		tenant, id, name, oldFold(name), doc, fdoc)
	for user, display := range members {
		o.exec("INSERT INTO scim_members (tenant, group_id, user_id, display) VALUES (?, ?, ?, ?)", tenant, id, user, display)
	}
	o.exec("UPDATE scim_tenants SET group_count = group_count + 1 WHERE name = ?", tenant)
}

func (o oldRows) departure(tenant, userName, role string, at int64) {
	o.t.Helper()
	o.exec("INSERT INTO scim_departures (tenant, user_name_folded, user_name, role, time) VALUES (?, ?, ?, ?, ?)",
		tenant, oldFold(userName), userName, role, at)
}

// atVersion4 opens an empty database and applies migrations 1-4.
func atVersion4(t *testing.T, open func(t *testing.T) *sql.DB, dialect sqlstore.Dialect) (*sql.DB, *sqlstore.Store, oldRows) {
	t.Helper()
	db := open(t)
	s, err := sqlstore.New(db, dialect)
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlstore.MigrateTo(context.Background(), s, 4); err != nil {
		t.Fatalf("migrate to 4: %v", err)
	}
	o := oldRows{t: t, db: db, d: dialect}
	o.exec("INSERT INTO scim_tenants (name, created) VALUES ('a', 0)")
	return db, s, o
}

// TestMigrationRefoldsKeys upgrades a database holding rows that versions
// before 0005 wrote, keyed by the old folding, and checks that every key
// and filter document the new store.Fold changes was recomputed.
func TestMigrationRefoldsKeys(t *testing.T) {
	for _, e := range rawEngines {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			_, s, o := atVersion4(t, e.open, e.dialect)
			o.user("a", "u-admin", store.Attributes{"userName": "admin", "emails": []any{map[string]any{"value": "admin@x.com"}}})
			o.user("a", "u-jose", store.Attributes{"userName": "José", "emails": []any{}}) // NFC
			o.user("a", "u-strasse", store.Attributes{"userName": "Straße", "emails": []any{}})
			o.user("a", "u-emile", store.Attributes{"userName": "ÉMILE", "title": "Ingénieur",
				"emails": []any{map[string]any{"value": "ÉMILE@EXAMPLE.COM"}}})
			o.group("a", "g-equipe", "Équipe", map[string]string{"u-emile": "ÉMILE \u212AELVIN", "u-admin": "Admin"})
			o.group("a", "g-ops", "ops", nil)
			o.departure("a", "Straße", "new", 200)
			o.departure("a", "STRASSE", "old", 100)
			o.departure("a", "Ｂｏｂ", "old", 100)
			o.departure("a", "bob", "new", 200)

			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("Migrate: %v", err)
			}

			err := s.View(ctx, "a", func(r store.Reader) error {
				for q, want := range map[string]string{
					"ADMIN": "u-admin", "ＡＤＭＩＮ": "u-admin", "JOSE\u0301": "u-jose", "josé": "u-jose",
					"STRASSE": "u-strasse", "émile": "u-emile",
				} {
					u, err := r.UserByUserName(ctx, q)
					if err != nil || u.ID != want {
						t.Errorf("UserByUserName(%q) = %q, %v; want %q", q, u.ID, err, want)
					}
				}
				for _, tc := range []struct {
					name   string
					filter store.Filter
					want   []string
				}{
					{"a JSON attribute", store.Compare{Path: store.Path{Name: "title"}, Op: store.Eq, Value: "INGE\u0301NIEUR"}, []string{"u-emile"}},
					{"emails.value", store.Compare{Path: store.Path{Name: "emails", Sub: "value"}, Op: store.Eq, Value: "émile@example.com"}, []string{"u-emile"}},
					{"userName sw", store.Compare{Path: store.Path{Name: "userName"}, Op: store.Sw, Value: "STRASS"}, []string{"u-strasse"}},
				} {
					page, err := r.ListUsers(ctx, store.Query{Filter: tc.filter, Limit: 10})
					if err != nil {
						return err
					}
					var got []string
					for _, u := range page.Users {
						got = append(got, u.ID)
					}
					if diff := gocmp.Diff(tc.want, got); diff != "" {
						t.Errorf("ListUsers %s (-want +got):\n%s", tc.name, diff)
					}
				}
				for _, tc := range []struct {
					name   string
					filter store.Filter
					want   []string
				}{
					{"displayName", store.Compare{Path: store.Path{Name: "displayName"}, Op: store.Eq, Value: "E\u0301QUIPE"}, []string{"g-equipe"}},
					{"members.display", store.Compare{Path: store.Path{Name: "members", Sub: "display"}, Op: store.Eq, Value: "émile kelvin"}, []string{"g-equipe"}},
					{"members[display]", store.ValuePath{Path: store.Path{Name: "members"},
						Filter: store.Compare{Path: store.Path{Name: "display"}, Op: store.Co, Value: "KELVIN"}}, []string{"g-equipe"}},
					{"ASCII members.display", store.Compare{Path: store.Path{Name: "members", Sub: "display"}, Op: store.Eq, Value: "ADMIN"}, []string{"g-equipe"}},
				} {
					page, err := r.ListGroups(ctx, store.Query{Filter: tc.filter, Limit: 10})
					if err != nil {
						return err
					}
					var got []string
					for _, g := range page.Groups {
						got = append(got, g.ID)
					}
					if diff := gocmp.Diff(tc.want, got); diff != "" {
						t.Errorf("ListGroups %s (-want +got):\n%s", tc.name, diff)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			err = s.Update(ctx, "a", func(tx store.Tx) error {
				taken := store.User{ID: "u-new", Attributes: store.Attributes{"userName": "ＳＴＲＡＳＳＥ"}}
				if err := tx.CreateUser(ctx, &taken); !errors.Is(err, store.ErrConflict) {
					t.Errorf("CreateUser ＳＴＲＡＳＳＥ after the migration: %v, want ErrConflict", err)
				}
				dr := tx.(store.DepartureRecorder)
				for q, want := range map[string]string{"strasse": "Straße", "BOB": "bob"} {
					d, err := dr.Departure(ctx, q)
					if err != nil || d.Role != "new" || d.UserName != want {
						t.Errorf("Departure(%q) = %+v, %v; want the newer one, %q", q, d, err, want)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestMigrationRefusesFoldCollisions checks that users or groups the new
// folding merges make the migration fail, naming them, before it changes
// anything, and that it succeeds once the collision is resolved.
func TestMigrationRefusesFoldCollisions(t *testing.T) {
	for _, e := range rawEngines {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			db, s, o := atVersion4(t, e.open, e.dialect)
			o.user("a", "u1", store.Attributes{"userName": "admin", "emails": []any{}})
			o.user("a", "u2", store.Attributes{"userName": "ＡＤＭＩＮ", "emails": []any{}})
			o.user("a", "u3", store.Attributes{"userName": "Jose\u0301", "emails": []any{}}) // NFD
			o.user("a", "u4", store.Attributes{"userName": "josé", "emails": []any{}})       // NFC
			o.group("a", "g1", "Straße", nil)
			o.group("a", "g2", "STRASSE", nil)

			err := s.Migrate(ctx)
			var fc *sqlstore.FoldCollisionError
			if !errors.As(err, &fc) {
				t.Fatalf("Migrate = %v, want a *FoldCollisionError", err)
			}
			want := []sqlstore.FoldCollision{
				{Table: "scim_users", Tenant: "a", Key: "admin", IDs: []string{"u1", "u2"}, Names: []string{"admin", "ＡＤＭＩＮ"}},
				{Table: "scim_users", Tenant: "a", Key: "jose\u0301", IDs: []string{"u3", "u4"}, Names: []string{"Jose\u0301", "josé"}},
				{Table: "scim_groups", Tenant: "a", Key: "strasse", IDs: []string{"g1", "g2"}, Names: []string{"Straße", "STRASSE"}},
			}
			if diff := gocmp.Diff(want, fc.Collisions); diff != "" {
				t.Errorf("Collisions (-want +got):\n%s", diff)
			}
			var version int
			if err := db.QueryRow("SELECT MAX(version) FROM scim_schema_migrations").Scan(&version); err != nil || version != 4 {
				t.Errorf("schema version after the failed Migrate = %d, %v; want 4", version, err)
			}
			var key string
			if err := db.QueryRow("SELECT user_name_folded FROM scim_users WHERE id = 'u2'").Scan(&key); err != nil || key != oldFold("ＡＤＭＩＮ") {
				t.Errorf("u2's key after the failed Migrate = %q, %v; want it unchanged", key, err)
			}

			o.exec("DELETE FROM scim_users WHERE id IN ('u2', 'u4')")
			o.exec("DELETE FROM scim_groups WHERE id = 'g2'")
			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("Migrate after resolving the collisions: %v", err)
			}
			err = s.View(ctx, "a", func(r store.Reader) error {
				for q, want := range map[string]string{"ＡＤＭＩＮ": "u1", "JOSÉ": "u3"} {
					if u, err := r.UserByUserName(ctx, q); err != nil || u.ID != want {
						t.Errorf("UserByUserName(%q) = %q, %v; want %s", q, u.ID, err, want)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
