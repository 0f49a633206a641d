package scim_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
	"github.com/scimkit/scim/store/memory"
)

// The app declares a seat type in the core User namespace and a licence
// tier in an extension of its own; Entra sends them with the enterprise
// extension, the handler checks and stores them, and the app reads them
// back from the store.User with the typed accessors.
func ExampleSchema() {
	const acme = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"
	tokens := scim.NewStaticTokens()
	tokens.Add("acme", "s3cret")
	cfg := exampleConfig(tokens)
	cfg.Schema = scim.Schema{
		User: []scim.Attribute{
			{Name: "seatType", CanonicalValues: []string{"standard", "premium"}, CanonicalOnly: true},
		},
		UserExtensions: []scim.Extension{{URN: acme, Attributes: []scim.Attribute{
			{Name: "licenseTier"},
			{Name: "seats", Type: scim.TypeInteger},
		}}},
	}
	st := memory.New()
	h, err := scim.NewHandler(st, scim.RolePolicy{}, cfg)
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	status, u := call("POST", srv.URL+"/Users", "s3cret", `{
	  "userName": "ada@example.com", "seatType": "Premium",
	  "urn:ietf:params:scim:schemas:extension:acme:2.0:User": {"licenseTier": "gold", "seats": "3"},
	  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D"}}`)
	fmt.Println(status, u["seatType"], u["schemas"])

	status, e := call("PATCH", srv.URL+"/Users/u1", "s3cret",
		`{"Operations":[{"op":"Replace","path":"seatType","value":"platinum"}]}`)
	fmt.Println(status, e["scimType"])

	_ = st.View(context.Background(), "acme", func(tx store.Reader) error {
		user, err := tx.User(context.Background(), "u1")
		if err != nil {
			return err
		}
		seat, _ := store.AttrString(user.Attributes, "", "seatType")
		tier, _ := store.AttrString(user.Attributes, acme, "licenseTier")
		seats, _ := store.AttrNumber(user.Attributes, acme, "seats")
		dept, _ := store.AttrString(user.Attributes, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "department")
		fmt.Println(seat, tier, seats, dept)
		return nil
	})
	// Output:
	// 201 premium [urn:ietf:params:scim:schemas:core:2.0:User urn:ietf:params:scim:schemas:extension:enterprise:2.0:User urn:ietf:params:scim:schemas:extension:acme:2.0:User]
	// 400 invalidValue
	// premium gold 3 R&D
}
