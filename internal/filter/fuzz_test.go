package filter

import (
	"errors"
	"testing"
	"time"

	"github.com/scimkit/scim/internal/scimerr"
)

// FuzzParse checks that no input panics and that every error is a SCIM
// error.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`userName eq "x"`, `emails[type eq "work" and value co "@x"] or not (title pr)`,
		`meta.created gt 2015-10-10T14:38:21 02:00`, `emails[type eq "work"].value eq x`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq 1e3`,
		`((a eq "\u00E9"))`, `members[value eq "x"]`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var se *scimerr.Error
		start := time.Now()
		defer func() {
			if d := time.Since(start); d > 500*time.Millisecond {
				t.Fatalf("%q took %v", s, d)
			}
		}()
		if _, err := Parse(users, s); err != nil && !errors.As(err, &se) {
			t.Fatalf("Parse(%q): %T %v", s, err, err)
		}
		if _, err := ParsePath(users, s); err != nil && !errors.As(err, &se) {
			t.Fatalf("ParsePath(%q): %T %v", s, err, err)
		}
	})
}
