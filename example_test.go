package scim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store/memory"
)

// call sends one SCIM request and decodes the answer.
func call(method, u, token, body string) (int, map[string]any) {
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

// exampleConfig makes output deterministic: a fixed clock, sequential ids
// and no request log.
func exampleConfig(auth scim.Authenticator) scim.Config {
	n := 0
	return scim.Config{
		Authenticator: auth,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:           func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
		NewID:         func() string { n++; return fmt.Sprintf("u%d", n) },
	}
}

// A handler over the memory store, mounted under /scim/v2, provisioning a
// user the way an identity provider does and finding it by filter.
func Example() {
	tokens := scim.NewStaticTokens()
	tokens.Add("acme", "s3cret")
	h, err := scim.NewHandler(memory.New(), scim.RolePolicy{}, exampleConfig(tokens))
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", h))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	base := srv.URL + "/scim/v2"

	status, user := call("POST", base+"/Users", "s3cret", `{
	  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
	  "userName": "ada@example.com", "name": {"givenName": "Ada", "familyName": "Lovelace"}}`)
	fmt.Println(status, user["id"], user["userName"], user["active"])

	filter := url.QueryEscape(`userName eq "ADA@example.com"`)
	status, list := call("GET", base+"/Users?filter="+filter, "s3cret", "")
	fmt.Println(status, list["totalResults"])

	status, _ = call("GET", base+"/Users", "wrong-token", "")
	fmt.Println(status)
	// Output:
	// 201 u1 ada@example.com true
	// 200 1
	// 401
}

// A RolePolicy in the shape of GrowthBook's growthbookRole: unknown values
// fall back to the org default, and "default" keeps the current role.
func ExampleRolePolicy() {
	tokens := scim.NewStaticTokens()
	tokens.Add("acme", "s3cret")
	policy := scim.RolePolicy{
		Attribute: "growthbookRole",
		Values:    []string{"readonly", "collaborator", "engineer", "admin"},
		Default:   "collaborator",
		Keep:      "default",
	}
	h, err := scim.NewHandler(memory.New(), policy, exampleConfig(tokens))
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	_, u := call("POST", srv.URL+"/Users", "s3cret", `{"userName":"a@x.com","growthbookRole":"engineer"}`)
	fmt.Println(u["growthbookRole"])
	_, u = call("PATCH", srv.URL+"/Users/u1", "s3cret",
		`{"Operations":[{"op":"replace","path":"growthbookRole","value":"default"}]}`)
	fmt.Println(u["growthbookRole"])
	_, u = call("PATCH", srv.URL+"/Users/u1", "s3cret",
		`{"Operations":[{"op":"replace","path":"growthbookRole","value":"superuser"}]}`)
	fmt.Println(u["growthbookRole"])
	// Output:
	// engineer
	// engineer
	// collaborator
}

// StaticTokens keeps digests only; several tokens may serve one tenant so that
// rotation overlaps.
func ExampleStaticTokens() {
	tokens := scim.NewStaticTokens()
	tokens.Add("acme", "old-token")
	tokens.Add("acme", "new-token")
	tokens.Remove("old-token")

	for _, tok := range []string{"old-token", "new-token"} {
		p, err := tokens.Authenticate(context.Background(), tok)
		fmt.Println(tok, p.Tenant, err)
	}
	// Output:
	// old-token  scim: unauthenticated
	// new-token acme <nil>
}
