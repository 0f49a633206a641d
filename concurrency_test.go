package scim_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestConcurrentGroupPatches sends Okta-style membership PATCHes to one
// group from 16 clients at once, plus concurrent creates of one userName:
// no member is lost or duplicated, and exactly one create wins.
func TestConcurrentGroupPatches(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			s := newTestServerWith(t, st.open(t), scimConfig())
			gid := str(s.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"All"}`).body, "id")
			const clients, perClient = 16, 5
			var users [clients][perClient]string
			for c := range clients {
				for i := range perClient {
					users[c][i] = str(s.must(http.StatusCreated, "POST", "/Users",
						fmt.Sprintf(`{"userName":"u%d-%d@x.com"}`, c, i)).body, "id")
				}
			}
			var wg sync.WaitGroup
			statuses := make(chan int, clients*perClient*2+clients)
			for c := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range perClient {
						r := s.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
						  "Operations":[{"op":"add","path":"members","value":[{"value":"`+users[c][i]+`"}]}]}`)
						statuses <- r.status
					}
					// Each client removes its first member again.
					r := s.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
					  "Operations":[{"op":"remove","path":"members[value eq \"`+users[c][0]+`\"]"}]}`)
					statuses <- r.status
					r = s.do("POST", "/Users", `{"userName":"same@x.com"}`)
					statuses <- r.status
				}()
			}
			wg.Wait()
			close(statuses)
			counts := map[int]int{}
			for st := range statuses {
				counts[st]++
			}
			if diff := cmp.Diff(map[int]int{204: clients * (perClient + 1), 201: 1, 409: clients - 1}, counts); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			var want []string
			for c := range clients {
				want = append(want, users[c][1:]...)
			}
			got := memberIDs(s.must(http.StatusOK, "GET", "/Groups/"+gid, "").body)
			if diff := cmp.Diff(sortedCopy(want), got); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
		})
	}
}
