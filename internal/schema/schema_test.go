package schema

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim/store"
)

func TestResolveAliases(t *testing.T) {
	users := NewUser(nil)
	tests := []struct {
		rt   *ResourceType
		path string
		want store.Path
	}{
		{users, "urn:scim:schemas:core:1.0:userName", store.Path{Name: "userName"}},
		{users, "URN:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:1.0:department", store.Path{URN: EnterpriseURN, Name: "department"}},
		{users, EnterpriseURN + ":manager.managerId", store.Path{URN: EnterpriseURN, Name: "manager", Sub: "value"}},
	}
	for _, tt := range tests {
		r, err := tt.rt.Resolve(tt.path)
		if err != nil {
			t.Errorf("Resolve(%q): %v", tt.path, err)
			continue
		}
		if diff := cmp.Diff(tt.want, r.Path); diff != "" {
			t.Errorf("Resolve(%q) (-want +got):\n%s", tt.path, diff)
		}
	}
	for _, urn := range []string{CoreURN1, UserURN} {
		if got, ok := users.IsSchemaURN(urn); !ok || got != UserURN {
			t.Errorf("IsSchemaURN(%q) = %q, %v; want %q", urn, got, ok, UserURN)
		}
	}
	if s := users.Extension(EnterpriseURN1); s == nil || s.ID != EnterpriseURN {
		t.Errorf("Extension(%q) = %v, want the enterprise extension", EnterpriseURN1, s)
	}
}
