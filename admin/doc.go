// Package admin is an embeddable admin page for a scimkit endpoint: the
// settings screen where an org admin turns SCIM provisioning on and watches
// it work.
//
// # It does not authenticate anyone
//
// The Handler NEVER AUTHENTICATES OR AUTHORIZES ITS VISITORS. Whoever
// reaches it can create and revoke the tenant's SCIM tokens, confirm
// mass deprovisioning, disconnect SCIM and delete the tenant's SCIM data. Mount it only behind the app's own admin
// authentication, and let Config.Tenant answer, for each request, the one
// tenant the signed-in admin may manage (ok false answers 403).
//
// Config.Tenant IS THE SECURITY BOUNDARY. The Handler opens whatever tenant
// it returns, existing or not, and a token created there authenticates as
// that tenant: a Tenant that returns a name taken from the request (a user
// name, a header, a path) without checking that this admin manages that
// tenant — in the app's own records, compared exactly, not in any letter
// case or trimmed — lets anyone manage, or invent, any tenant. The Handler
// refuses (403) only names that cannot be tenants: empty, with a NUL or
// another control character, or not UTF-8.
//
//	a, err := admin.New(h, st, tokens, admin.Config{
//		BaseURL: "https://app.example.com/scim/v2",
//		Tenant: func(r *http.Request) (string, bool) {
//			s := session(r) // the app's own
//			return s.OrgID, s.IsOrgAdmin
//		},
//	})
//	mux.Handle("/settings/scim/", requireLogin(http.StripPrefix("/settings/scim", a)))
//
// Like scim.Handler it is unaware of its mount prefix: strip it with
// http.StripPrefix; links are derived from the stripped prefix.
//
// # What it shows
//
// For the current tenant: the SCIM base URL with a copy button; the bearer
// tokens (create — the secret is shown once, on the page answering the
// form —, list by prefix and last use, revoke, regenerate); the connection
// status (the last request, its identity provider, status and time, and the
// last error) and the audit journal with filters, from
// scim.Handler.Journal (the store's journal when the store implements
// store.JournalStore: every instance's requests, whichever serves the
// page); the users and groups the IdP provisioned, paged,
// groups with member counts when the store implements store.MemberCounter;
// refusals to change protected users and the admin actions, from the
// store's outbox (store.EventLog); and a mass-deprovisioning hold
// (scim.Handler.DeprovisioningHeld) with a button to confirm it. At the
// bottom, two forms that each ask the admin to type the tenant's name:
// disconnect SCIM (scim.Handler.DisconnectTenant: tokens revoked, users
// released, groups kept) and delete the tenant's SCIM data
// (scim.Handler.DeleteTenant). A wrong name changes nothing (400).
//
// # Security
//
// Cross-origin POSTs are refused (http.CrossOriginProtection), and every
// form carries a CSRF token that must be the HMAC-SHA-256, keyed by
// Config.CSRFKey, of a random value in a SameSite=Strict, HttpOnly cookie,
// the tenant and the Actor (compared with hmac.Equal): a cookie planted by
// a sibling subdomain does not make a valid token, nor does one admin's
// token work in another's session. A token's secret appears
// only in the answer to the form that created or regenerated it, sent with
// Cache-Control: no-store; afterwards only its prefix is shown. Pages are
// rendered with html/template and served with a Content-Security-Policy
// that allows only the package's own stylesheet and script.
//
// # Events
//
// Every admin action is an event (store.TokenCreated, TokenRevoked,
// TokenRegenerated, DeprovisioningConfirmed) with Client "admin": recorded
// in the store's outbox when its Tx is a store.EventRecorder, and handed to
// Config.OnEvent after it committed. A token is kept by the
// store.TokenStore outside the Store's transactions, so its event is
// recorded just after it changed: a crash in between loses the event, not
// the change. Disconnecting records store.TenantDisconnected through the
// scim.Handler, which hands it to the scim.Config.OnEvent; deleting the
// tenant's data records no event (the outbox is part of what goes) and is
// logged with the Actor.
//
// # Look
//
// Plain HTML and CSS, no JavaScript build step; the page works without
// JavaScript except the copy buttons. Colours, font and radius are CSS
// variables (--scimkit-bg, --scimkit-fg, --scimkit-accent, …, see
// static/admin.css) that Config.Stylesheet can override.
package admin
