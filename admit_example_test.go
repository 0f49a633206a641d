package scim_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
	"github.com/scimkit/scim/store/memory"
)

// An admission hook holding a tenant to two seats: it counts the active
// users through the write's transaction, which already holds the user
// being created, and refuses the third with 403.
func ExampleConfig_admit() {
	tokens := scim.NewStaticTokens()
	tokens.Add("acme", "s3cret")
	cfg := exampleConfig(tokens)
	cfg.Admit = func(ctx context.Context, r store.Reader, c scim.Change) error {
		if !c.Activates() {
			return nil
		}
		page, err := r.ListUsers(ctx, store.Query{Filter: store.Compare{
			Path: store.Path{Name: "active"}, Op: store.Eq, Value: true}})
		if err != nil {
			return err
		}
		if page.Total > 2 {
			return &scim.Error{Status: http.StatusForbidden, Detail: "both seats are taken"}
		}
		return nil
	}
	h, err := scim.NewHandler(memory.New(), scim.RolePolicy{}, cfg)
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	for _, name := range []string{"ada", "bob", "cy"} {
		status, body := call("POST", srv.URL+"/Users", "s3cret", `{"userName":"`+name+`@example.com"}`)
		fmt.Println(name, status, body["detail"])
	}
	// Output:
	// ada 201 <nil>
	// bob 201 <nil>
	// cy 403 both seats are taken
}
