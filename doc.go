// Package scim lets a Go backend accept SCIM 2.0 provisioning (RFC 7643,
// RFC 7644) from identity providers such as Okta, Microsoft Entra ID,
// OneLogin, PingFederate and JumpCloud. The app mounts one http.Handler; the
// IdP creates, updates, deactivates and deletes users and pushes groups; the
// handler turns that traffic into calls on a store.Store.
//
// # Mounting
//
// NewHandler takes the storage, the app's RolePolicy and a Config. The
// handler does not know the path it is mounted at:
//
//	tokens := scim.NewStaticTokens()
//	tokens.Add("acme", os.Getenv("ACME_SCIM_TOKEN"))
//	h, err := scim.NewHandler(memory.New(), scim.RolePolicy{}, scim.Config{Authenticator: tokens})
//	if err != nil {
//		log.Fatal(err)
//	}
//	http.Handle("/scim/v2/", http.StripPrefix("/scim/v2", h))
//
// # Tenants and tokens
//
// Every request carries a bearer token; the Authenticator resolves it to a
// Principal whose Tenant scopes every store call, so one endpoint serves
// every organisation of a multi-tenant app and no tenant sees another's data.
// StaticTokens keeps only SHA-256 digests of tokens given in configuration;
// Tokens issues prefixed tokens (scim_…) kept as digests in a
// store.TokenStore, several per tenant for overlapping rotation, revocable,
// optionally expiring, with their last use recorded. Authenticators accepts
// either.
//
// # Storage
//
// store.Store is a small interface: reads in View, atomic writes in Update.
// store/memory is for tests and demos; store/sql persists to SQLite,
// PostgreSQL or MySQL. An app with its own tables implements store.Store and
// proves it with store/storetest.Run (RunWith, with Options.SeedAppUser, when
// the app creates users outside SCIM).
//
// # The app's hooks
//
// Config.Admit admits or refuses each change (a Change: create, link,
// update, deactivate, reactivate, delete of a user; create, rename, update,
// delete of a group; membership changes) inside the write's transaction,
// reading the tenant through it: seat limits, verified domains. A refusal is
// an *Error, answered as is and recorded as a store.ChangeRefused event.
// UserRules.Resolve chooses the existing app user a POST adopts. Config.OnEvent
// hears every change after it committed.
//
// # Protocol
//
// The handler serves /Users and /Groups (POST, GET, PUT, PATCH, DELETE,
// POST /.search), POST /.search at the root (Users then Groups, paged as
// one sequence; a GET of the root is 501), /ServiceProviderConfig,
// /ResourceTypes and /Schemas.
// Filters are parsed once, in this package, into store.Filter values that a
// store evaluates or translates to SQL. PATCH is applied here (RFC 7644
// §3.5.2, with the dialects of real IdPs); group membership changes reach the
// store as incremental add/remove calls, never as a rewrite of the whole
// member list. ETags come from store versions; If-Match is honoured.
//
// # Attributes
//
// Users and groups carry the standard attributes (the core User and Group
// schemas and the enterprise User extension, kept whole) and those the app
// declares in Config.Schema, in the core namespaces or in extensions of its
// own URN: checked by type, mutability and canonical values, stored in
// store.User.Attributes, returned, PATCHed, filtered and listed in /Schemas
// and /ResourceTypes. store.AttrString and its siblings read them back.
// Other attributes are ignored.
//
// # Errors
//
// Every error response is a SCIM error (urn:ietf:params:scim:api:messages:2.0:Error)
// with the right status and scimType. Errors the handler did not expect are
// logged and answered as "internal error", never with their text.
package scim
