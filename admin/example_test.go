package admin_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/admin"
	"github.com/scimkit/scim/store/memory"
)

// The admin page mounted behind the app's own login: Config.Tenant names
// the one tenant the signed-in admin manages (here from a header the app's
// login middleware would set).
func Example() {
	st := memory.New()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	tokens, err := scim.NewTokens(st, scim.TokensConfig{})
	if err != nil {
		panic(err)
	}
	h, err := scim.NewHandler(st, scim.RolePolicy{}, scim.Config{Authenticator: tokens, Logger: logger})
	if err != nil {
		panic(err)
	}
	page, err := admin.New(h, st, tokens, admin.Config{
		BaseURL: "https://app.example.com/scim/v2",
		Tenant: func(r *http.Request) (string, bool) {
			org := r.Header.Get("X-Org") // set by the app's login middleware
			return org, org == "acme"
		},
		Logger: logger,
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/settings/scim/", http.StripPrefix("/settings/scim", page))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, org := range []string{"acme", "intruder"} {
		req, _ := http.NewRequest("GET", srv.URL+"/settings/scim/", nil)
		req.Header.Set("X-Org", org)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(org, resp.StatusCode, strings.Contains(string(body), "https://app.example.com/scim/v2"))
	}
	// Output:
	// acme 200 true
	// intruder 403 false
}
