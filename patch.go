package scim

import (
	"context"
	"net/http"

	"github.com/scimkit/scim/internal/patch"
	"github.com/scimkit/scim/internal/schema"
	"github.com/scimkit/scim/store"
)

// PATCH (RFC 7644 §3.5.2) is applied by internal/patch to a copy of the
// stored attributes, atomically in memory; this file writes the outcome
// through the store in one transaction. For groups the engine hands back
// membership changes as a list of incremental operations, which become
// Tx.AddMembers / RemoveMembers / ReplaceMembers calls: a membership change
// never reads or rewrites the whole member list.

// normalize turns a POST or PUT body into stored attributes.
func (h *Handler) normalize(rt *schema.ResourceType, body map[string]any) (store.Attributes, error) {
	attrs, _, err := patch.NormalizeWith(rt, body, h.patchOptions())
	if err == nil {
		err = checkIndexed(rt, attrs, nil)
	}
	if err == nil {
		err = h.decl(rt).checkRequired(attrs)
	}
	return attrs, err
}

// decl returns what the handler enforces of rt's declared attributes.
func (h *Handler) decl(rt *schema.ResourceType) *declared {
	if rt == h.groups {
		return &h.groupDecl
	}
	return &h.userDecl
}

// normalizeGroup is normalize for groups: members come back separately,
// nil when the body has no members attribute.
func (h *Handler) normalizeGroup(body map[string]any) (store.Attributes, []store.Member, error) {
	attrs, members, err := patch.NormalizeWith(h.groups, body, h.patchOptions())
	if err == nil {
		err = checkIndexed(h.groups, attrs, nil)
	}
	if err == nil {
		err = h.groupDecl.checkRequired(attrs)
	}
	return attrs, members, err
}

// applyPatch applies a PatchOp body to attrs. A user is patched as it is
// rendered, with the role also in the app's extension, and removing the
// role attribute resets it to the policy's default (RolePolicy.settlePatch).
func (h *Handler) applyPatch(rt *schema.ResourceType, attrs store.Attributes, body []byte) (patch.Result, error) {
	res, err := h.patchAttrs(rt, attrs, body)
	if err == nil && res.Changed {
		err = checkIndexed(rt, res.Attrs, attrs)
	}
	if err == nil && res.Changed {
		err = h.decl(rt).checkRemoved(attrs, res.Attrs)
	}
	return res, err
}

// patchAttrs runs the PATCH engine, with the role policy's view for users.
func (h *Handler) patchAttrs(rt *schema.ResourceType, attrs store.Attributes, body []byte) (patch.Result, error) {
	opts := h.patchOptions()
	if rt != h.users || !h.policy.enabled() {
		return patch.Apply(rt, attrs, body, opts)
	}
	res, err := patch.Apply(rt, h.policy.patchView(attrs), body, opts)
	if err != nil {
		return res, err
	}
	h.policy.settlePatch(attrs, res.Attrs)
	// The view's extra copy of the role is gone again: a change the
	// engine saw may have been only there.
	res.Changed = res.Changed && !attrsEqual(attrs, res.Attrs)
	return res, nil
}

func (h *Handler) patchOptions() patch.Options {
	l := h.cfg.Limits
	return patch.Options{MaxOperations: l.MaxOperations, MaxMembers: l.MaxMembers, MaxValues: l.MaxValues}
}

// applyMembers writes the membership changes of a group PATCH, in order.
func (h *Handler) applyMembers(ctx context.Context, tx *writeTx, id string, ops []patch.MemberOp) error {
	for _, op := range ops {
		var err error
		switch op.Kind {
		case patch.AddMembers:
			err = tx.changeMembers(ctx, id, addMembers, op.Members)
		case patch.RemoveMembers:
			err = tx.changeMembers(ctx, id, removeMembers, op.Members)
		case patch.ReplaceMembers:
			err = tx.changeMembers(ctx, id, replaceMembers, op.Members)
		case patch.RemoveAllMembers:
			err = tx.changeMembers(ctx, id, replaceMembers, nil)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// patchGroup answers PATCH /Groups/{id} with 204 No Content: renames and
// membership changes of one request commit together.
func (h *Handler) patchGroup(w http.ResponseWriter, r *request, id string) {
	body, err := readBody(r)
	if err != nil {
		h.fail(w, r, err, "Group", id)
		return
	}
	var version int64
	err = h.update(r, func(ctx context.Context, tx *writeTx) error {
		g, err := tx.Group(ctx, id, false)
		if err != nil {
			return err
		}
		if err := checkIfMatch(r, "Group", id, g.Meta.Version); err != nil {
			return err
		}
		res, err := h.applyPatch(h.groups, g.Attributes, body)
		if err == nil && res.Changed {
			err = h.groupDecl.carryOver(g.Attributes, res.Attrs)
		}
		if err != nil {
			return err
		}
		if res.Changed {
			if err := tx.updateGroup(ctx, &g, res.Attrs); err != nil {
				return err
			}
		}
		if err := h.applyMembers(ctx, tx, id, res.Members); err != nil {
			return err
		}
		version = g.Meta.Version
		if len(res.Members) > 0 {
			g, err = tx.Group(ctx, id, false)
			version = g.Meta.Version
		}
		return err
	})
	if err != nil {
		h.fail(w, r, err, "Group", id)
		return
	}
	w.Header().Set("ETag", etag(version))
	w.WriteHeader(http.StatusNoContent)
}
