package memory_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/scimkit/scim/store"
	"github.com/scimkit/scim/store/memory"
)

// The memory store keeps each tenant's users and groups in maps guarded by
// a lock: writes run in Update, atomically, and reads in View.
func Example() {
	ctx := context.Background()
	st := memory.New()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	err := st.Update(ctx, "acme", func(tx store.Tx) error {
		return tx.CreateUser(ctx, &store.User{
			ID:         "u1",
			Attributes: store.Attributes{"userName": "ada@acme.test", "active": true},
			Managed:    true,
			Meta:       store.Meta{Created: now, LastModified: now},
		})
	})
	if err != nil {
		panic(err)
	}
	_ = st.View(ctx, "acme", func(tx store.Reader) error {
		u, err := tx.UserByUserName(ctx, "ADA@acme.test") // userName is matched without case
		fmt.Println(u.ID, u.UserName(), u.Active(), err)
		_, err = tx.User(ctx, "nobody")
		fmt.Println(errors.Is(err, store.ErrNotFound))
		return nil
	})
	// Another tenant sees nothing of acme's.
	_ = st.View(ctx, "other", func(tx store.Reader) error {
		page, err := tx.ListUsers(ctx, store.Query{Limit: 10})
		fmt.Println(page.Total, err)
		return nil
	})
	// Output:
	// u1 ada@acme.test true <nil>
	// true
	// 0 <nil>
}
