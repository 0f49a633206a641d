package scim

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"

	"github.com/scimkit/scim/internal/jsonenc"
	"github.com/scimkit/scim/store"
)

// User lifecycle. POST provisions a SCIM-managed user, or adopts (links) an
// existing app user with the same userName or email when Config.Users.LinkExisting
// is set. PUT and PATCH update; active false deactivates and keeps the user;
// DELETE deprovisions: the user leaves the org and every team. Users whose
// role is protected (the org owner) can never be deactivated, deleted or
// have their role changed through SCIM.

// userNameOf returns the userName of normalised attributes, or a 400 when
// it is missing or blank (RFC 7643 §4.1.1: userName is REQUIRED) or
// invalid. It stores in attrs the userName as normalizeUserName returns it
// and the email values trimmed (see trimEmails).
func userNameOf(attrs store.Attributes) (string, error) {
	name, _ := attrs["userName"].(string)
	if strings.TrimSpace(name) == "" {
		return "", &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidValue, Detail: "userName is required"}
	}
	normal, err := normalizeUserName(name)
	if err != nil {
		return "", err
	}
	if normal != name {
		attrs["userName"] = normal
	}
	trimEmails(attrs)
	return normal, nil
}

func taken(userName string) error {
	return &Error{Status: http.StatusConflict, ScimType: ScimTypeUniqueness,
		Detail: "userName " + quote(userName) + " is already taken"}
}

func quote(s string) string {
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return `"` + s + `"`
}

// connection names the IdP connection of a principal: tokens of one
// connection may rotate; a user managed by one connection cannot be taken
// over by another.
func (p Principal) connection() string {
	if p.Connection != "" {
		return p.Connection
	}
	return p.Tenant
}

