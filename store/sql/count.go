package sqlstore

import (
	"context"

	"github.com/scimkit/scim/store"
)

var _ store.MemberCounter = (*reader)(nil)

// MemberCounts implements store.MemberCounter: one grouped count over the
// primary key of scim_members per 500 groups (an index-only scan, no row
// decoded), and a look-up of the ids, so that a group without members
// counts 0 and an unknown id is absent.
func (r *reader) MemberCounts(ctx context.Context, groupIDs []string) (map[string]int, error) {
	out := make(map[string]int, len(groupIDs))
	for len(groupIDs) > 0 {
		chunk := groupIDs[:min(len(groupIDs), 500)]
		groupIDs = groupIDs[len(chunk):]
		groups, err := r.existingIDs(ctx, "count members", "SELECT id FROM scim_groups WHERE tenant = ? AND id IN ", []any{r.tenant}, chunk)
		if err != nil {
			return nil, err
		}
		for id := range groups {
			out[id] = 0
		}
		args := append([]any{r.tenant}, anys(chunk)...)
		rows, err := r.query(ctx, "count members",
			"SELECT group_id, COUNT(*) FROM scim_members WHERE tenant = ? AND group_id IN "+inList(len(chunk))+" GROUP BY group_id", args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return nil, r.s.wrapCtx(ctx, "count members", err)
			}
			if _, ok := out[id]; ok {
				out[id] = n
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, r.s.wrapCtx(ctx, "count members", err)
		}
	}
	return out, nil
}
