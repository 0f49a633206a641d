package sqlstore_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimkit/scim/store"
	sqlstore "github.com/scimkit/scim/store/sql"
)

// Benchmarks of the costs DESIGN.md promises ("costs follow the work, not
// the data"), on SQLite always and on PostgreSQL when
// SCIM_TEST_POSTGRES_DSN is set. docs/performance.md has the commands and
// the results. The data sets are loaded only under -bench, by a loader
// that writes the adapter's tables directly in large transactions, and are
// kept between runs: SQLite files in $TMPDIR/scimkit-bench, PostgreSQL
// schemas named scimbench_*; both are keyed by the size and by a hash of
// the migrations and of the loader, so a schema change builds them anew.
// Drop them with
//
//	rm -r $TMPDIR/scimkit-bench
//	psql … -c "DROP SCHEMA scimbench_… CASCADE"

const benchTenant = "bench"

// benchLoaderVersion changes whenever the loader writes different data.
const benchLoaderVersion = "2"

// Groups of the data sets: name and number of members (the first users).
var benchGroups = []struct {
	id      string
	members int
}{{"g10", 10}, {"g1000", 1000}, {"g100000", 100000}}

// benchPlaceholder stands for the user's number in the template user; it
// is replaced in the encoded documents, which is much faster than
// encoding a million users.
const benchPlaceholder = "QZQZQZQ"

func benchNumber(i int) string { return fmt.Sprintf("%07d", i) }

func benchUserName(i int) string { return "user" + benchNumber(i) + "@example.com" }

func benchUserID(i int) string { return "u" + benchNumber(i) }

// benchAttrs is what Okta sends for a user, with n for the number.
func benchAttrs(n string) store.Attributes {
	return store.Attributes{
		"userName":    "user" + n + "@example.com",
		"externalId":  "00u" + n,
		"displayName": "User " + n,
		"name":        map[string]any{"givenName": "Given" + n, "familyName": "Family" + n, "formatted": "Given" + n + " Family" + n},
		"emails":      []any{map[string]any{"value": "user" + n + "@example.com", "type": "work", "primary": true}},
		"active":      true,
		"memberRole":  "viewer",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{"department": "Engineering"},
	}
}

// benchData is a loaded data set.
type benchData struct {
	eng   string
	db    *sql.DB
	s     *sqlstore.Store
	users int
}

var (
	benchMu   sync.Mutex
	benchSets = map[string]*benchData{}
)

