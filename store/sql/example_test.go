package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite"

	"github.com/scimkit/scim/store"
	sqlstore "github.com/scimkit/scim/store/sql"
)

// A Store on SQLite: open the database with the driver of your choice, name
// the dialect, and migrate before the first use.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sqlstore-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "scim.db")+
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=temp_store(MEMORY)")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	db.SetMaxIdleConns(16)
	st, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		panic(err)
	}
	// Before Migrate, every call says what to do.
	err = st.View(ctx, "acme", func(store.Reader) error { return nil })
	fmt.Println(err != nil && errors.Is(err, sqlstore.ErrNotMigrated))
	if err := st.Migrate(ctx); err != nil {
		panic(err)
	}
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	err = st.Update(ctx, "acme", func(tx store.Tx) error {
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
		u, err := tx.UserByUserName(ctx, "ADA@ACME.TEST")
		fmt.Println(u.ID, u.UserName(), u.Meta.Version > 0, err)
		return nil
	})
	// Output:
	// true
	// u1 ada@acme.test true <nil>
}
