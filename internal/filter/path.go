package filter

import (
	"strings"

	"github.com/scimkit/scim/internal/schema"
	"github.com/scimkit/scim/internal/scimerr"
	"github.com/scimkit/scim/store"
)

// Path is a PATCH operation's target (RFC 7644 §3.5.2 "PATH"), resolved
// against a resource type.
//
//	userName                      Attr: userName
//	name.givenName                Attr: name, Sub givenName
//	emails[type eq "work"].value  Attr: emails, Sub value, Filter: type eq "work"
//	members[value eq "2819c223"]  Attr: members, Filter: value eq "2819c223"
//	urn:…:enterprise:2.0:User     Schema: the extension URN, Attr zero
type Path struct {
	// Attr is the resolved attribute: Attr.Attr is the top-level
	// attribute, Attr.Sub (and Attr.Path.Sub) the sub-attribute the path
	// ends at, whether written after '.' or after ']'.
	Attr schema.Resolved
	// Filter selects elements of a multi-valued attribute; its paths are
	// relative to an element (Path{Name: "type"}). Nil when the path has
	// no value filter.
	Filter store.Filter
	// Schema is set, and Attr is zero, when the path names a whole
	// extension schema ("urn:…:enterprise:2.0:User"); the operation's value
	// then holds attributes of that extension.
	Schema string
}

func pathErr(format string, args ...any) *scimerr.Error {
	return scimerr.BadRequest(scimerr.InvalidPath, format, args...)
}

// ParsePath parses a PATCH path for resources of type rt. Errors are
// *scimerr.Error with status 400 and scimType invalidPath.
func ParsePath(rt *schema.ResourceType, path string) (Path, error) {
	p, err := parsePath(rt, path)
	if err != nil {
		return Path{}, err
	}
	return p, nil
}

func parsePath(rt *schema.ResourceType, path string) (Path, *scimerr.Error) {
	path = strings.TrimSpace(path)
	if path == "" {
		return Path{}, pathErr("empty path")
	}
	if len(path) > DefaultMaxLength {
		return Path{}, pathErr("path is longer than %d bytes", DefaultMaxLength)
	}
	open := strings.IndexByte(path, '[')
	if open < 0 {
		if urn, ok := rt.IsSchemaURN(path); ok && urn != rt.Core.ID {
			return Path{Schema: urn}, nil
		}
		if !validAttrPath(path) {
			return Path{}, pathErr("invalid path %q", path)
		}
		r, err := rt.Resolve(path)
		if err != nil {
			return Path{}, pathErr("unknown attribute %q", path)
		}
		return Path{Attr: r}, nil
	}
	attr := strings.TrimRight(path[:open], " ")
	closing := strings.LastIndexByte(path, ']')
	if closing < open {
		return Path{}, pathErr("invalid path %q: unbalanced bracket", path)
	}
	rest := path[closing+1:]
	if !validAttrPath(attr) || (strings.Contains(attr, ".") && !strings.HasPrefix(strings.ToLower(attr), "urn:")) {
		return Path{}, pathErr("invalid path %q", path)
	}
	r, err := rt.Resolve(attr)
	if err != nil || r.Sub != nil {
		return Path{}, pathErr("unknown attribute %q", attr)
	}
	if !r.Attr.MultiValued {
		return Path{}, pathErr("invalid path %q: %q is not multi-valued", path, r.Path.String())
	}
	inner, _, perr := prepare(path[open+1:closing], Limits{}, true)
	if perr != nil {
		return Path{}, pathErr("invalid path %q: %s", path, strings.TrimPrefix(perr.Detail, "invalid filter: "))
	}
	t := translator{rt: rt}
	f, terr := t.innerFilter(r.Attr, inner)
	if terr != nil {
		return Path{}, pathErr("invalid path %q: %s", path, strings.TrimPrefix(terr.Detail, "invalid filter: "))
	}
	out := Path{Attr: r, Filter: f}
	if rest != "" {
		if rest[0] != '.' || !validName(rest[1:]) {
			return Path{}, pathErr("invalid path %q", path)
		}
		sub, serr := elemSub(r.Attr, rest[1:])
		if serr != nil || r.Attr.Type != schema.Complex {
			return Path{}, pathErr("unknown attribute %q", r.Path.String()+rest)
		}
		out.Attr.Sub, out.Attr.Path.Sub = sub, sub.Name
	}
	return out, nil
}
