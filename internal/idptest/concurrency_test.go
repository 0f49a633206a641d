package idptest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestOktaConcurrentMembership sends Okta's group push as Okta does for a
// large group: several membership PATCHes to one group at once, each adding
// up to 256 members or removing some by members[value eq "id"]. No change
// may be lost, on any store.
func TestOktaConcurrentMembership(t *testing.T) {
	const workers, perWorker = 4, 60
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			base := serve(t, st.open(t), nil)
			call := func(method, path, body string) (int, map[string]any) {
				t.Helper()
				req, err := http.NewRequest(method, base+path, strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/scim+json")
				req.Header.Set("User-Agent", "Okta SCIM Client 1.0.0")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return 0, nil
				}
				defer resp.Body.Close()
				raw, _ := io.ReadAll(resp.Body)
				var out map[string]any
				_ = json.Unmarshal(raw, &out)
				return resp.StatusCode, out
			}
			ids := make([][]string, workers)
			for w := range workers {
				for i := range perWorker {
					code, u := call("POST", "/Users", fmt.Sprintf(`{"userName":"w%d-u%d@okta.local","active":true}`, w, i))
					if code != http.StatusCreated {
						t.Fatalf("create user: %d %v", code, u)
					}
					ids[w] = append(ids[w], u["id"].(string))
				}
			}
			code, g := call("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Big Push","members":[]}`)
			if code != http.StatusCreated {
				t.Fatalf("create group: %d %v", code, g)
			}
			gid := g["id"].(string)

			// Each worker adds its users in two requests, then removes
			// every third one, one request per removal as Okta does.
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					for _, half := range [][]string{ids[w][:perWorker/2], ids[w][perWorker/2:]} {
						vals := make([]string, len(half))
						for i, id := range half {
							vals[i] = fmt.Sprintf(`{"value":%q,"display":"x"}`, id)
						}
						body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[` +
							strings.Join(vals, ",") + `]}]}`
						if code, out := call("PATCH", "/Groups/"+gid, body); code != http.StatusNoContent {
							t.Errorf("add members: %d %v", code, out)
						}
					}
					for i := 0; i < perWorker; i += 3 {
						body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"%s\"]"}]}`, ids[w][i])
						if code, out := call("PATCH", "/Groups/"+gid, body); code != http.StatusNoContent {
							t.Errorf("remove member: %d %v", code, out)
						}
					}
				})
			}
			wg.Wait()

			var want []string
			for w := range workers {
				for i, id := range ids[w] {
					if i%3 != 0 {
						want = append(want, id)
					}
				}
			}
			code, g = call("GET", "/Groups/"+gid, "")
			if code != http.StatusOK {
				t.Fatalf("get group: %d %v", code, g)
			}
			var got []string
			for _, m := range g["members"].([]any) {
				got = append(got, m.(map[string]any)["value"].(string))
			}
			slices.Sort(want)
			slices.Sort(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
		})
	}
}
