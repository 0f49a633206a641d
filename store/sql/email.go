package sqlstore

import (
	"context"

	"github.com/scimkit/scim/store"
)

var _ store.UnmanagedEmailFinder = (*reader)(nil)

// UnmanagedUserByEmail implements store.UnmanagedEmailFinder from the
// index on scim_emails (tenant, value_folded), joined with the users that
// are not managed: one statement per chunk of emails, taken in the order
// given, stopping at the first chunk that finds someone. Only the user
// returned is decoded.
func (r *reader) UnmanagedUserByEmail(ctx context.Context, emails []string) (store.User, error) {
	pos := make(map[string]int, len(emails)) // folded email → first position
	folded := make([]string, 0, len(emails))
	for _, e := range emails {
		f := fold(e)
		if _, ok := pos[f]; !ok {
			pos[f] = len(folded)
			folded = append(folded, f)
		}
	}
	const op = "find unmanaged user by email"
	for len(folded) > 0 {
		chunk := folded[:min(len(folded), readChunk)]
		folded = folded[len(chunk):]
		rows, err := r.query(ctx, op,
			"SELECT e.value_folded, r.seq, r.id FROM scim_emails e JOIN scim_users r ON r.tenant = e.tenant AND r.id = e.user_id "+
				"WHERE e.tenant = ? AND r.managed = FALSE AND e.value_folded IN "+inList(len(chunk)),
			append([]any{r.tenant}, anys(chunk)...)...)
		if err != nil {
			return store.User{}, err
		}
		found, best, bestPos, bestSeq := false, "", 0, int64(0)
		for rows.Next() {
			var value, id string
			var seq int64
			if err := rows.Scan(&value, &seq, &id); err != nil {
				rows.Close()
				return store.User{}, r.s.wrapCtx(ctx, op, err)
			}
			p := pos[value]
			if !found || p < bestPos || p == bestPos && seq < bestSeq {
				found, best, bestPos, bestSeq = true, id, p, seq
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return store.User{}, r.s.wrapCtx(ctx, op, err)
		}
		if found {
			return r.User(ctx, best)
		}
	}
	return store.User{}, store.ErrNotFound
}
