package scim_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
	"github.com/scimkit/scim/store/memory"
)

// BenchmarkGroupListPeakHeap measures the heap of GET /Groups?count=100
// over a tenant of 2,000 users in 100 groups of 2,000 members each, 16
// requests at once (an import, or a retry storm), as a review found it:
// peak-heap-MB is the largest HeapInuse sampled while they run. "default"
// caps the members of a list response (Limits.MaxMembers); "uncapped"
// lifts the cap, and writes every member, streamed.
//
//	go test -run '^$' -bench GroupListPeakHeap -benchtime 3x .
func BenchmarkGroupListPeakHeap(b *testing.B) {
	const users, groups, clients = 2000, 100, 16
	st := memory.New()
	ctx := context.Background()
	err := st.Update(ctx, "acme", func(tx store.Tx) error {
		members := make([]store.Member, users)
		for i := range users {
			u := store.User{ID: fmt.Sprintf("u%05d", i), Managed: true,
				Attributes: store.Attributes{"userName": fmt.Sprintf("user%05d@example.com", i), "active": true}}
			if err := tx.CreateUser(ctx, &u); err != nil {
				return err
			}
			members[i] = store.Member{Value: u.ID, Display: fmt.Sprintf("User %05d", i)}
		}
		for g := range groups {
			grp := store.Group{ID: fmt.Sprintf("g%03d", g), Attributes: store.Attributes{"displayName": fmt.Sprintf("Group %03d", g)}}
			if err := tx.CreateGroup(ctx, &grp); err != nil {
				return err
			}
			if _, err := tx.AddMembers(ctx, grp.ID, members, time.Now()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name       string
		maxMembers int
	}{{"default", 0}, {"uncapped", -1}} {
		b.Run(bc.name, func(b *testing.B) { groupListPeakHeap(b, st, bc.maxMembers, clients) })
	}
}

func groupListPeakHeap(b *testing.B, st store.Store, maxMembers, clients int) {
	h, err := scim.NewHandler(st, demoPolicy, scim.Config{Authenticator: tokensFor(), Logger: discardLogger(),
		Limits: scim.Limits{MaxConcurrent: -1, RequestsPerSecond: -1, MaxMembers: maxMembers}})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	get := func() (int64, error) {
		req, _ := http.NewRequest("GET", srv.URL+"/Groups?startIndex=1&count=100", nil)
		req.Header.Set("Authorization", "Bearer "+tokenAcme)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		n, err := io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK {
			return n, fmt.Errorf("status %d", resp.StatusCode)
		}
		return n, err
	}
	if _, err := get(); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	var bodyBytes atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	b.ResetTimer()
	for range b.N {
		var wg sync.WaitGroup
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := get()
				if err != nil {
					b.Error(err)
				}
				bodyBytes.Store(n)
			}()
		}
		wg.Wait()
	}
	b.StopTimer()
	close(stop)
	<-sampled
	b.ReportMetric(float64(base.HeapInuse)/(1<<20), "base-heap-MB")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(bodyBytes.Load())/(1<<20), "body-MB")
}

// BenchmarkHandlerGroupList is Okta's import page over each store: GET
// /Groups?startIndex=1&count=100 of 100 groups of 10 members each, which
// a list reads one group's members at a time.
//
//	go test -run '^$' -bench HandlerGroupList -benchmem .
func BenchmarkHandlerGroupList(b *testing.B) {
	benchEachStore(b, 10, func(b *testing.B, bh *benchHandler) func(int) {
		for g := range 100 {
			bh.serve(b, http.MethodPost, "/Groups", fmt.Sprintf(`{"displayName":"G%03d","members":[%s]}`, g, memberValues(bh.users)), http.StatusCreated)
		}
		return func(int) {
			bh.serve(b, http.MethodGet, "/Groups?startIndex=1&count=100", "", http.StatusOK)
		}
	})
}