// createUser answers POST /Users.
func (h *Handler) createUser(w http.ResponseWriter, r *request) {
	body, err := decodeObject(r)
	if err != nil {
		h.fail(w, r, err, "User", "")
		return
	}
	attrs, err := h.normalize(h.users, body)
	if err != nil {
		h.fail(w, r, err, "User", "")
		return
	}
	userName, err := userNameOf(attrs)
	if err != nil {
		h.fail(w, r, err, "User", "")
		return
	}
	if _, ok := attrs["active"]; !ok {
		// A user is active unless the IdP says otherwise; storing it makes
		// "active eq true" find them.
		attrs["active"] = true
	}
	var u store.User
	deactivated := false
	err = h.update(r, func(ctx context.Context, tx *writeTx) error {
		deactivated = false
		existing, err := h.findExisting(ctx, tx, userName, attrs)
		if err != nil {
			return err
		}
		if existing != nil {
			u, deactivated, err = h.link(ctx, tx, existing, attrs)
			return err
		}
		previous := ""
		if dr, ok := powerOf[store.DepartureRecorder](tx.Tx); ok && h.policy.Reprovision == ReprovisionPrevious {
			if d, err := dr.Departure(ctx, userName); err == nil {
				previous = d.Role
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		role, err := h.policy.resolve(attrs, nil, previous)
		if err != nil {
			return err
		}
		now := h.cfg.Now().UTC()
		u = store.User{
			ID: h.cfg.NewID(), Attributes: attrs, Role: role,
			Managed: true, ManagedBy: r.principal.connection(),
			Meta: store.Meta{Created: now, LastModified: now},
		}
		if err := tx.CreateUser(ctx, &u); err != nil {
			if isConflict(err) {
				return taken(userName)
			}
			return err
		}
		tx.userEvents(nil, &u, store.UserProvisioned)
		return tx.admit(ctx, userChange(nil, &u))
	})
	if err != nil {
		h.fail(w, r, err, "User", "")
		return
	}
	if deactivated {
		h.recordDeprovision(r.principal.Tenant, u.ID)
	}
	r.userID = u.ID
	doc := h.plainUser(r, &u, nil)
	w.Header().Set("Location", doc["meta"].(map[string]any)["location"].(string))
	w.Header().Set("ETag", etag(u.Meta.Version))
	writeJSON(w, http.StatusCreated, doc)
}

// findExisting looks for the user a POST is about, in the order
// UserRules.Resolve documents: one with the same userName (a managed one
// is a conflict), the one UserRules.Resolve chooses, or, when linking is
// on, an unmanaged app user with one of the request's email addresses, or
// with the userName as address when it is one (an app user created before
// SCIM may have an email and no userName). It returns nil when the POST
// should create a new user.
func (h *Handler) findExisting(ctx context.Context, tx *writeTx, userName string, attrs store.Attributes) (*store.User, error) {
	u, err := tx.UserByUserName(ctx, userName)
	switch {
	case err == nil:
		if !u.Managed && h.cfg.Users.LinkExisting {
			return &u, nil
		}
		if u.Managed && u.ManagedBy != "" && u.ManagedBy != tx.r.principal.connection() {
			return nil, &Error{Status: http.StatusConflict, ScimType: ScimTypeUniqueness,
				Detail: "userName " + quote(userName) + " is managed by another identity provider connection"}
		}
		return nil, taken(userName)
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	if u, err := h.resolve(ctx, tx, attrs); u != nil || err != nil {
		return u, err
	}
	if !h.cfg.Users.LinkExisting {
		return nil, nil
	}
	emails := (&store.User{Attributes: attrs}).Emails()
	if emailLike(userName) {
		emails = append(emails, userName)
	}
	if len(emails) == 0 {
		return nil, nil
	}
	if f, ok := powerOf[store.UnmanagedEmailFinder](tx.Tx); ok {
		// One call for all the request's emails, which never reads the
		// managed users sharing them.
		u, err := f.UnmanagedUserByEmail(ctx, emails)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, nil
		case err != nil:
			return nil, err
		}
		return &u, nil
	}
	// A store without the power: lists per email, each decoding the users
	// that share it, page after page until an unmanaged one shows (managed
	// users sharing an address come first in the store's order as often
	// as not). It stops when the request's context ends.
	const pageSize = 50
	seen := make(map[string]bool, len(emails))
	for _, email := range emails {
		k := store.Fold(email)
		if seen[k] {
			continue
		}
		seen[k] = true
		for offset := 0; ; offset += pageSize {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			page, err := tx.ListUsers(ctx, store.Query{Offset: offset, Limit: pageSize, Filter: store.Compare{
				Path: store.Path{Name: "emails", Sub: "value"}, Op: store.Eq, Value: email}})
			if err != nil {
				return nil, err
			}
			for i := range page.Users {
				if c := &page.Users[i]; !c.Managed {
					return c, nil
				}
			}
			if len(page.Users) < pageSize || offset+pageSize >= page.Total {
				break
			}
		}
	}
	return nil, nil
}

// link adopts an existing, unmanaged app user: the IdP's attributes
// replace the user's and the user becomes managed by the request's
// connection. It is an update like any other: the role policy, the
// protection of the owner and the deprovisioning guard apply (a POST that
// links an active user with "active":false deactivates them). It reports
// whether the write deactivated the user.
func (h *Handler) link(ctx context.Context, tx *writeTx, existing *store.User, attrs store.Attributes) (store.User, bool, error) {
	if h.cfg.Users.RefuseEmailChanges {
		// The app owns email addresses: the IdP matched one of them, and
		// the user keeps their userName and emails.
		for _, k := range []string{"userName", "emails"} {
			if v, ok := existing.Attributes[k]; ok {
				attrs[k] = v
			}
		}
	}
	return h.writeUser(ctx, tx, *existing, attrs)
}

// getUser answers GET /Users/{id}.
func (h *Handler) getUser(w http.ResponseWriter, r *request, id string) {
	query := r.query()
	// Without a projection (what IdPs send), a store that keeps the
	// attributes encoded hands them out as they are, and they are copied
	// into the response without being decoded.
	g := &userGet{h: h, id: id, proj: parseProjection(h.users, query["attributes"], query["excludedAttributes"])}
	if err := h.view(r, g.read); err != nil {
		h.fail(w, r, err, "User", id)
		return
	}
	u := &g.u
	w.Header().Set("ETag", etag(u.Meta.Version))
	if notModified(r, u.Meta.Version) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if g.hasRaw {
		d := &rawUserDoc{h: h, r: r, u: u, raw: g.raw, groups: g.groups}
		if err := jsonenc.UseFunc(d.AppendJSON, func(b []byte) { writeBody(w, http.StatusOK, b) }); err != nil {
			h.fail(w, r, err, "User", id)
		}
		return
	}
	writeJSON(w, http.StatusOK, g.proj.apply(h.renderUserOwned(r, u, g.groups)))
}

// userGet is a GET /Users/{id}'s read, and what it read: one allocation
// for the whole read rather than one per variable a closure captures.
type userGet struct {
	h    *Handler
	id   string
	proj projection

	u      store.User
	raw    []byte // u's attributes encoded, when hasRaw
	hasRaw bool
	groups []store.GroupRef
}

func (g *userGet) read(ctx context.Context, tx store.Reader) error {
	var err error
	if rr, ok := powerOf[store.RawUserReader](tx); ok && g.proj.whole() {
		g.u, g.raw, err = rr.RawUser(ctx, g.id)
		g.hasRaw = true
	} else {
		g.u, err = tx.User(ctx, g.id)
	}
	if err != nil {
		return err
	}
	if !g.u.Managed && g.h.cfg.Users.HideUnmanaged {
		return store.ErrNotFound
	}
	if g.proj.wants("groups") {
		g.groups, err = tx.GroupsOf(ctx, g.id)
	}
	return err
}

// replaceUser answers PUT /Users/{id}: the attributes sent replace the
// stored ones (RFC 7644 §3.5.1); read-only attributes are ignored.
func (h *Handler) replaceUser(w http.ResponseWriter, r *request, id string) {
	body, err := decodeObject(r)
	if err != nil {
		h.fail(w, r, err, "User", id)
		return
	}
	attrs, err := h.normalize(h.users, body)
	if err != nil {
		h.fail(w, r, err, "User", id)
		return
	}
	if _, err := userNameOf(attrs); err != nil {
		h.fail(w, r, err, "User", id)
		return
	}
	u, groups, err := h.modifyUser(r, id, true, func(current store.Attributes) (store.Attributes, error) {
		return attrs, nil
	})
	if err != nil {
		h.fail(w, r, err, "User", id)
		return
	}
	w.Header().Set("ETag", etag(u.Meta.Version))
	writeJSON(w, http.StatusOK, h.plainUser(r, &u, groups))
}

// patchUser answers PATCH /Users/{id} (RFC 7644 §3.5.2).
func (h *Handler) patchUser(w http.ResponseWriter, r *request, id string) {
	body, err := readBody(r)
	if err != nil {
		h.fail(w, r, err, "User", id)
		return
	}
	u, groups, err := h.modifyUser(r, id, !h.cfg.Users.PatchNoContent, func(current store.Attributes) (store.Attributes, error) {
		res, err := h.applyPatch(h.users, current, body)
		if err != nil || !res.Changed {
			return nil, err
		}
		if _, had := current["active"]; had {
			if _, has := res.Attrs["active"]; !has {
				// Taking active away would leave a user that is neither
				// active nor inactive; a deactivation says false.
				return nil, &Error{Status: http.StatusBadRequest, ScimType: ScimTypeMutability,
					Detail: "active cannot be removed; replace it with false to deactivate the user"}
			}
		}
		return res.Attrs, nil
	})
	if err != nil {
		h.fail(w, r, err, "User", id)
		return
	}
	w.Header().Set("ETag", etag(u.Meta.Version))
	if h.cfg.Users.PatchNoContent {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, h.plainUser(r, &u, groups))
}

// writable checks that the request's connection may change u: an
// unmanaged app user is adopted when linking is on and refused otherwise;
// a user managed by another connection is refused.
func (h *Handler) writable(r *request, u *store.User) error {
	switch {
	case !u.Managed && h.cfg.Users.HideUnmanaged:
		return store.ErrNotFound
	case !u.Managed && !h.cfg.Users.LinkExisting:
		return &Error{Status: http.StatusForbidden,
			Detail: "user " + u.ID + " is an app user not managed through SCIM; the app has linking turned off"}
	case u.Managed && u.ManagedBy != "" && u.ManagedBy != r.principal.connection():
		return &Error{Status: http.StatusForbidden,
			Detail: "user " + u.ID + " is managed by another identity provider connection"}
	}
	return nil
}

// refuse returns the 403 for a change to a protected user, carrying the
// event that records the refusal.
func refuse(u *store.User, what string) error {
	detail := fmt.Sprintf("user %s has the protected role %q and cannot be %s through SCIM", u.ID, u.Role, what)
	c := *u
	return &refusal{
		err:   &Error{Status: http.StatusForbidden, Detail: detail},
		event: store.Event{Type: store.ProtectedRefused, UserID: u.ID, Before: &c, Detail: detail},
	}
}

// modifyUser runs one read-modify-write of a user in a transaction: it
// reads the user, honours If-Match, asks change for the new attributes (nil
// for no change), applies the lifecycle rules and the role policy, and
// writes. It returns the user as stored and, when withGroups, its groups.
func (h *Handler) modifyUser(r *request, id string, withGroups bool,
	change func(current store.Attributes) (store.Attributes, error)) (store.User, []store.GroupRef, error) {
	var u store.User
	var groups []store.GroupRef
	deactivated := false
	err := h.update(r, func(ctx context.Context, tx *writeTx) error {
		deactivated = false
		var err error
		if u, err = tx.User(ctx, id); err != nil {
			return err
		}
		if err := h.writable(r, &u); err != nil {
			return err
		}
		if err := checkIfMatch(r, "User", id, u.Meta.Version); err != nil {
			return err
		}
		attrs, err := change(u.Attributes)
		if err != nil {
			return err
		}
		if attrs != nil || !u.Managed {
			if attrs == nil {
				attrs = maps.Clone(u.Attributes) // userNameOf normalises it
			}
			if u, deactivated, err = h.writeUser(ctx, tx, u, attrs); err != nil {
				return err
			}
		}
		if withGroups {
			groups, err = tx.GroupsOf(ctx, id)
		}
		return err
	})
	if err == nil && deactivated {
		h.recordDeprovision(r.principal.Tenant, id)
	}
	return u, groups, err
}

// writeUser writes attrs as the new attributes of before, an existing user,
// under the rules every update follows, whether it comes from PUT, PATCH or
// a POST that links: an absent active keeps the current value; the app's
// profile rules; the role policy; a protected user is never deactivated or
// given another role (403 and an event); a deactivation passes the
// deprovisioning guard. An unmanaged user becomes managed by the request's
// connection. It returns the user as written and whether the write
// deactivated it.
func (h *Handler) writeUser(ctx context.Context, tx *writeTx, before store.User, attrs store.Attributes) (store.User, bool, error) {
	if err := h.userDecl.carryOver(before.Attributes, attrs); err != nil {
		return before, false, err
	}
	if _, ok := attrs["active"]; !ok {
		// A document without active (a PUT that leaves it out, a PATCH
		// that removes it) keeps the user's state: "active eq true" and
		// the protections below must see what the user really is.
		attrs["active"] = before.Active()
	}
	if err := h.applyUserRules(&before, attrs); err != nil {
		return before, false, err
	}
	current := &before
	if h.policy.ResetOnReactivate && !before.Active() && (&store.User{Attributes: attrs}).Active() {
		// A comeback: resolve the role as for a new user, ignoring the old
		// role still carried in the document.
		current = nil
		h.policy.dropRole(attrs, before.Role)
	}
	role, err := h.policy.resolve(attrs, current, before.Role)
	if err != nil {
		return before, false, err
	}
	deactivated := before.Active() && !(&store.User{Attributes: attrs}).Active()
	if h.policy.protected(before.Role) {
		switch {
		case deactivated:
			return before, false, refuse(&before, "deactivated")
		case role != before.Role:
			return before, false, refuse(&before, "given another role")
		}
	}
	if deactivated {
		if err := h.checkDeprovision(ctx, tx, &before, "deactivate"); err != nil {
			return before, false, err
		}
	}
	userName, err := userNameOf(attrs)
	if err != nil {
		return before, false, err
	}
	u := before
	u.Attributes, u.Role = attrs, role
	if !u.Managed {
		u.Managed, u.ManagedBy, u.Linked = true, tx.r.principal.connection(), true
	}
	u.Meta.LastModified = h.cfg.Now().UTC()
	if err := tx.UpdateUser(ctx, &u); err != nil {
		if isConflict(err) {
			return before, false, taken(userName)
		}
		return before, false, err
	}
	tx.userEvents(&before, &u, store.UserProvisioned)
	if err := tx.followActive(ctx, &before, &u); err != nil {
		return before, false, err
	}
	if err := tx.admit(ctx, userChange(&before, &u)); err != nil {
		return before, false, err
	}
	return u, deactivated, nil
}

// applyUserRules applies the app's profile rules to an update of before:
// names the app keeps to itself, emails it refuses to change.
func (h *Handler) applyUserRules(before *store.User, attrs store.Attributes) error {
	if h.cfg.Users.IgnoreNameChanges {
		keepNames(attrs, before.Attributes)
	}
	if h.cfg.Users.RefuseEmailChanges {
		after := &store.User{Attributes: attrs}
		if old := before.Emails(); len(old) > 0 && !sameFolded(old, after.Emails()) {
			return &Error{Status: http.StatusBadRequest, ScimType: ScimTypeMutability,
				Detail: "email addresses cannot be changed through SCIM in this app"}
		}
		if old := before.UserName(); strings.Contains(old, "@") && store.Fold(old) != store.Fold(strings.TrimSpace(after.UserName())) {
			return &Error{Status: http.StatusBadRequest, ScimType: ScimTypeMutability,
				Detail: "userName is the user's email address and cannot be changed through SCIM in this app"}
		}
	}
	return nil
}

// keepNames restores the name attributes of previous into attrs.
func keepNames(attrs, previous store.Attributes) {
	for _, k := range []string{"name", "displayName", "nickName"} {
		if v, ok := previous[k]; ok {
			attrs[k] = v
		} else {
			delete(attrs, k)
		}
	}
}

// sameFolded reports whether two lists hold the same strings, ignoring
// case and order.
func sameFolded(a, b []string) bool {
	set := map[string]int{}
	for _, s := range a {
		set[store.Fold(strings.TrimSpace(s))] |= 1
	}
	for _, s := range b {
		set[store.Fold(strings.TrimSpace(s))] |= 2
	}
	for _, v := range set {
		if v != 3 {
			return false
		}
	}
	return true
}

// deleteUser answers DELETE /Users/{id}: the user is deprovisioned and
// leaves every team.
func (h *Handler) deleteUser(w http.ResponseWriter, r *request, id string) {
	err := h.update(r, func(ctx context.Context, tx *writeTx) error {
		u, err := tx.User(ctx, id)
		if err != nil {
			return err
		}
		if !u.Managed && h.cfg.Users.HideUnmanaged {
			return store.ErrNotFound
		}
		if err := checkIfMatch(r, "User", id, u.Meta.Version); err != nil {
			return err
		}
		if h.policy.protected(u.Role) {
			return refuse(&u, "deleted")
		}
		if !u.Managed {
			return &Error{Status: http.StatusForbidden, Detail: "user " + id + " is an app user not managed through SCIM"}
		}
		if err := h.writable(r, &u); err != nil {
			return err
		}
		// Every deletion passes the guard, an inactive user's too: a user
		// deactivated and then deleted within the guard's window counts
		// once.
		if err := h.checkDeprovision(ctx, tx, &u, "delete"); err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, id); err != nil {
			return err
		}
		if dr, ok := powerOf[store.DepartureRecorder](tx.Tx); ok && h.policy.enabled() {
			if err := dr.RecordDeparture(ctx, store.Departure{UserID: id, UserName: u.UserName(), Role: u.Role, Time: h.cfg.Now().UTC()}); err != nil {
				return err
			}
		}
		tx.emit(store.Event{Type: store.UserDeprovisioned, UserID: id, Before: &u})
		return tx.admit(ctx, userChange(&u, nil))
	})
	if err != nil {
		h.fail(w, r, err, "User", id)
		return
	}
	h.recordDeprovision(r.principal.Tenant, id)
	w.WriteHeader(http.StatusNoContent)
}

// Managed reports whether a user of tenant is managed through SCIM (created
// by an identity provider or linked to one), so that the app can lock the
// user's profile in its own UI. It returns store.ErrNotFound for an unknown
// user.
func (h *Handler) Managed(ctx context.Context, tenant, userID string) (bool, error) {
	var managed bool
	err := h.viewStore(ctx, tenant, func(tx store.Reader) error {
		u, err := tx.User(ctx, userID)
		managed = u.Managed
		return err
	})
	return managed, err
}
