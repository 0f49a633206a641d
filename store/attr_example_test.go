package store_test

import (
	"fmt"

	"github.com/scimkit/scim/store"
)

// A user's attributes as the handler stores them: declared core attributes
// by name, extension attributes under their URN.
func ExampleAttrString() {
	u := store.User{Attributes: store.Attributes{
		"userName": "ada@example.com",
		"seatType": "premium",
		"profile":  map[string]any{"team": "Red", "level": 3.0},
		"urn:ietf:params:scim:schemas:extension:acme:2.0:User": map[string]any{
			"licenseTier": "gold", "trial": false, "renewal": "2027-01-01T00:00:00Z",
		},
	}}
	const acme = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"
	fmt.Println(store.AttrString(u.Attributes, "", "seatType"))
	fmt.Println(store.AttrString(u.Attributes, "", "profile.team"))
	fmt.Println(store.AttrNumber(u.Attributes, "", "profile.level"))
	fmt.Println(store.AttrString(u.Attributes, acme, "LicenseTier"))
	fmt.Println(store.AttrBool(u.Attributes, acme, "trial"))
	renewal, ok := store.AttrTime(u.Attributes, acme, "renewal")
	fmt.Println(renewal.Year(), ok)
	fmt.Println(store.AttrString(u.Attributes, acme, "missing"))
	// Output:
	// premium true
	// Red true
	// 3 true
	// gold true
	// false true
	// 2027 true
	//  false
}