// benchSchemaHash identifies the schema and the loader.
func benchSchemaHash(b *testing.B) string {
	h := sha256.New()
	err := fs.WalkDir(sqlstore.Migrations(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(sqlstore.Migrations(), path)
		h.Write([]byte(path))
		h.Write(body)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	h.Write([]byte(benchLoaderVersion))
	return hex.EncodeToString(h.Sum(nil))[:10]
}

// benchEngines are the engines the benchmarks run on.
func benchEngines() []string { return []string{"SQLite", "Postgres"} }

// openBench returns the data set of the given engine and size, loading it
// when no cached copy exists. It skips PostgreSQL without a DSN.
func openBench(b *testing.B, eng string, users int) *benchData {
	b.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	key := fmt.Sprint(eng, users)
	if d := benchSets[key]; d != nil {
		return d
	}
	var d *benchData
	switch eng {
	case "SQLite":
		d = openBenchSQLite(b, users)
	case "Postgres":
		d = openBenchPostgres(b, users)
	}
	benchSets[key] = d // kept open for the process's other benchmarks
	return d
}

func openBenchSQLite(b *testing.B, users int) *benchData {
	dir := filepath.Join(os.TempDir(), "scimkit-bench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("users-%d-%s.db", users, benchSchemaHash(b)))
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		tmp := path + ".loading"
		os.Remove(tmp)
		os.Remove(tmp + "-wal")
		os.Remove(tmp + "-shm")
		db, err := sql.Open("sqlite", sqliteDSN(tmp)+"&_pragma=synchronous(OFF)")
		if err != nil {
			b.Fatal(err)
		}
		db.SetMaxOpenConns(1)
		loadBench(b, &benchData{eng: "SQLite", db: db, s: migratedBench(b, db, sqlstore.SQLite), users: users})
		if _, err := db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			b.Fatal(err)
		}
		db.Close()
		if err := os.Rename(tmp, path); err != nil {
			b.Fatal(err)
		}
		os.Remove(tmp + "-wal")
		os.Remove(tmp + "-shm")
	}
	// Read the file once, so that the operating system caches it as a
	// database server's memory would; the first benchmark of a process
	// otherwise measures the disk.
	if f, err := os.Open(path); err == nil {
		io.Copy(io.Discard, f)
		f.Close()
	}
	db, err := sql.Open("sqlite", sqliteDSN(path))
	if err != nil {
		b.Fatal(err)
	}
	return &benchData{eng: "SQLite", db: db, s: migratedBench(b, db, sqlstore.SQLite), users: users}
}

func openBenchPostgres(b *testing.B, users int) *benchData {
	dsn := os.Getenv("SCIM_TEST_POSTGRES_DSN")
	if dsn == "" {
		b.Skip("SCIM_TEST_POSTGRES_DSN is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close()
	schema := fmt.Sprintf("scimbench_%d_%s", users, benchSchemaHash(b))
	var ready bool
	err = admin.QueryRow(`SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'scimbench_ready')`, schema).Scan(&ready)
	if err != nil {
		b.Fatal(err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		b.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		b.Fatal(err)
	}
	if !ready {
		if _, err := admin.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE"); err != nil {
			b.Fatal(err)
		}
		if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
			b.Fatal(err)
		}
		d := &benchData{eng: "Postgres", db: db, s: migratedBench(b, db, sqlstore.Postgres), users: users}
		loadBench(b, d)
		for _, stmt := range []string{"VACUUM ANALYZE scim_users", "VACUUM ANALYZE scim_emails", "VACUUM ANALYZE scim_members", "CREATE TABLE scimbench_ready (x int)"} {
			if _, err := db.Exec(stmt); err != nil {
				b.Fatal(err)
			}
		}
		return d
	}
	return &benchData{eng: "Postgres", db: db, s: migratedBench(b, db, sqlstore.Postgres), users: users}
}

func migratedBench(b *testing.B, db *sql.DB, d sqlstore.Dialect) *sqlstore.Store {
	s, err := sqlstore.New(db, d)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return s
}

// loadBench fills a migrated, empty database: users 0…users-1 with one
// email each, inserted with multi-row INSERTs in large transactions, the
// tenant's counters, and the groups of benchGroups that fit.
func loadBench(b *testing.B, d *benchData) {
	b.Helper()
	start := time.Now()
	ctx := context.Background()
	// The groups go through the Store, which also creates the tenant row.
	err := d.s.Update(ctx, benchTenant, func(tx store.Tx) error {
		for _, g := range benchGroups {
			if g.members <= d.users {
				if err := tx.CreateGroup(ctx, &store.Group{ID: g.id, Attributes: store.Attributes{"displayName": "Group " + g.id}}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}

	tmplDoc, tmplFdoc, err := sqlstore.EncodeDoc(benchAttrs(benchPlaceholder))
	if err != nil {
		b.Fatal(err)
	}
	lowerPlaceholder := strings.ToLower(benchPlaceholder)
	docs := func(i int) (string, string) {
		n := benchNumber(i)
		return strings.ReplaceAll(strings.ReplaceAll(tmplDoc, benchPlaceholder, n), lowerPlaceholder, n),
			strings.ReplaceAll(strings.ReplaceAll(tmplFdoc, benchPlaceholder, n), lowerPlaceholder, n)
	}
	// The shortcut must write what the adapter would.
	for _, i := range []int{0, 42, d.users - 1} {
		doc, fdoc := docs(i)
		wantDoc, wantFdoc, err := sqlstore.EncodeDoc(benchAttrs(benchNumber(i)))
		if err != nil {
			b.Fatal(err)
		}
		if doc != wantDoc || fdoc != wantFdoc {
			b.Fatalf("templated documents of user %d differ from the adapter's:\n%s\n%s\nwant\n%s\n%s", i, doc, fdoc, wantDoc, wantFdoc)
		}
	}

	ph := func(n, cols int) string { // "(?, …), (?, …)" or "($1, …), …"
		var sb strings.Builder
		k := 0
		for r := range n {
			if r > 0 {
				sb.WriteString(", ")
			}
			sb.WriteByte('(')
			for c := range cols {
				if c > 0 {
					sb.WriteString(", ")
				}
				k++
				if d.eng == "Postgres" {
					fmt.Fprintf(&sb, "$%d", k)
				} else {
					sb.WriteByte('?')
				}
			}
			sb.WriteByte(')')
		}
		return sb.String()
	}
	const rowsPerStmt, stmtsPerTx = 1000, 50
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	for lo := 0; lo < d.users; lo += rowsPerStmt * stmtsPerTx {
		tx, err := d.db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		for s := lo; s < min(d.users, lo+rowsPerStmt*stmtsPerTx); s += rowsPerStmt {
			hi := min(d.users, s+rowsPerStmt)
			var uargs, eargs []any
			for i := s; i < hi; i++ {
				doc, fdoc := docs(i)
				name := benchUserName(i)
				uargs = append(uargs, benchTenant, benchUserID(i), name, sqlstore.Fold(name), "00u"+benchNumber(i), true, doc, fdoc, 1, now+int64(i), now+int64(i))
				eargs = append(eargs, benchTenant, benchUserID(i), 0, name, sqlstore.Fold(name), "work", "work", true, 0)
			}
			if _, err := tx.Exec("INSERT INTO scim_users (tenant, id, user_name, user_name_folded, external_id, managed, doc, fdoc, version, created, last_modified) VALUES "+ph(hi-s, 11), uargs...); err != nil {
				b.Fatal(err)
			}
			if _, err := tx.Exec("INSERT INTO scim_emails (tenant, user_id, pos, value, value_folded, type, type_folded, is_primary, bare) VALUES "+ph(hi-s, 9), eargs...); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	for _, g := range benchGroups {
		if g.members > d.users {
			continue
		}
		for s := 0; s < g.members; s += 5000 {
			hi := min(g.members, s+5000)
			var args []any
			for i := s; i < hi; i++ {
				args = append(args, benchTenant, g.id, benchUserID(i), "User "+benchNumber(i))
			}
			if _, err := d.db.Exec("INSERT INTO scim_members (tenant, group_id, user_id, display) VALUES "+ph(hi-s, 4), args...); err != nil {
				b.Fatal(err)
			}
		}
	}
	// Every bench user is managed (created by the identity provider).
	q := "UPDATE scim_tenants SET user_count = ?, managed_count = ? WHERE name = ?"
	if d.eng == "Postgres" {
		q = "UPDATE scim_tenants SET user_count = $1, managed_count = $2 WHERE name = $3"
	}
	if _, err := d.db.Exec(q, d.users, d.users, benchTenant); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d users into %s in %v", d.users, d.eng, time.Since(start).Round(time.Millisecond))
}

// sizes returns "name=n" sub-benchmark names for a list of sizes.
func sizeName(name string, n int) string { return fmt.Sprintf("%s=%d", name, n) }

func view(b *testing.B, s *sqlstore.Store, fn func(r store.Reader) error) {
	if err := s.View(context.Background(), benchTenant, fn); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkUserNameLookup is the lookup Okta sends before creating a
// user: GET /Users?filter=userName eq "…"&count=100, for a random user.
func BenchmarkUserNameLookup(b *testing.B) {
	for _, eng := range benchEngines() {
		for _, n := range []int{10_000, 1_000_000} {
			b.Run(eng+"/"+sizeName("users", n), func(b *testing.B) {
				d := openBench(b, eng, n)
				ctx := context.Background()
				i := 0
				for b.Loop() {
					i = (i + 7919) % n // a prime stride: spread over the table
					q := store.Query{Filter: store.Compare{Path: store.Path{Name: "userName"}, Op: store.Eq, Value: strings.ToUpper(benchUserName(i))}, Limit: 100}
					view(b, d.s, func(r store.Reader) error {
						p, err := r.ListUsers(ctx, q)
						if err == nil && (p.Total != 1 || len(p.Users) != 1) {
							err = fmt.Errorf("lookup of %s: total %d", benchUserName(i), p.Total)
						}
						return err
					})
				}
			})
		}
	}
}

// BenchmarkAddMembers adds 100 users to a group of 1,000 and of 100,000
// members, as one Okta PATCH does. The members are removed again outside
// the timed part, so the group keeps its size.
func BenchmarkAddMembers(b *testing.B) {
	for _, eng := range benchEngines() {
		for _, g := range []struct {
			id      string
			members int
		}{{"g1000", 1000}, {"g100000", 100000}} {
			b.Run(eng+"/"+sizeName("members", g.members), func(b *testing.B) {
				d := openBench(b, eng, 1_000_000)
				ctx := context.Background()
				round := 0
				for b.Loop() {
					b.StopTimer()
					round++
					var add []store.Member
					var ids []string
					for k := range 100 {
						i := 200_000 + (round*100+k)%700_000 // never members
						add = append(add, store.Member{Value: benchUserID(i), Display: "User " + benchNumber(i)})
						ids = append(ids, benchUserID(i))
					}
					b.StartTimer()
					err := d.s.Update(ctx, benchTenant, func(tx store.Tx) error {
						ch, err := tx.AddMembers(ctx, g.id, add, time.Now())
						if err == nil && len(ch.Added) != 100 {
							err = fmt.Errorf("added %d, want 100", len(ch.Added))
						}
						return err
					})
					b.StopTimer()
					if err != nil {
						b.Fatal(err)
					}
					err = d.s.Update(ctx, benchTenant, func(tx store.Tx) error {
						_, err := tx.RemoveMembers(ctx, g.id, ids, time.Now())
						return err
					})
					if err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
			})
		}
	}
}

// BenchmarkGroupWithoutMembers is GET /Groups/{id}?excludedAttributes=members
// on a group of 10 and of 100,000 members.
func BenchmarkGroupWithoutMembers(b *testing.B) {
	for _, eng := range benchEngines() {
		for _, g := range []struct {
			id      string
			members int
		}{{"g10", 10}, {"g100000", 100000}} {
			b.Run(eng+"/"+sizeName("members", g.members), func(b *testing.B) {
				d := openBench(b, eng, 1_000_000)
				ctx := context.Background()
				for b.Loop() {
					view(b, d.s, func(r store.Reader) error {
						_, err := r.Group(ctx, g.id, false)
						return err
					})
				}
			})
		}
	}
}

// BenchmarkPageAtOffset reads one page of 100 users at an offset of
// 1,000,000 users, cold: each read goes through a new Store, whose cursor
// cache is empty, so the page is a LIMIT/OFFSET.
func BenchmarkPageAtOffset(b *testing.B) {
	for _, eng := range benchEngines() {
		for _, off := range []int{0, 900_000} {
			b.Run(eng+"/"+sizeName("offset", off), func(b *testing.B) {
				d := openBench(b, eng, 1_000_000)
				ctx := context.Background()
				dialect := d.s.Dialect()
				for b.Loop() {
					s, _ := sqlstore.New(d.db, dialect)
					view(b, s, func(r store.Reader) error {
						p, err := r.ListUsers(ctx, store.Query{Offset: off, Limit: 100})
						if err == nil && (p.Total != d.users || len(p.Users) != 100 || p.Users[0].ID != benchUserID(off)) {
							err = fmt.Errorf("page at %d: total %d, %d users", off, p.Total, len(p.Users))
						}
						return err
					})
				}
			})
		}
	}
}

// BenchmarkImportWalk is Okta's import: every user, page by page
// (startIndex 1, 101, 201, …, count 100), each page its own request; one
// op is the whole walk. BenchmarkReadAllOnePass is the floor it is
// compared with: the same users read and decoded in one query.
func BenchmarkImportWalk(b *testing.B) {
	for _, eng := range benchEngines() {
		b.Run(eng+"/"+sizeName("users", 1_000_000), func(b *testing.B) {
			d := openBench(b, eng, 1_000_000)
			ctx := context.Background()
			for b.Loop() {
				s, _ := sqlstore.New(d.db, d.s.Dialect()) // a cold cursor cache
				seen := 0
				for off := 0; off < d.users; off += 100 {
					view(b, s, func(r store.Reader) error {
						p, err := r.ListUsers(ctx, store.Query{Offset: off, Limit: 100})
						if err == nil && (len(p.Users) != 100 || p.Users[0].ID != benchUserID(off)) {
							err = fmt.Errorf("page at %d: %d users", off, len(p.Users))
						}
						seen += len(p.Users)
						return err
					})
				}
				if seen != d.users {
					b.Fatalf("walk saw %d users, want %d", seen, d.users)
				}
			}
		})
	}
}

func BenchmarkReadAllOnePass(b *testing.B) {
	for _, eng := range benchEngines() {
		b.Run(eng+"/"+sizeName("users", 1_000_000), func(b *testing.B) {
			d := openBench(b, eng, 1_000_000)
			ctx := context.Background()
			for b.Loop() {
				seen := 0
				if err := sqlstore.ReadAllUsers(ctx, d.s, benchTenant, func(store.User) { seen++ }); err != nil {
					b.Fatal(err)
				}
				if seen != d.users {
					b.Fatalf("read %d users, want %d", seen, d.users)
				}
			}
		})
	}
}

// BenchmarkCreateUser is the write of a provisioning POST /Users: the
// userName looked up (a miss), the user created with its email, one event
// recorded, committed. On SQLite this is the time a create holds the
// database's write lock, which bounds provisioning: the file is opened
// with synchronous(OFF), so that the disk's flushes do not hide it.
func BenchmarkCreateUser(b *testing.B) {
	for _, eng := range benchEngines() {
		b.Run(eng, func(b *testing.B) {
			var s *sqlstore.Store
			tenant := benchTenant
			switch eng {
			case "SQLite":
				db, err := sql.Open("sqlite", sqliteDSN(filepath.Join(b.TempDir(), "create.db"))+"&_pragma=synchronous(OFF)")
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { db.Close() })
				s = migratedBench(b, db, sqlstore.SQLite)
			case "Postgres":
				// A tenant of its own in the cached data set, removed
				// afterwards: the other benchmarks count its users.
				d := openBench(b, eng, 10_000)
				s, tenant = d.s, fmt.Sprintf("create-%d", time.Now().UnixNano())
				b.Cleanup(func() {
					for _, table := range []string{"scim_emails", "scim_events", "scim_users"} {
						if _, err := d.db.Exec("DELETE FROM "+table+" WHERE tenant = $1", tenant); err != nil {
							b.Error(err)
						}
					}
					if _, err := d.db.Exec("DELETE FROM scim_tenants WHERE name = $1", tenant); err != nil {
						b.Error(err)
					}
				})
			}
			ctx := context.Background()
			prefix := "c-"
			now := time.Now().UTC()
			i := 0
			for b.Loop() {
				n := prefix + benchNumber(i)
				i++
				u := &store.User{ID: n, Attributes: benchAttrs(n), Role: "viewer", Managed: true,
					Meta: store.Meta{Created: now, LastModified: now}}
				err := s.Update(ctx, tenant, func(tx store.Tx) error {
					if _, err := tx.UserByUserName(ctx, u.UserName()); !errors.Is(err, store.ErrNotFound) {
						return fmt.Errorf("lookup of a new userName: %v", err)
					}
					if err := tx.CreateUser(ctx, u); err != nil {
						return err
					}
					return tx.(store.EventRecorder).RecordEvents(ctx, []store.Event{{
						Type: store.UserProvisioned, Time: now, Tenant: tenant, Client: "okta", UserID: u.ID, After: u}})
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
