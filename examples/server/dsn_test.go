package main

import (
	"errors"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
)

// dbPassword is the database password of these tests: no output of the
// server may carry it.
const dbPassword = "S3cretDbPass"

// TestDemoNeverPrintsTheDatabasePassword: whatever form -db takes (a URL,
// a URL with the password in its query, a key=value DSN, a Go MySQL DSN)
// and whatever happens (a malformed value, an unreachable or refusing
// database, a start that succeeds), stdout and stderr never carry its
// password.
func TestDemoNeverPrintsTheDatabasePassword(t *testing.T) {
	t.Parallel()
	failing := []struct{ name, db string }{
		{"postgres URL, unreachable", "postgres://u:" + dbPassword + "@127.0.0.1:1/db"},
		{"postgresql URL, unreachable", "postgresql://u:" + dbPassword + "@127.0.0.1:1/db"},
		{"postgres URL with a bad escape", "postgres://u:" + dbPassword + "%zz@127.0.0.1:1/db"},
		{"postgres URL, password in the query", "postgres://u@127.0.0.1:1/db?sslmode=disable&password=" + dbPassword},
		{"mysql URL, unreachable", "mysql://u:" + dbPassword + "@127.0.0.1:1/db"},
		{"mysql URL with a bad escape", "mysql://u:" + dbPassword + "%zz@127.0.0.1:1/db"},
		{"key=value DSN, unreachable", "host=127.0.0.1 port=1 user=u password=" + dbPassword + " dbname=db"},
		{"key=value DSN, quoted password", "host=127.0.0.1 port=1 user=u password='" + dbPassword + " x' dbname=db"},
		{"Go MySQL DSN, unreachable", "u:" + dbPassword + "@tcp(127.0.0.1:1)/db"},
	}
	if os.Getenv("SCIM_TEST_MYSQL_DSN") != "" {
		failing = append(failing, struct{ name, db string }{"mysql URL, wrong password", "mysql://root:" + dbPassword + "@127.0.0.1:3306/test"})
	} else {
		t.Log(`SCIM_TEST_MYSQL_DSN is not set (e.g. root@tcp(127.0.0.1:3306)/test): the case "mysql URL, wrong password" does not run`)
	}
	check := func(t *testing.T, out string) {
		t.Helper()
		if strings.Contains(out, dbPassword) {
			t.Errorf("the output carries the database password:\n%s", out)
		}
	}
	for _, tc := range failing {
		for _, cmd := range [][]string{{"-token", "t"}, {"token", "list", "-tenant", "a"}} {
			t.Run(tc.name+" "+cmd[0], func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				code, stdout, stderr := runDemo(t, dir, append([]string{"-addr", "127.0.0.1:0", "-db", tc.db}, cmd...)...)
				if code == 0 {
					t.Errorf("exit code 0, want non-zero\nstdout:\n%s", stdout)
				}
				check(t, stdout+stderr)
				if !strings.Contains(stderr, "server: ") {
					t.Errorf("no reason given:\n%s", stderr)
				}
				if entries, _ := os.ReadDir(dir); len(entries) != 0 {
					t.Errorf("left files in the working directory: %v", entries)
				}
			})
		}
	}

	t.Run("postgres, serving", func(t *testing.T) {
		if os.Getenv("SCIM_TEST_POSTGRES_DSN") == "" {
			t.Skip("SCIM_TEST_POSTGRES_DSN is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
		}
		// The test server trusts local connections: any password works.
		u, err := url.Parse(crashPostgresDB(t))
		if err != nil {
			t.Fatal(err)
		}
		schema := u.Query().Get("search_path")
		u.User = url.UserPassword(u.User.Username(), dbPassword)
		keyValue := "host=" + u.Hostname() + " port=" + u.Port() + " user=" + u.User.Username() +
			" password=" + dbPassword + " dbname=" + strings.TrimPrefix(u.Path, "/") + " sslmode=disable search_path=" + schema
		for _, db := range []string{u.String(), keyValue} {
			d := startDemo(t, demoConfig{args: []string{"-db", db, "-token", "t"}})
			d.call(t, "GET", "/Users", "t", "").want(t, 200)
			if !strings.Contains(d.stdout.String(), "xxxxx") {
				t.Errorf("the serving line does not show the redacted DSN:\n%s", d.stdout)
			}
			d.stop(t, syscall.SIGTERM)
			check(t, d.stdout.String()+d.stderr.String())
		}
	})
}

// TestHidePasswordAttr: a database error logged while serving does not
// carry the password either.
func TestHidePasswordAttr(t *testing.T) {
	var buf strings.Builder
	dsn := "postgres://u:" + dbPassword + "@db.example/app"
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: hidePasswordAttr(dsn)}))
	logger.Error("scim: request failed", "err", errors.New("pq: password "+dbPassword+" rejected"), "detail", "x "+dbPassword)
	if strings.Contains(buf.String(), dbPassword) || !strings.Contains(buf.String(), "xxxxx") {
		t.Errorf("log: %s", buf.String())
	}
	for _, dsn := range []string{"memory", "scim.db", "postgres://u@h/db"} {
		if hidePasswordAttr(dsn) != nil {
			t.Errorf("%s: a ReplaceAttr for a DSN without a password", dsn)
		}
	}
}

// TestRedact: what redact leaves of each form of DSN.
func TestRedact(t *testing.T) {
	for dsn, want := range map[string]string{
		"postgres://u:p4ss@h:5432/db?sslmode=disable":     "postgres://u:xxxxx@h:5432/db?sslmode=disable",
		"postgres://u@h/db?sslmode=disable&password=p4ss": "postgres://u@h/db?sslmode=disable&password=xxxxx",
		"mysql://u:p@ss@h/db":                             "mysql://u:xxxxx@h/db",
		"host=h user=u password=p4ss dbname=db":           "host=h user=u password=xxxxx dbname=db",
		"host=h password = 'p 4ss' dbname=db":             "host=h password = xxxxx dbname=db",
		"u:p4ss@tcp(h:3306)/db?parseTime=true":            "u:xxxxx@tcp(h:3306)/db?parseTime=true",
		"scim.db":                                         "scim.db",
		"memory":                                          "memory",
	} {
		if got := redact(dsn); got != want {
			t.Errorf("redact(%q) = %q, want %q", dsn, got, want)
		}
	}
}
