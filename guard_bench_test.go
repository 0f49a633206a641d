package scim_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/scimkit/scim"
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
				bh := newGuardedBenchHandler(b, s.open(b), users, g.guard)
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
