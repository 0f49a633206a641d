package scim

import (
	"context"
	"net/http"
	"strings"

	"github.com/scimkit/scim/store"
)

// Group push: an IdP group is a team of the app. Membership changes are
// applied incrementally through the store (add these ids, remove those), so
// their cost follows the size of the change, never the size of the group.
// Only users of the same tenant become members; other ids are skipped and
// logged, so that one stale id never sinks a batch (Okta treats a 400 on a
// membership PATCH as permanent).

func displayNameOf(attrs store.Attributes) (string, error) {
	name, _ := attrs["displayName"].(string)
	if strings.TrimSpace(name) == "" {
		return "", &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidValue, Detail: "displayName is required"}
	}
	return name, nil
}

func groupTaken(name string) error {
	return &Error{Status: http.StatusConflict, ScimType: ScimTypeUniqueness,
		Detail: "a group named " + quote(name) + " already exists"}
}

// logSkipped records member ids that are not users of the tenant.
func (h *Handler) logSkipped(r *request, groupID string, c store.MemberChange) {
	if len(c.Skipped) > 0 {
		h.log.Warn("scim: skipped unknown group members", "tenant", r.principal.Tenant,
			"group", groupID, "skipped", c.Skipped)
	}
}

// createGroup answers POST /Groups.
func (h *Handler) createGroup(w http.ResponseWriter, r *request) {
	body, err := decodeObject(r)
	if err != nil {
		h.fail(w, r, err, "Group", "")
		return
	}
	attrs, members, err := h.normalizeGroup(body)
	if err != nil {
		h.fail(w, r, err, "Group", "")
		return
	}
	name, err := displayNameOf(attrs)
	if err != nil {
		h.fail(w, r, err, "Group", "")
		return
	}
	now := h.cfg.Now().UTC()
	g := store.Group{ID: h.cfg.NewID(), Attributes: attrs, Meta: store.Meta{Created: now, LastModified: now}}
	err = h.update(r, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateGroup(ctx, &g); err != nil {
			if isConflict(err) {
				return groupTaken(name)
			}
			return err
		}
		if len(members) > 0 {
			c, err := tx.AddMembers(ctx, g.ID, members, now)
			if err != nil {
				return err
			}
			h.logSkipped(r, g.ID, c)
		}
		var err error
		g, err = tx.Group(ctx, g.ID, true)
		return err
	})
	if err != nil {
		h.fail(w, r, err, "Group", "")
		return
	}
	doc := h.renderGroup(r, &g)
	w.Header().Set("Location", doc["meta"].(map[string]any)["location"].(string))
	w.Header().Set("ETag", etag(g.Meta.Version))
	writeJSON(w, http.StatusCreated, doc)
}

// getGroup answers GET /Groups/{id}; members are loaded only when returned.
func (h *Handler) getGroup(w http.ResponseWriter, r *request, id string) {
	proj := parseProjection(h.groups, r.URL.Query()["attributes"], r.URL.Query()["excludedAttributes"])
	var g store.Group
	err := h.view(r, func(ctx context.Context, tx store.Reader) error {
		var err error
		g, err = tx.Group(ctx, id, proj.wants("members"))
		return err
	})
	if err != nil {
		h.fail(w, r, err, "Group", id)
		return
	}
	w.Header().Set("ETag", etag(g.Meta.Version))
	if notModified(r, g.Meta.Version) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeJSON(w, http.StatusOK, proj.apply(h.renderGroup(r, &g)))
}

// replaceGroup answers PUT /Groups/{id}. A members list, when sent, is
// applied as a difference (Okta apps without PATCH push membership this
// way); a body without members leaves them as they are.
func (h *Handler) replaceGroup(w http.ResponseWriter, r *request, id string) {
	body, err := decodeObject(r)
	if err != nil {
		h.fail(w, r, err, "Group", id)
		return
	}
	attrs, members, err := h.normalizeGroup(body)
	if err != nil {
		h.fail(w, r, err, "Group", id)
		return
	}
	name, err := displayNameOf(attrs)
	if err != nil {
		h.fail(w, r, err, "Group", id)
		return
	}
	var g store.Group
	err = h.update(r, func(ctx context.Context, tx store.Tx) error {
		var err error
		if g, err = tx.Group(ctx, id, false); err != nil {
			return err
		}
		if err := checkIfMatch(r, "Group", id, g.Meta.Version); err != nil {
			return err
		}
		now := h.cfg.Now().UTC()
		g.Attributes = attrs
		g.Meta.LastModified = now
		if err := tx.UpdateGroup(ctx, &g); err != nil {
			if isConflict(err) {
				return groupTaken(name)
			}
			return err
		}
		if members != nil {
			c, err := tx.ReplaceMembers(ctx, id, members, now)
			if err != nil {
				return err
			}
			h.logSkipped(r, id, c)
		}
		g, err = tx.Group(ctx, id, true)
		return err
	})
	if err != nil {
		h.fail(w, r, err, "Group", id)
		return
	}
	w.Header().Set("ETag", etag(g.Meta.Version))
	writeJSON(w, http.StatusOK, h.renderGroup(r, &g))
}

// deleteGroup answers DELETE /Groups/{id}: the team goes, its users stay.
func (h *Handler) deleteGroup(w http.ResponseWriter, r *request, id string) {
	err := h.update(r, func(ctx context.Context, tx store.Tx) error {
		if r.Header.Get("If-Match") != "" {
			g, err := tx.Group(ctx, id, false)
			if err != nil {
				return err
			}
			if err := checkIfMatch(r, "Group", id, g.Meta.Version); err != nil {
				return err
			}
		}
		return tx.DeleteGroup(ctx, id)
	})
	if err != nil {
		h.fail(w, r, err, "Group", id)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
