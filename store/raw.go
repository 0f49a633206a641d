package store

import "context"

// RawUserReader is implemented by a Reader whose store keeps each user's
// attributes as JSON and can hand them out without decoding them (the
// memory and SQL stores do). The handler answers GET /Users/{id} with it,
// copying the bytes into its response: decoding the attributes into maps
// and encoding them again was most of the cost of such a GET.
type RawUserReader interface {
	// RawUser returns the user with the given id as User does, but with
	// Attributes nil and the attributes instead as one JSON object, byte
	// for byte as json.Marshal encodes the Attributes User would return:
	// keys sorted, no insignificant white space, HTML characters escaped.
	// Empty or nil means no attributes. The caller does not modify the
	// bytes and may use them after the View or Update returns: a store
	// writes a changed user's attributes to new bytes, never over old
	// ones. A store that cannot promise this form does not implement
	// RawUserReader (a caller may still check the form and fall back to
	// User when the bytes are not in it).
	RawUser(ctx context.Context, id string) (User, []byte, error)
}

// RawUserLister is implemented by a Reader that can list users with their
// attributes encoded, as RawUserReader hands out one user's (the memory and
// SQL stores do). The handler answers a list of users without a projection
// with it: Okta's import pages and its userName lookups.
type RawUserLister interface {
	// ListRawUsers returns the page ListUsers(ctx, q) returns, with every
	// user's Attributes nil and raw[i] holding page.Users[i]'s attributes
	// in the form RawUserReader.RawUser promises, under the same terms.
	ListRawUsers(ctx context.Context, q Query) (page UserPage, raw [][]byte, err error)
}
