package scim_test

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// send is do for goroutines other than the test's: it reports a transport
// error instead of failing the test.
func (s *testServer) send(method, path, body string) (int, string, error) {
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+tokenAcme)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), err
}

// TestConcurrentCreatesOfOneUserName: 16 clients POST one userName at once,
// in different letter cases; exactly one gets 201 and the others 409
// uniqueness, on every store, and one user exists.
func TestConcurrentCreatesOfOneUserName(t *testing.T) {
	for _, st := range isolationStores {
		t.Run(st.name, func(t *testing.T) {
			s := newTestServerWith(t, st.open(t), scimConfig())
			const clients = 16
			type answer struct {
				status   int
				scimType string
			}
			answers := make(chan answer, clients)
			errs := make(chan error, clients)
			var wg sync.WaitGroup
			for c := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					userName := "same@example.com"
					if c%2 == 1 {
						userName = "Same@Example.COM"
					}
					status, raw, err := s.send("POST", "/Users", oktaUser(userName, "Same", fmt.Sprint(c)))
					if err != nil {
						errs <- err
						return
					}
					a := answer{status: status}
					if status == http.StatusConflict && strings.Contains(raw, `"scimType":"uniqueness"`) {
						a.scimType = "uniqueness"
					}
					answers <- a
				}()
			}
			wg.Wait()
			close(answers)
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			counts := map[answer]int{}
			for a := range answers {
				counts[a]++
			}
			want := map[answer]int{{http.StatusCreated, ""}: 1, {http.StatusConflict, "uniqueness"}: clients - 1}
			if diff := cmp.Diff(want, counts, cmp.AllowUnexported(answer{})); diff != "" {
				t.Errorf("answers (-want +got):\n%s", diff)
			}
			list := s.must(http.StatusOK, "GET", "/Users?filter="+filterQuery(`userName eq "SAME@example.com"`), "")
			if n := list.body["totalResults"]; n != float64(1) {
				t.Errorf("%v users named same@example.com, want 1", n)
			}
		})
	}
}

// TestConcurrentUserPatchesLoseNoUpdate: 16 clients patch one user at
// once, each adding its own email (a plain add to the list), then setting
// that email's display through a filtered path (emails[value eq …].display).
// At the end every addition is there and every write counted in the
// version, on every store: no read-modify-write lost another's update.
func TestConcurrentUserPatchesLoseNoUpdate(t *testing.T) {
	for _, st := range isolationStores {
		t.Run(st.name, func(t *testing.T) {
			s := newTestServerWith(t, st.open(t), scimConfig())
			id := str(s.must(http.StatusCreated, "POST", "/Users", oktaUser("busy@example.com", "Busy", "B")).body, "id")
			const clients = 16
			errs := make(chan string, 2*clients)
			var wg sync.WaitGroup
			for c := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for _, body := range []string{
						`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"emails","value":[{"value":"c` + fmt.Sprint(c) + `@example.com","type":"other"}]}]}`,
						`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"emails[value eq \"c` + fmt.Sprint(c) + `@example.com\"].display","value":"Client ` + fmt.Sprintf("%02d", c) + `"}]}`,
					} {
						status, raw, err := s.send("PATCH", "/Users/"+id, body)
						if err != nil {
							errs <- err.Error()
							return
						}
						if status != http.StatusOK {
							errs <- fmt.Sprintf("client %d: status %d: %s", c, status, raw)
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Error(e)
			}
			u := s.must(http.StatusOK, "GET", "/Users/"+id, "").body
			values := func(attr, sub string) []string {
				var out []string
				list, _ := u[attr].([]any)
				for _, e := range list {
					if v := str(e.(map[string]any), sub); v != "" {
						out = append(out, v)
					}
				}
				sort.Strings(out)
				return out
			}
			wantEmails := []string{"busy@example.com"}
			var wantDisplays []string
			for c := range clients {
				wantEmails = append(wantEmails, fmt.Sprintf("c%d@example.com", c))
				wantDisplays = append(wantDisplays, fmt.Sprintf("Client %02d", c))
			}
			sort.Strings(wantEmails)
			if diff := cmp.Diff(wantEmails, values("emails", "value")); diff != "" {
				t.Errorf("emails (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantDisplays, values("emails", "display")); diff != "" {
				t.Errorf("emails' displays (-want +got):\n%s", diff)
			}
			if v := str(u, "meta.version"); v != fmt.Sprintf(`W/"%d"`, 1+2*clients) {
				t.Errorf("meta.version %s, want %d writes counted", v, 1+2*clients)
			}
		})
	}
}
