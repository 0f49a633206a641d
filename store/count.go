package store

import "context"

// MemberCounter is implemented by a Reader that counts the members of
// groups without loading them (the memory and SQL stores do), for admin
// screens that list a page of groups with their sizes. The Reader contract
// alone has no such power: its only ways to a group's size load every
// member.
type MemberCounter interface {
	// MemberCounts returns the number of members of each of the tenant's
	// groups named in groupIDs. Ids that are not groups of the tenant are
	// absent from the map; a group without members maps to 0. The cost
	// grows with len(groupIDs) (and, at most, with an index count per
	// group), never with decoding members.
	MemberCounts(ctx context.Context, groupIDs []string) (map[string]int, error)
}
