package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimkit/scim/store"
	sqlstore "github.com/scimkit/scim/store/sql"
)

func TestUnreachableDatabaseIsUnavailable(t *testing.T) {
	db, err := sql.Open("pgx", "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := sqlstore.New(db, sqlstore.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	err = s.View(ctx, "t", func(r store.Reader) error { _, err := r.User(ctx, "x"); return err })
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("View on an unreachable server: %v, want ErrUnavailable", err)
	}
	err = s.Update(ctx, "t", func(tx store.Tx) error { return nil })
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Update on an unreachable server: %v, want ErrUnavailable", err)
	}
}

// TestConcurrentMembershipFromSeveralStores adds members to one group from
// several Stores on separate connection pools, as several handler
// instances would, and checks that none is lost or duplicated.
func TestConcurrentMembershipFromSeveralStores(t *testing.T) {
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			first := eng.open(t)
			stores := []*sqlstore.Store{first}
			if eng.name == "SQLite" {
				// A second pool on the same file: the in-process writer lock
				// does not cover it, SQLite's file lock does.
				path := sqliteFile(t, first)
				db, err := sql.Open("sqlite", sqliteDSN(path))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				s, _ := sqlstore.New(db, sqlstore.SQLite)
				stores = append(stores, s)
			} else {
				stores = append(stores, first, first)
			}
			ctx := context.Background()
			const workers, perWorker = 6, 20
			err := first.Update(ctx, "m", func(tx store.Tx) error {
				if err := tx.CreateGroup(ctx, &store.Group{ID: "g", Attributes: store.Attributes{"displayName": "G"}}); err != nil {
					return err
				}
				for i := range workers * perWorker {
					if err := tx.CreateUser(ctx, &store.User{ID: fmt.Sprint("u", i), Attributes: store.Attributes{"userName": fmt.Sprint("user", i)}}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s := stores[w%len(stores)]
					for i := range perWorker {
						// Each worker re-adds the previous worker's ids too.
						ids := []store.Member{{Value: fmt.Sprint("u", w*perWorker+i)}, {Value: fmt.Sprint("u", ((w+workers-1)%workers)*perWorker+i)}}
						err := s.Update(ctx, "m", func(tx store.Tx) error {
							_, err := tx.AddMembers(ctx, "g", ids, time.Now())
							return err
						})
						if err != nil {
							t.Errorf("AddMembers: %v", err)
							return
						}
					}
				}()
			}
			wg.Wait()
			var g store.Group
			first.View(ctx, "m", func(r store.Reader) error {
				var err error
				g, err = r.Group(ctx, "g", true)
				return err
			})
			seen := map[string]bool{}
			for _, m := range g.Members {
				if seen[m.Value] {
					t.Errorf("member %s twice", m.Value)
				}
				seen[m.Value] = true
			}
			if len(seen) != workers*perWorker {
				t.Errorf("%d members, want %d", len(seen), workers*perWorker)
			}
		})
	}
}

// sqliteFile finds the file behind a SQLite store opened by openSQLite.
func sqliteFile(t *testing.T, s *sqlstore.Store) string {
	t.Helper()
	var path string
	if err := s.View(context.Background(), "x", func(r store.Reader) error { return nil }); err != nil {
		t.Fatal(err)
	}
	path = lastSQLitePath
	if !strings.HasSuffix(path, ".db") {
		t.Fatalf("no SQLite path recorded")
	}
	return path
}
