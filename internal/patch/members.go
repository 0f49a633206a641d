package patch

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/scimkit/scim/internal/filter"
	"github.com/scimkit/scim/internal/scimerr"
	"github.com/scimkit/scim/store"
)

// memberOp turns an operation on a group's members into MemberOps.
//
//	add     members            [{value, display}] | {value} | "id"  → AddMembers
//	replace members            [...]                                → ReplaceMembers
//	replace members            [] or null                           → RemoveAllMembers
//	remove  members            (no value)                           → RemoveAllMembers
//	remove  members            [{value}] (Entra)                    → RemoveMembers of those only
//	remove  members[value eq "id"] (Okta), or an "or" of such       → RemoveMembers
func (e *engine) memberOp(kind opKind, p filter.Path, value any) *scimerr.Error {
	if p.Attr.Sub != nil {
		return scimerr.BadRequest(scimerr.InvalidPath, "members can only be changed as a whole: %q", p.Attr.Path.String())
	}
	if p.Filter != nil {
		if kind != opRemove {
			return scimerr.BadRequest(scimerr.InvalidPath, "a filter on members is only supported with remove")
		}
		var ids []store.Member
		if !memberIDs(p.Filter, &ids) {
			return scimerr.BadRequest(scimerr.InvalidFilter, `a member filter must be "value eq" comparisons joined by "or"`)
		}
		if err := e.countMembers(len(ids)); err != nil {
			return err
		}
		e.removeMembers(ids)
		return nil
	}
	if value == nil {
		if kind != opAdd {
			e.removeAllMembers()
		}
		return nil
	}
	ms, err := memberValues(value)
	if err != nil {
		return err
	}
	if err := e.countMembers(len(ms)); err != nil {
		return err
	}
	switch kind {
	case opAdd:
		e.addMembers(ms)
	case opReplace:
		if len(ms) == 0 {
			e.removeAllMembers()
		} else {
			e.members = append(e.members[:0], MemberOp{Kind: ReplaceMembers, Members: ms})
		}
	default:
		if len(ms) == 0 {
			// "remove members" with an empty list removes nothing: Entra
			// means "these members", and there are none.
			return nil
		}
		e.removeMembers(ms)
	}
	return nil
}

func (e *engine) countMembers(n int) *scimerr.Error {
	e.nMembers += n
	if e.nMembers > e.opts.maxMembers() {
		return scimerr.New(http.StatusRequestEntityTooLarge, scimerr.TooMany,
			"a request may carry at most %d member values", e.opts.maxMembers())
	}
	return nil
}

// memberIDs collects the ids of `value eq "id"` comparisons joined by or.
func memberIDs(f store.Filter, out *[]store.Member) bool {
	switch f := f.(type) {
	case store.Compare:
		id, ok := f.Value.(string)
		if f.Op != store.Eq || f.Path != (store.Path{Name: "value"}) || !ok {
			return false
		}
		*out = append(*out, store.Member{Value: id})
		return true
	case store.Or:
		return memberIDs(f.Left, out) && memberIDs(f.Right, out)
	}
	return false
}

// memberValues reads member values: a list or a single one, each an object
// with "value" (any case) and optional "display" (or "displayName", as
// Microsoft's validator sends it), or a bare id string.
// $ref and type are ignored.
func memberValues(v any) ([]store.Member, *scimerr.Error) {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	out := make([]store.Member, 0, len(list))
	for _, el := range list {
		var m store.Member
		switch el := el.(type) {
		case nil:
			continue
		case string:
			m.Value = el
		case map[string]any:
			for k, fv := range el {
				switch {
				case strings.EqualFold(k, "value"):
					s, ok := idString(fv)
					if !ok {
						return nil, invalidValue("members.value", "want a string id, got %s", describe(fv))
					}
					m.Value = s
				case strings.EqualFold(k, "display"):
					s, _ := fv.(string)
					m.Display = s
				case strings.EqualFold(k, "displayName") && m.Display == "":
					// Microsoft's validator sends displayName for display.
					if _, hasDisplay := el["display"]; !hasDisplay {
						s, _ := fv.(string)
						m.Display = s
					}
				}
			}
		default:
			return nil, invalidValue("members", "want an object with a value, got %s", describe(el))
		}
		m.Value = strings.TrimSpace(m.Value)
		if m.Value == "" {
			return nil, invalidValue("members.value", "a member needs a value (the user id)")
		}
		out = append(out, m)
	}
	return out, nil
}

func idString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case json.Number:
		return string(v), true
	}
	return "", false
}

// The helpers below merge consecutive member changes so the caller makes
// as few store calls as possible, without changing the outcome of
// applying them in order.

func (e *engine) last() *MemberOp {
	if len(e.members) == 0 {
		return nil
	}
	return &e.members[len(e.members)-1]
}

func (e *engine) addMembers(ms []store.Member) {
	if len(ms) == 0 {
		return
	}
	switch l := e.last(); {
	case l == nil:
	case l.Kind == AddMembers || l.Kind == ReplaceMembers:
		l.Members = append(l.Members, ms...)
		return
	case l.Kind == RemoveAllMembers:
		l.Kind, l.Members = ReplaceMembers, append([]store.Member(nil), ms...)
		return
	}
	e.members = append(e.members, MemberOp{Kind: AddMembers, Members: ms})
}

func (e *engine) removeMembers(ms []store.Member) {
	switch l := e.last(); {
	case l == nil:
	case l.Kind == RemoveAllMembers:
		return
	case l.Kind == RemoveMembers:
		l.Members = append(l.Members, ms...)
		return
	case l.Kind == ReplaceMembers:
		gone := make(map[string]struct{}, len(ms))
		for _, m := range ms {
			gone[m.Value] = struct{}{}
		}
		kept := l.Members[:0]
		for _, m := range l.Members {
			if _, ok := gone[m.Value]; !ok {
				kept = append(kept, m)
			}
		}
		l.Members = kept
		if len(kept) == 0 {
			l.Kind, l.Members = RemoveAllMembers, nil
		}
		return
	}
	e.members = append(e.members, MemberOp{Kind: RemoveMembers, Members: ms})
}

func (e *engine) removeAllMembers() {
	e.members = append(e.members[:0], MemberOp{Kind: RemoveAllMembers})
}

// finishMembers drops repeated ids within each change (JumpCloud re-adds
// existing members; a list may name one id twice). The first occurrence
// wins.
func (e *engine) finishMembers() []MemberOp {
	for i := range e.members {
		ms := e.members[i].Members
		if len(ms) < 2 {
			continue
		}
		seen := make(map[string]struct{}, len(ms))
		out := ms[:0]
		for _, m := range ms {
			if _, dup := seen[m.Value]; dup {
				continue
			}
			seen[m.Value] = struct{}{}
			out = append(out, m)
		}
		e.members[i].Members = out
	}
	if len(e.members) == 0 {
		return nil
	}
	return e.members
}
