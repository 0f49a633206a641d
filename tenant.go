package scim

import (
	"context"
	"errors"
	"fmt"

	"github.com/scimkit/scim/store"
)

// DeleteTenant deletes the tenant and everything the store and this
// Handler hold of it: users, groups, memberships, events, departures,
// counters and stored tokens (store.TenantDeleter, one transaction), and
// this Handler's journal and deprovisioning-guard state of the tenant.
// Other tenants are untouched. It returns an error wrapping
// errors.ErrUnsupported when the store does not implement
// store.TenantDeleter (the memory and SQL stores do).
//
// Its tokens stop working at once; tokens the app configured itself
// (StaticTokens) are the app's to remove. A request that passed
// authentication before the deletion and writes after it starts the
// tenant again, empty but for that write: disconnect the IdP first
// (DisconnectTenant) when it may still be sending. Other Handler instances
// keep their in-memory journal of the tenant until it ages out.
func (h *Handler) DeleteTenant(ctx context.Context, tenant string) error {
	del, ok := powerOf[store.TenantDeleter](h.store)
	if !ok {
		return fmt.Errorf("scim: DeleteTenant: the store does not implement store.TenantDeleter: %w", errors.ErrUnsupported)
	}
	if err := del.DeleteTenant(ctx, tenant); err != nil {
		return fmt.Errorf("scim: DeleteTenant %q: %w", tenant, err)
	}
	h.journal.forget(tenant)
	h.guard.mu.Lock()
	delete(h.guard.tenants, tenant)
	h.guard.mu.Unlock()
	h.log.InfoContext(ctx, "scim: tenant deleted", "tenant", tenant)
	return nil
}

// Disconnection counts what DisconnectTenant changed.
type Disconnection struct {
	// Users is the number of users that became app users again.
	Users int
	// Tokens is the number of stored tokens revoked.
	Tokens int
}

// disconnectPage is how many users one transaction of DisconnectTenant
// releases.
const disconnectPage = 500

// DisconnectTenant turns SCIM off for the tenant, keeping its data: every
// active token the store keeps for it (store.TokenStore) is revoked, so the
// IdP's next request gets 401; then every SCIM-managed user becomes an app
// user again (Managed false, ManagedBy and Linked cleared; attributes,
// role and active state kept), so the app unlocks their profiles. Groups
// and memberships stay as they are: they are the app's teams, which no IdP
// pushes any longer. A store.TenantDisconnected event records the counts.
//
// Users are released a page per transaction, so a large tenant never
// holds one long transaction; after an error, calling it again finishes
// the work (it is idempotent). Tokens the app configured itself
// (StaticTokens) are the app's to remove. A request that authenticated
// just before the tokens were revoked may still mark a user managed;
// calling it again once the IdP has stopped releases that user too.
func (h *Handler) DisconnectTenant(ctx context.Context, tenant string) (Disconnection, error) {
	var d Disconnection
	now := h.cfg.Now().UTC()
	if ts, ok := powerOf[store.TokenStore](h.store); ok {
		tokens, err := ts.Tokens(ctx, tenant)
		if err != nil {
			return d, fmt.Errorf("scim: DisconnectTenant: list tokens: %w", err)
		}
		for _, t := range tokens {
			if !t.Active(now) {
				continue
			}
			if err := ts.RevokeToken(ctx, tenant, t.ID, now); err != nil {
				return d, fmt.Errorf("scim: DisconnectTenant: revoke token %s: %w", t.ID, err)
			}
			d.Tokens++
		}
	}
	if h.cfg.OnEvent != nil {
		mu := h.tenantLock(tenant)
		mu.Lock()
		defer mu.Unlock()
	}
	for {
		var n int
		err := h.store.Update(ctx, tenant, func(tx store.Tx) error {
			n = 0
			page, err := tx.ListUsers(ctx, store.Query{ManagedOnly: true, Limit: disconnectPage})
			if err != nil {
				return err
			}
			for i := range page.Users {
				u := &page.Users[i]
				u.Managed, u.ManagedBy, u.Linked = false, "", false
				u.Meta.LastModified = now
				if err := tx.UpdateUser(ctx, u); err != nil {
					return fmt.Errorf("release user %s: %w", u.ID, err)
				}
			}
			n = len(page.Users)
			return nil
		})
		if err != nil {
			return d, fmt.Errorf("scim: DisconnectTenant: %w", err)
		}
		d.Users += n
		if n < disconnectPage {
			break
		}
	}
	e := store.Event{Time: now, Type: store.TenantDisconnected, Tenant: tenant, Client: "admin",
		Detail: fmt.Sprintf("%d users released, %d tokens revoked", d.Users, d.Tokens)}
	err := h.store.Update(ctx, tenant, func(tx store.Tx) error {
		if rec, ok := powerOf[store.EventRecorder](tx); ok {
			events := []store.Event{e}
			if err := rec.RecordEvents(ctx, events); err != nil {
				return err
			}
			e = events[0]
		}
		return nil
	})
	if err != nil {
		return d, fmt.Errorf("scim: DisconnectTenant: record the event: %w", err)
	}
	h.deliver(ctx, []store.Event{e})
	h.log.InfoContext(ctx, "scim: tenant disconnected", "tenant", tenant, "users", d.Users, "tokens", d.Tokens)
	return d, nil
}
