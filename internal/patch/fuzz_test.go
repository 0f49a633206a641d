package patch

import (
	"errors"
	"testing"

	"github.com/scimkit/scim/internal/scimerr"
	"github.com/scimkit/scim/store"
)

// FuzzApply checks that no body panics and that every error is a SCIM
// error.
func FuzzApply(f *testing.F) {
	for _, s := range []string{
		ops(`{"op":"Add","path":"emails[type eq \"work\"].value","value":"x"}`),
		ops(`{"op":"replace","value":{"name.givenName":"x","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":"1"}}}`),
		ops(`{"op":"remove","path":"emails","value":[{"value":"a"}]}`),
		ops(`{"op":"add","path":"members","value":["a",{"value":"b"}]}`),
		ops(`{"op":"remove","path":"members[value eq \"a\" or value eq \"b\"]"}`),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var se *scimerr.Error
		if _, err := Apply(users, bjensen(), []byte(body), Options{}); err != nil && !errors.As(err, &se) {
			t.Fatalf("Apply users: %T %v", err, err)
		}
		if _, err := Apply(groups, store.Attributes{"displayName": "g"}, []byte(body), Options{}); err != nil && !errors.As(err, &se) {
			t.Fatalf("Apply groups: %T %v", err, err)
		}
	})
}
