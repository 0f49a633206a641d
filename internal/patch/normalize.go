package patch

import (
	"github.com/scimkit/scim/internal/schema"
	"github.com/scimkit/scim/store"
)

// Normalize turns the decoded body of a PUT or POST into stored
// attributes: names made canonical (any case in, schema case out),
// extension attributes moved under their schema URN (whether sent nested
// under the URN or as top-level "urn:…:User:department" keys), strings
// "True"/"False" and numeric strings coerced by the schema, null treated as
// absent. Read-only attributes (id, meta, schemas, groups), unknown
// attributes and password are dropped. A known attribute with a value of
// the wrong type, or more than one primary value in a multi-valued
// attribute, is 400 invalidValue.
//
// For a resource type with a members attribute (Group) the members are
// returned separately and not in the attributes: nil when the body has no
// members, an empty slice for "members": [] or null. A body may carry at
// most DefaultMaxMembers members, and a multi-valued attribute at most
// DefaultMaxValues values once repeats are removed.
func Normalize(rt *schema.ResourceType, body map[string]any) (store.Attributes, []store.Member, error) {
	return NormalizeWith(rt, body, Options{})
}

// NormalizeWith is Normalize with the limits of opts: MaxMembers and
// MaxValues (MaxOperations does not apply).
func NormalizeWith(rt *schema.ResourceType, body map[string]any, opts Options) (store.Attributes, []store.Member, error) {
	e := newEngine(rt, nil, opts)
	e.normalize = true
	if err := e.object(opReplace, body, nil); err != nil {
		return nil, nil, err
	}
	if err := e.finishValues(); err != nil {
		return nil, nil, err
	}
	var members []store.Member
	if _, ok := body["members"]; e.group && (ok || len(e.members) > 0) {
		members = []store.Member{}
	}
	for _, op := range e.finishMembers() {
		// A PUT/POST body gives the membership as a whole: there is one
		// replace at most.
		if op.Kind == ReplaceMembers {
			members = op.Members
		}
	}
	return e.doc, members, nil
}
