package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
	sqlstore "github.com/scimkit/scim/store/sql"
)

// pageIDs lists one page of user ids and the total.
func pageIDs(t *testing.T, s *sqlstore.Store, tenant string, offset, limit int) (int, []string) {
	t.Helper()
	ctx := context.Background()
	var p store.UserPage
	err := s.View(ctx, tenant, func(r store.Reader) error {
		var err error
		p, err = r.ListUsers(ctx, store.Query{Offset: offset, Limit: limit})
		return err
	})
	if err != nil {
		t.Fatalf("ListUsers(offset %d): %v", offset, err)
	}
	ids := []string{}
	for _, u := range p.Users {
		ids = append(ids, u.ID)
	}
	return p.Total, ids
}

func createUsers(t *testing.T, s *sqlstore.Store, tenant string, ids ...string) {
	t.Helper()
	ctx := context.Background()
	err := s.Update(ctx, tenant, func(tx store.Tx) error {
		for _, id := range ids {
			if err := tx.CreateUser(ctx, &store.User{ID: id, Attributes: store.Attributes{"userName": "name-" + id}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("create %v: %v", ids, err)
	}
}

// TestPagingWalkMatchesOffsetUnderWrites walks a tenant's users page by
// page through one Store, whose cursor cache seeks past remembered page
// ends, while another Store on the same database (another process, as
// far as the first one knows) creates and deletes users between pages,
// and an Update that rolls back deletes one too. Every page must equal
// the page a Store with an empty cache answers with LIMIT/OFFSET.
func TestPagingWalkMatchesOffsetUnderWrites(t *testing.T) {
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			walker := eng.open(t)
			db := sqlstore.DBOf(walker)
			writer, err := sqlstore.New(db, walker.Dialect())
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			const tenant = "walk"
			var ids []string
			for i := range 120 {
				ids = append(ids, fmt.Sprintf("u%04d", i))
			}
			createUsers(t, writer, tenant, ids...)
			createUsers(t, writer, "other", "o1", "o2", "o3") // interleaved seqs of another tenant
			alive := append([]string{}, ids...)
			next := len(ids)
			rng := rand.New(rand.NewPCG(4, 2))
			const limit = 10
			for round := range 3 {
				for offset := 0; offset < len(alive)+limit; offset += limit {
					total, got := pageIDs(t, walker, tenant, offset, limit)
					fresh, _ := sqlstore.New(db, walker.Dialect())
					wantTotal, want := pageIDs(t, fresh, tenant, offset, limit)
					if wantTotal != len(alive) {
						t.Fatalf("round %d offset %d: reference total %d, want %d", round, offset, wantTotal, len(alive))
					}
					if total != wantTotal {
						t.Errorf("round %d offset %d: total %d, want %d", round, offset, total, wantTotal)
					}
					if diff := cmp.Diff(want, got); diff != "" {
						t.Fatalf("round %d offset %d: page mismatch (-want +got):\n%s", round, offset, diff)
					}
					switch rng.IntN(4) {
					case 0: // delete a user before or after the walk's position
						i := rng.IntN(len(alive))
						id := alive[i]
						if err := writer.Update(ctx, tenant, func(tx store.Tx) error { return tx.DeleteUser(ctx, id) }); err != nil {
							t.Fatal(err)
						}
						alive = append(alive[:i:i], alive[i+1:]...)
					case 1:
						id := fmt.Sprintf("u%04d", next)
						next++
						createUsers(t, writer, tenant, id)
						alive = append(alive, id)
					case 2: // a delete that rolls back changes nothing
						errRollback := errors.New("roll back")
						err := walker.Update(ctx, tenant, func(tx store.Tx) error {
							if err := tx.DeleteUser(ctx, alive[0]); err != nil {
								return err
							}
							return errRollback
						})
						if !errors.Is(err, errRollback) {
							t.Fatalf("Update: %v, want the rollback error", err)
						}
					}
				}
			}
		})
	}
}

// TestTotalsFollowWritesInsideTheTransaction checks the counters behind
// an unfiltered total: a Tx sees its own creates and deletes, a rolled back
// Tx leaves no trace, groups are counted apart from users.
func TestTotalsFollowWritesInsideTheTransaction(t *testing.T) {
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			s := eng.open(t)
			ctx := context.Background()
			createUsers(t, s, "t", "a", "b", "c")
			type totals struct{ Users, Groups int }
			read := func(r store.Reader) totals {
				t.Helper()
				up, err := r.ListUsers(ctx, store.Query{})
				if err != nil {
					t.Fatal(err)
				}
				gp, err := r.ListGroups(ctx, store.Query{})
				if err != nil {
					t.Fatal(err)
				}
				return totals{up.Total, gp.Total}
			}
			errRollback := errors.New("roll back")
			err := s.Update(ctx, "t", func(tx store.Tx) error {
				if err := tx.CreateGroup(ctx, &store.Group{ID: "g", Attributes: store.Attributes{"displayName": "G"}, Meta: store.Meta{Created: time.Now()}}); err != nil {
					return err
				}
				if err := tx.DeleteUser(ctx, "a"); err != nil {
					return err
				}
				if err := tx.CreateUser(ctx, &store.User{ID: "a", Attributes: store.Attributes{"userName": "dup-of-b"}}); err != nil {
					return err
				}
				if diff := cmp.Diff(totals{3, 1}, read(tx)); diff != "" {
					t.Errorf("inside the Tx (-want +got):\n%s", diff)
				}
				if err := tx.CreateUser(ctx, &store.User{ID: "x", Attributes: store.Attributes{"userName": "name-b"}}); !errors.Is(err, store.ErrConflict) {
					t.Errorf("CreateUser with a taken userName: %v, want ErrConflict", err)
				}
				return errRollback
			})
			if !errors.Is(err, errRollback) {
				t.Fatalf("Update: %v", err)
			}
			var got totals
			s.View(ctx, "t", func(r store.Reader) error { got = read(r); return nil })
			if diff := cmp.Diff(totals{3, 0}, got); diff != "" {
				t.Errorf("after the rollback (-want +got):\n%s", diff)
			}
			if err := s.Update(ctx, "t", func(tx store.Tx) error { return tx.DeleteUser(ctx, "b") }); err != nil {
				t.Fatal(err)
			}
			s.View(ctx, "t", func(r store.Reader) error { got = read(r); return nil })
			if diff := cmp.Diff(totals{2, 0}, got); diff != "" {
				t.Errorf("after a delete (-want +got):\n%s", diff)
			}
			s.View(ctx, "empty", func(r store.Reader) error { got = read(r); return nil })
			if diff := cmp.Diff(totals{0, 0}, got); diff != "" {
				t.Errorf("a tenant never written (-want +got):\n%s", diff)
			}
		})
	}
}
