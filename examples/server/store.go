package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"regexp"
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
// mysql:// URL, a PostgreSQL key=value DSN ("host=… dbname=…"), a Go MySQL
// DSN ("user:pass@tcp(host)/db"), or else the path of a SQLite file. SQL
// stores are migrated. The returned func closes the store. Its errors
// never carry the DSN's password.
func openStore(ctx context.Context, dsn string) (store.Store, func(), error) {
	st, closeDB, err := openSQL(ctx, dsn)
	if err != nil {
		return nil, nil, hidePassword(err, dsn)
	}
	return st, closeDB, nil
}

func openSQL(ctx context.Context, dsn string) (store.Store, func(), error) {
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
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"), keyValueDSN.MatchString(dsn):
		return "pgx", dsn, sqlstore.Postgres, nil
	case goMySQLDSN.MatchString(dsn):
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			return "", "", 0, fmt.Errorf("-db: invalid MySQL DSN %s", redact(dsn)) // the driver's error may quote it
		}
		cfg.ParseTime = true
		return "mysql", cfg.FormatDSN(), sqlstore.MySQL, nil
	case strings.HasPrefix(dsn, "mysql://"):
		u, err := url.Parse(dsn)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // without the URL it quotes
			}
			return "", "", 0, fmt.Errorf("-db %s: invalid mysql URL: %v", redact(dsn), err)
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

var (
	// keyValueDSN is a PostgreSQL key=value DSN: it starts with a libpq
	// setting.
	keyValueDSN = regexp.MustCompile(`^\s*(host|hostaddr|port|user|password|dbname|sslmode|service)\s*=`)
	// goMySQLDSN is the Go MySQL driver's DSN: [user[:pass]@]proto(addr)/db.
	goMySQLDSN = regexp.MustCompile(`^[^/]*@(tcp|tcp6|unix)\(`)
	// passwordSetting is a password given as a setting: in a URL's query
	// or a key=value DSN, quoted or not.
	passwordSetting = regexp.MustCompile(`(?i)(\b(?:password|passwd|pwd)\s*=\s*)('(?:[^'\\]|\\.)*'?|[^&\s]*)`)
)

// redact hides the password of a database URL or DSN: the password of
// user:password@ (a URL, a Go MySQL DSN) and password=… settings (a URL's
// query, a key=value DSN). When unsure it hides more.
func redact(dsn string) string {
	s := passwordSetting.ReplaceAllString(dsn, "${1}xxxxx")
	prefix, rest := "", s
	if i := strings.Index(s, "://"); i >= 0 {
		prefix, rest = s[:i+3], s[i+3:]
	}
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		if colon := strings.IndexByte(rest[:at], ':'); colon >= 0 {
			rest = rest[:colon+1] + "xxxxx" + rest[at:]
		}
	}
	return prefix + rest
}

// hidePassword returns err with its text redacted: what a driver says may
// quote the DSN, or the password alone.
func hidePassword(err error, dsn string) error {
	msg := redact(err.Error())
	for _, p := range passwords(dsn) {
		msg = strings.ReplaceAll(msg, p, "xxxxx")
	}
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}

// passwords returns the passwords dsn carries, in the forms they may be
// quoted in (as written, and decoded).
func passwords(dsn string) []string {
	var out []string
	add := func(p string) {
		if len(p) >= 3 { // shorter ones would hide too much of the message
			out = append(out, p)
		}
	}
	for _, m := range passwordSetting.FindAllStringSubmatch(dsn, -1) {
		v := strings.Trim(m[2], "'")
		add(v)
		if d, err := url.QueryUnescape(v); err == nil {
			add(d)
		}
	}
	rest := dsn
	if i := strings.Index(dsn, "://"); i >= 0 {
		rest = dsn[i+3:]
	}
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		if _, p, ok := strings.Cut(rest[:at], ":"); ok {
			add(p)
			if d, err := url.PathUnescape(p); err == nil {
				add(d)
			}
		}
	}
	return out
}

// hidePasswordAttr returns a slog ReplaceAttr that hides dsn's password
// in every logged string and error (a database error logged while serving
// could quote it), or nil when dsn has none.
func hidePasswordAttr(dsn string) func([]string, slog.Attr) slog.Attr {
	secrets := passwords(dsn)
	if len(secrets) == 0 {
		return nil
	}
	hide := func(s string) (string, bool) {
		changed := false
		for _, p := range secrets {
			if strings.Contains(s, p) {
				s, changed = strings.ReplaceAll(s, p, "xxxxx"), true
			}
		}
		return s, changed
	}
	return func(_ []string, a slog.Attr) slog.Attr {
		switch a.Value.Kind() {
		case slog.KindString:
			if s, ok := hide(a.Value.String()); ok {
				a.Value = slog.StringValue(s)
			}
		case slog.KindAny:
			if err, isErr := a.Value.Any().(error); isErr {
				if s, ok := hide(err.Error()); ok {
					a.Value = slog.StringValue(s)
				}
			}
		}
		return a
	}
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
