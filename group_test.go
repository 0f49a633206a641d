package scim_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim"
)

// TestGroupMembersProjection: a group's members, returned whole or trimmed
// to sub-attributes by attributes / excludedAttributes, by GET and in a
// list.
func TestGroupMembersProjection(t *testing.T) {
	s := newTestServer(t, scim.Config{})
	var ids []string
	for i := range 2 {
		body := fmt.Sprintf(`{"userName":"m%d@x.com","displayName":"M <%d> & co"}`, i, i)
		ids = append(ids, str(s.must(http.StatusCreated, "POST", "/Users", body).body, "id"))
	}
	gid := str(s.must(http.StatusCreated, "POST", "/Groups",
		`{"displayName":"Team","members":[{"value":"`+ids[0]+`","display":"First <&>"},{"value":"`+ids[1]+`"}]}`).body, "id")
	display := map[string]string{ids[0]: "First <&>"}
	if ids[0] > ids[1] {
		ids[0], ids[1] = ids[1], ids[0] // members come ordered by id
	}
	ref := func(id string) string { return s.base + "/Users/" + id }
	whole := []any{}
	values := []any{}
	noDisplay := []any{}
	for _, id := range ids {
		m := map[string]any{"value": id, "$ref": ref(id), "type": "User"}
		if d := display[id]; d != "" {
			m["display"] = d
		}
		whole = append(whole, m)
		values = append(values, map[string]any{"value": id})
		noDisplay = append(noDisplay, map[string]any{"value": id, "$ref": ref(id), "type": "User"})
	}
	tests := []struct {
		query string
		want  any // the members attribute; nil: absent
	}{
		{"", whole},
		{"attributes=members", whole},
		{"attributes=members.value", values},
		{"excludedAttributes=members.display", noDisplay},
		{"excludedAttributes=displayName", whole},
		{"excludedAttributes=members", nil},
		{"attributes=displayName", nil},
	}
	for _, tt := range tests {
		t.Run("?"+tt.query, func(t *testing.T) {
			got := s.must(http.StatusOK, "GET", "/Groups/"+gid+"?"+tt.query, "").body["members"]
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("GET members (-want +got):\n%s", diff)
			}
			list := s.must(http.StatusOK, "GET", "/Groups?filter="+url.QueryEscape(`displayName eq "Team"`)+"&"+tt.query, "").body
			res, _ := list["Resources"].([]any)
			if len(res) != 1 {
				t.Fatalf("list: %v", list)
			}
			if diff := cmp.Diff(tt.want, res[0].(map[string]any)["members"]); diff != "" {
				t.Errorf("listed members (-want +got):\n%s", diff)
			}
		})
	}
}
