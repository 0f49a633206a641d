package sqlstore_test

import (
	"context"
	"io/fs"
	"sync"
	"testing"
)

func TestMigrateIsIdempotentAndConcurrent(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			s := e.open(t)
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- s.Migrate(context.Background())
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("second Migrate: %v", err)
				}
			}
		})
	}
}

func TestMigrationsHasOneDirectoryPerDialect(t *testing.T) {
	for _, d := range []string{"sqlite", "postgres", "mysql"} {
		m, err := fs.Glob(sqlstoreMigrations(), d+"/0001_*.sql")
		if err != nil || len(m) != 1 {
			t.Errorf("%s: got %v, %v; want one 0001 file", d, m, err)
		}
	}
}
