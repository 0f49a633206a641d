package scim

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/scimkit/scim/store"
)

// userNameOf returns the userName of normalised attributes, or a 400 when
// it is missing or blank (RFC 7643 §4.1.1: userName is REQUIRED).
func userNameOf(attrs store.Attributes) (string, error) {
	name, _ := attrs["userName"].(string)
	if strings.TrimSpace(name) == "" {
		return "", &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidValue, Detail: "userName is required"}
	}
	return name, nil
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
	h.policy.apply(attrs, nil)
	now := h.cfg.Now().UTC()
	u := store.User{
		ID: h.cfg.NewID(), Attributes: attrs, Managed: true,
		Meta: store.Meta{Created: now, LastModified: now},
	}
	err = h.update(r, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.UserByUserName(ctx, userName); err == nil {
			return taken(userName)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := tx.CreateUser(ctx, &u); err != nil {
			if isConflict(err) {
				return taken(userName)
			}
			return err
		}
		return nil
	})
	if err != nil {
		h.fail(w, r, err, "User", "")
		return
	}
	doc := h.renderUser(r, &u, nil)
	w.Header().Set("Location", doc["meta"].(map[string]any)["location"].(string))
	w.Header().Set("ETag", etag(u.Meta.Version))
	writeJSON(w, http.StatusCreated, doc)
}

// getUser answers GET /Users/{id}.
func (h *Handler) getUser(w http.ResponseWriter, r *request, id string) {
	proj := parseProjection(h.users, r.URL.Query()["attributes"], r.URL.Query()["excludedAttributes"])
	var u store.User
	var groups []store.GroupRef
	err := h.view(r, func(ctx context.Context, tx store.Reader) error {
		var err error
		if u, err = tx.User(ctx, id); err != nil {
			return err
		}
		if proj.wants("groups") {
			groups, err = tx.GroupsOf(ctx, id)
		}
		return err
	})
	if err != nil {
		h.fail(w, r, err, "User", id)
		return
	}
	w.Header().Set("ETag", etag(u.Meta.Version))
	if notModified(r, u.Meta.Version) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeJSON(w, http.StatusOK, proj.apply(h.renderUser(r, &u, groups)))
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
	writeJSON(w, http.StatusOK, h.renderUser(r, &u, groups))
}

// patchUser answers PATCH /Users/{id} (RFC 7644 §3.5.2).
func (h *Handler) patchUser(w http.ResponseWriter, r *request, id string) {
	body, err := readBody(r)
	if err != nil {
		h.fail(w, r, err, "User", id)
		return
	}
	u, groups, err := h.modifyUser(r, id, !h.cfg.UserPatchNoContent, func(current store.Attributes) (store.Attributes, error) {
		res, err := h.applyPatch(h.users, current, body)
		if err != nil || !res.Changed {
			return nil, err
		}
		return res.Attrs, nil
	})
	if err != nil {
		h.fail(w, r, err, "User", id)
		return
	}
	w.Header().Set("ETag", etag(u.Meta.Version))
	if h.cfg.UserPatchNoContent {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, h.renderUser(r, &u, groups))
}

// modifyUser runs one read-modify-write of a user in a transaction: it
// reads the user, honours If-Match, asks change for the new attributes (nil
// for no change), applies the role policy and writes. It returns the user as
// stored and, when withGroups, its groups.
func (h *Handler) modifyUser(r *request, id string, withGroups bool,
	change func(current store.Attributes) (store.Attributes, error)) (store.User, []store.GroupRef, error) {
	var u store.User
	var groups []store.GroupRef
	err := h.update(r, func(ctx context.Context, tx store.Tx) error {
		var err error
		if u, err = tx.User(ctx, id); err != nil {
			return err
		}
		if err := checkIfMatch(r, "User", id, u.Meta.Version); err != nil {
			return err
		}
		attrs, err := change(u.Attributes)
		if err != nil {
			return err
		}
		if attrs != nil {
			userName, err := userNameOf(attrs)
			if err != nil {
				return err
			}
			h.policy.apply(attrs, u.Attributes)
			u.Attributes = attrs
			u.Meta.LastModified = h.cfg.Now().UTC()
			if err := tx.UpdateUser(ctx, &u); err != nil {
				if isConflict(err) {
					return taken(userName)
				}
				return err
			}
		}
		if withGroups {
			groups, err = tx.GroupsOf(ctx, id)
		}
		return err
	})
	return u, groups, err
}

// deleteUser answers DELETE /Users/{id}: the user and its memberships go.
func (h *Handler) deleteUser(w http.ResponseWriter, r *request, id string) {
	err := h.update(r, func(ctx context.Context, tx store.Tx) error {
		if r.Header.Get("If-Match") != "" {
			u, err := tx.User(ctx, id)
			if err != nil {
				return err
			}
			if err := checkIfMatch(r, "User", id, u.Meta.Version); err != nil {
				return err
			}
		}
		return tx.DeleteUser(ctx, id)
	})
	if err != nil {
		h.fail(w, r, err, "User", id)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
