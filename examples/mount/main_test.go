package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestMounts checks that both routers reach the handler under /scim/v2 and
// that the handler reports absolute locations with the mount prefix.
func TestMounts(t *testing.T) {
	for name, mount := range map[string]func(http.Handler) http.Handler{"mux": withServeMux, "chi": withChi} {
		t.Run(name, func(t *testing.T) {
			h, err := newSCIM()
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(mount(h))
			defer srv.Close()
			req, _ := http.NewRequest("POST", srv.URL+"/scim/v2/Users", strings.NewReader(`{"userName":"ada@example.com"}`))
			req.Header.Set("Authorization", "Bearer demo-token")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("POST status %d", resp.StatusCode)
			}
			var u struct{ ID string }
			if err := json.NewDecoder(resp.Body).Decode(&u); err != nil {
				t.Fatal(err)
			}
			if want := srv.URL + "/scim/v2/Users/" + u.ID; resp.Header.Get("Location") != want {
				t.Errorf("Location = %q, want %q", resp.Header.Get("Location"), want)
			}
			other, err := http.Get(srv.URL + "/")
			if err != nil {
				t.Fatal(err)
			}
			other.Body.Close()
			if other.StatusCode != http.StatusOK {
				t.Errorf("rest of the app: status %d", other.StatusCode)
			}
		})
	}
}
