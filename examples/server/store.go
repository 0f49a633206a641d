package main

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	_ "modernc.org/sqlite"             // driver "sqlite"

	"github.com/scimkit/scim/store"
	"github.com/scimkit/scim/store/memory"
	sqlstore "github.com/scimkit/scim/store/sql"
)

// defaultDB is the -db default: a SQLite file next to where the server
// runs, so data survives restarts with no database server.
const defaultDB = "scim.db"

// openStore opens the store named by -db: "memory", a postgres:// or
// mysql:// URL, or else the path of a SQLite file. SQL stores are migrated.
// The returned func closes the store.
func openStore(ctx context.Context, dsn string) (store.Store, func(), error) {
	if dsn == "memory" {
		return memory.New(), func() {}, nil
	}
	driver, conn, dialect, err := sqlSource(dsn)
	if err != nil {
		return nil, nil, err
	}
	db, err := sql.Open(driver, conn)
	if err != nil {
		return nil, nil, fmt.Errorf("-db %s: %v", redact(dsn), err)
	}
	if dialect == sqlstore.SQLite {
		// A new SQLite connection reads the schema and prepares its
		// statements again: keep them (see sqlstore's documentation).
		db.SetMaxIdleConns(16)
	}
	closeDB := func() { db.Close() }
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		closeDB()
		return nil, nil, fmt.Errorf("cannot connect to %s: %v", redact(dsn), oneLine(err))
	}
	st, err := sqlstore.New(db, dialect)
	if err != nil {
		closeDB()
		return nil, nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		closeDB()
		return nil, nil, fmt.Errorf("migrate %s: %v", redact(dsn), oneLine(err))
	}
	return st, closeDB, nil
}

// sqlSource maps -db to a database/sql driver, its DSN and the dialect.
func sqlSource(dsn string) (driver, conn string, dialect sqlstore.Dialect, err error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return "pgx", dsn, sqlstore.Postgres, nil
	case strings.HasPrefix(dsn, "mysql://"):
		u, err := url.Parse(dsn)
		if err != nil {
			return "", "", 0, fmt.Errorf("-db: invalid mysql URL: %v", err)
		}
		cfg := mysql.NewConfig()
		cfg.Net = "tcp"
		cfg.Addr = u.Host
		if u.Port() == "" {
			cfg.Addr = net.JoinHostPort(u.Hostname(), "3306")
		}
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
		cfg.DBName = strings.TrimPrefix(u.Path, "/")
		cfg.ParseTime = true
		for k, v := range u.Query() {
			if cfg.Params == nil {
				cfg.Params = map[string]string{}
			}
			cfg.Params[k] = v[0]
		}
		return "mysql", cfg.FormatDSN(), sqlstore.MySQL, nil
	case strings.Contains(dsn, "://"):
		return "", "", 0, fmt.Errorf("-db %s: want memory, a SQLite file, postgres://… or mysql://…", redact(dsn))
	}
	path := strings.TrimPrefix(dsn, "file:")
	return "sqlite", "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=temp_store(MEMORY)", sqlstore.SQLite, nil
}

// redact hides the password of a database URL.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
