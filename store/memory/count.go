package memory

import (
	"context"

	"github.com/scimkit/scim/store"
)

var _ store.MemberCounter = (*reader)(nil)

// MemberCounts implements store.MemberCounter from the membership index, in
// constant time per group.
func (r *reader) MemberCounts(ctx context.Context, groupIDs []string) (map[string]int, error) {
	if err := r.check(ctx); err != nil {
		return nil, err
	}
	out := make(map[string]int, len(groupIDs))
	for _, id := range groupIDs {
		if g := r.t.groups[id]; g != nil {
			out[id] = len(g.members)
		}
	}
	return out, nil
}
