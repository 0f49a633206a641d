package storetest_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
	"github.com/scimkit/scim/store/memory"
	"github.com/scimkit/scim/store/storetest"
)

// bare hides every optional power of the store it wraps: its View and
// Update hand out Readers and Txs that are only store.Reader and store.Tx.
type bare struct{ s store.Store }

type bareTx struct{ store.Tx }

type bareReader struct{ store.Reader }

func (b bare) View(ctx context.Context, tenant string, fn func(store.Reader) error) error {
	return b.s.View(ctx, tenant, func(r store.Reader) error { return fn(bareReader{r}) })
}

func (b bare) Update(ctx context.Context, tenant string, fn func(store.Tx) error) error {
	return b.s.Update(ctx, tenant, func(tx store.Tx) error { return fn(bareTx{tx}) })
}

func TestPowers(t *testing.T) {
	for _, tc := range []struct {
		name string
		st   store.Store
		want bool
	}{
		{"memory has every power", memory.New(), true},
		{"a wrapper that hides them has none", bare{memory.New()}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			powers, err := storetest.Powers(t.Context(), tc.st)
			if err != nil {
				t.Fatal(err)
			}
			if len(powers) == 0 {
				t.Fatal("Powers reported no power")
			}
			for _, p := range powers {
				if diff := cmp.Diff(tc.want, p.Has); diff != "" {
					t.Errorf("%s (-want +got):\n%s", p.Name, diff)
				}
			}
		})
	}
}
