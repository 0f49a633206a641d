package scim_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
)

// BenchmarkHandlerDeactivate measures the write path the deprovisioning
// guard sits on: one PATCH that deactivates a user (Okta's pathless
// replace), over each store, with the guard off and on. With the guard on,
// its window is a nanosecond, so that every deactivation pays the most
// the guard costs: forgetting the user counted before and counting this
// one. The user is reactivated between iterations, off the clock.
//
//	go test -run '^$' -bench HandlerDeactivate -benchmem .
func BenchmarkHandlerDeactivate(b *testing.B) {
	const users = 200
	const deactivate = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`
	const reactivate = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":true}}]}`
	guards := []struct {
		name  string
		guard scim.DeprovisionGuard
	}{
		{"guard=off", scim.DeprovisionGuard{}},
		{"guard=on", scim.DeprovisionGuard{MaxShare: 0.5, MinCount: 10, Window: time.Nanosecond}},
	}
	for _, s := range benchStores(b) {
		for _, g := range guards {
			b.Run(s.name+"/"+g.name, func(b *testing.B) {
				bh := newGuardBenchHandler(b, s.open(b), users, g.guard)
				for i := 0; i < b.N; i++ {
					id := bh.users[i%users]
					bh.serve(b, http.MethodPatch, "/Users/"+id, deactivate, http.StatusOK)
					b.StopTimer()
					bh.serve(b, http.MethodPatch, "/Users/"+id, reactivate, http.StatusOK)
					b.StartTimer()
				}
			})
		}
	}
}

var guardBenchRuns atomic.Int64

// newGuardBenchHandler is newBenchHandler with a deprovisioning guard.
func newGuardBenchHandler(b *testing.B, st store.Store, users int, guard scim.DeprovisionGuard) *benchHandler {
	b.Helper()
	tokens := scim.NewStaticTokens()
	// A tenant per call: the function runs again for each b.N tried.
	tenant := fmt.Sprintf("bench-%s-%d-%d", b.Name(), os.Getpid(), guardBenchRuns.Add(1))
	token := "scim_bench_" + fmt.Sprint(len(tenant))
	tokens.Add(tenant, token)
	h, err := scim.NewHandler(st, demoPolicy, scim.Config{
		Authenticator:    tokens,
		Logger:           slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Limits:           scim.Limits{RequestsPerSecond: -1, MaxConcurrent: -1},
		DeprovisionGuard: guard,
	})
	if err != nil {
		b.Fatal(err)
	}
	bh := &benchHandler{h: h, token: token, prefix: fmt.Sprintf("g%d-%d-", os.Getpid(), guardBenchRuns.Load())}
	for i := range users {
		rec := bh.serve(b, http.MethodPost, "/Users", oktaUserBody(bh.prefix, i), http.StatusCreated)
		bh.users = append(bh.users, idOf(b, rec))
	}
	return bh
}
