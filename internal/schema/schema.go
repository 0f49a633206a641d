// Package schema holds the attribute definitions of the SCIM resources that
// scimkit serves (RFC 7643): the core User and Group schemas and the
// enterprise User extension, taken from github.com/elimity-com/scim, plus
// the application's own attributes. It resolves the attribute paths clients
// send, in any letter case and with or without schema URN, to canonical
// store.Path values, and it renders the /Schemas documents.
package schema

import (
	"encoding/json"
	"fmt"
	"strings"

	elimity "github.com/elimity-com/scim/schema"

	"github.com/scimkit/scim/store"
)

// URNs of the schemas and messages scimkit speaks.
const (
	UserURN       = "urn:ietf:params:scim:schemas:core:2.0:User"
	GroupURN      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	EnterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	PatchOpURN    = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	ListURN       = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	SearchURN     = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	ErrorURN      = "urn:ietf:params:scim:api:messages:2.0:Error"
)

// Older names of the schemas, accepted as aliases (Schema.Aliases).
const (
	// CoreURN1 is the SCIM 1.1 core schema, for users and groups alike
	// (OneLogin's SCIM 1.1 templates).
	CoreURN1 = "urn:scim:schemas:core:1.0"
	// EnterpriseURN1 is the SCIM 1.1 enterprise user extension.
	EnterpriseURN1 = "urn:scim:schemas:extension:enterprise:1.0"
	// ADSCIMGroupURI is the group schema URI Microsoft Entra ID sends
	// besides the core Group URN.
	ADSCIMGroupURI = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
)

// Type is an attribute's data type.
type Type string

// The data types of RFC 7643 §2.3.
const (
	String    Type = "string"
	Boolean   Type = "boolean"
	Decimal   Type = "decimal"
	Integer   Type = "integer"
	DateTime  Type = "dateTime"
	Binary    Type = "binary"
	Reference Type = "reference"
	Complex   Type = "complex"
)

// Mutability values (RFC 7643 §2.2).
const (
	ReadOnly  = "readOnly"
	ReadWrite = "readWrite"
	Immutable = "immutable"
	WriteOnly = "writeOnly"
)

// Returned values (RFC 7643 §2.2).
const (
	Always  = "always"
	Never   = "never"
	Default = "default"
	Request = "request"
)

// Attr defines one attribute or sub-attribute.
type Attr struct {
	Name            string   `json:"name"`
	Type            Type     `json:"type"`
	MultiValued     bool     `json:"multiValued"`
	Description     string   `json:"description,omitempty"`
	Required        bool     `json:"required"`
	CanonicalValues []string `json:"canonicalValues,omitempty"`
	CaseExact       bool     `json:"caseExact"`
	Mutability      string   `json:"mutability"`
	Returned        string   `json:"returned"`
	Uniqueness      string   `json:"uniqueness,omitempty"`
	ReferenceTypes  []string `json:"referenceTypes,omitempty"`
	SubAttributes   []*Attr  `json:"subAttributes,omitempty"`
	// Aliases are other names clients use for the attribute, such as the
	// SCIM 1.1 name of a renamed sub-attribute (manager.managerId). They
	// resolve like the name and are never rendered.
	Aliases []string `json:"-"`
	// Strict refuses a value outside CanonicalValues (400 invalidValue)
	// and stores a value matched ignoring case in its canonical spelling.
	Strict bool `json:"-"`
	// Discard accepts values of the attribute and never stores them
	// (password).
	Discard bool `json:"-"`
}

// Sub returns the sub-attribute named name (any letter case), or nil.
func (a *Attr) Sub(name string) *Attr { return find(a.SubAttributes, name) }

// HasSub reports whether a is complex and has a sub-attribute named name.
func (a *Attr) HasSub(name string) bool { return a.Sub(name) != nil }

func find(attrs []*Attr, name string) *Attr {
	for _, a := range attrs {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	for _, a := range attrs {
		for _, alias := range a.Aliases {
			if strings.EqualFold(alias, name) {
				return a
			}
		}
	}
	return nil
}

// Schema is one schema: core or extension.
type Schema struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Attributes  []*Attr `json:"attributes"`
	// Aliases are other URNs clients send for the schema: its SCIM 1.1 URN
	// (OneLogin's templates), or a legacy URI (Entra's ADSCIM Group). They
	// are accepted wherever the URN is, and never rendered.
	Aliases []string `json:"-"`
}

// named reports whether urn is the schema's URN or one of its aliases, in
// any letter case.
func (s *Schema) named(urn string) bool {
	if strings.EqualFold(s.ID, urn) {
		return true
	}
	for _, a := range s.Aliases {
		if strings.EqualFold(a, urn) {
			return true
		}
	}
	return false
}

// urnPrefix returns the length of the URN (or alias) of s that prefixes
// path followed by ':', or 0.
func (s *Schema) urnPrefix(path string) int {
	for _, u := range append([]string{s.ID}, s.Aliases...) {
		if len(path) > len(u) && strings.EqualFold(path[:len(u)], u) && path[len(u)] == ':' {
			return len(u)
		}
	}
	return 0
}

// Attr returns the attribute named name (any letter case), or nil.
func (s *Schema) Attr(name string) *Attr { return find(s.Attributes, name) }

// Extension is an extension schema of a resource type.
type Extension struct {
	Schema   *Schema
	Required bool
}

// ResourceType is a kind of resource (User, Group) with its schemas.
type ResourceType struct {
	Name        string
	Endpoint    string
	Description string
	Core        *Schema
	Extensions  []Extension
	// Never lists the app's attributes never returned (returned "never",
	// mutability writeOnly); OnRequest those returned only when a request
	// names them in attributes (returned "request"); Always those returned
	// whatever attributes and excludedAttributes say (returned "always").
	Never, OnRequest, Always []store.Path
}

// Common attributes every resource has (RFC 7643 §3.1).
var (
	idAttr = &Attr{Name: "id", Type: String, CaseExact: true, Mutability: ReadOnly,
		Returned: Always, Uniqueness: "server", Description: "Unique identifier for the resource, assigned by the service provider."}
	externalIDAttr = &Attr{Name: "externalId", Type: String, CaseExact: true, Mutability: ReadWrite,
		Returned: Default, Uniqueness: "none", Description: "Identifier of the resource as defined by the provisioning client."}
	metaAttr = &Attr{Name: "meta", Type: Complex, Mutability: ReadOnly, Returned: Default,
		Description: "Resource metadata.", SubAttributes: []*Attr{
			{Name: "resourceType", Type: String, CaseExact: true, Mutability: ReadOnly, Returned: Default},
			{Name: "created", Type: DateTime, Mutability: ReadOnly, Returned: Default},
			{Name: "lastModified", Type: DateTime, Mutability: ReadOnly, Returned: Default},
			{Name: "location", Type: Reference, CaseExact: true, Mutability: ReadOnly, Returned: Default},
			{Name: "version", Type: String, CaseExact: true, Mutability: ReadOnly, Returned: Default},
		}}
	schemasAttr = &Attr{Name: "schemas", Type: Reference, MultiValued: true, CaseExact: true,
		Mutability: ReadOnly, Returned: Always}
)

// Common returns the common attribute named name (id, externalId, meta,
// schemas), or nil.
func Common(name string) *Attr {
	return find([]*Attr{idAttr, externalIDAttr, metaAttr, schemasAttr}, name)
}

// FromElimity converts one of elimity's schema definitions.
func fromElimity(s elimity.Schema) *Schema {
	raw, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("schema: marshal %s: %v", s.ID, err)) // static data; cannot fail
	}
	var out Schema
	if err := json.Unmarshal(raw, &out); err != nil {
		panic(fmt.Sprintf("schema: unmarshal %s: %v", s.ID, err))
	}
	return &out
}

// NewUser returns the User resource type: the core User schema with extra
// core attributes (the app's own, such as a role attribute sent as a
// top-level key), the enterprise extension, and further extensions.
func NewUser(extraCore []*Attr, extensions ...*Schema) *ResourceType {
	core := fromElimity(elimity.CoreUserSchema())
	for _, a := range core.Attributes {
		if a.Name == "password" {
			a.Discard = true
		}
		if a.Name == "groups" {
			// RFC 7643 §4.1.2: groups are managed through the Group
			// resource; the attribute is read-only on the User.
			a.Mutability = ReadOnly
			for _, s := range a.SubAttributes {
				s.Mutability = ReadOnly
			}
		}
	}
	core.Attributes = append(core.Attributes, extraCore...)
	core.Aliases = []string{CoreURN1}
	enterprise := fromElimity(elimity.ExtensionEnterpriseUser())
	enterprise.Aliases = []string{EnterpriseURN1}
	if v := enterprise.Attr("manager").Sub("value"); v != nil {
		// SCIM 1.1 called the manager's id managerId.
		v.Aliases = []string{"managerId"}
	}
	rt := &ResourceType{
		Name: "User", Endpoint: "/Users", Description: "User Account", Core: core,
		Extensions: []Extension{{Schema: enterprise}},
	}
	for _, e := range extensions {
		rt.Extensions = append(rt.Extensions, Extension{Schema: e})
	}
	return rt
}

// NewGroup returns the Group resource type: the core Group schema with
// extra core attributes and extensions of the app's own.
func NewGroup(extraCore []*Attr, extensions ...*Schema) *ResourceType {
	core := fromElimity(elimity.CoreGroupSchema())
	for _, a := range core.Attributes {
		if a.Name == "members" {
			// The member id may be changed by replacing members; what
			// elimity marks immutable is each element's value.
			a.Mutability = ReadWrite
		}
	}
	core.Attributes = append(core.Attributes, extraCore...)
	core.Aliases = []string{CoreURN1, ADSCIMGroupURI}
	rt := &ResourceType{Name: "Group", Endpoint: "/Groups", Description: "Group", Core: core}
	for _, e := range extensions {
		rt.Extensions = append(rt.Extensions, Extension{Schema: e})
	}
	return rt
}

// Schemas returns the core schema followed by the extension schemas.
func (rt *ResourceType) Schemas() []*Schema {
	out := []*Schema{rt.Core}
	for _, e := range rt.Extensions {
		out = append(out, e.Schema)
	}
	return out
}

// Extension returns the extension schema whose URN, or one of its aliases,
// equals urn (any letter case), or nil.
func (rt *ResourceType) Extension(urn string) *Schema {
	for _, e := range rt.Extensions {
		if e.Schema.named(urn) {
			return e.Schema
		}
	}
	return nil
}

// IsSchemaURN reports whether urn names the core schema or an extension of
// rt (any letter case, or an alias), and returns its canonical spelling.
func (rt *ResourceType) IsSchemaURN(urn string) (string, bool) {
	if rt.Core.named(urn) {
		return rt.Core.ID, true
	}
	if s := rt.Extension(urn); s != nil {
		return s.ID, true
	}
	return "", false
}

// Resolved is an attribute path resolved against a resource type.
type Resolved struct {
	// Path is the canonical path.
	Path store.Path
	// Attr is the top-level attribute's definition.
	Attr *Attr
	// Sub is the sub-attribute's definition when Path.Sub is set.
	Sub *Attr
}

// Target returns the definition of the attribute the path ends at.
func (r Resolved) Target() *Attr {
	if r.Sub != nil {
		return r.Sub
	}
	return r.Attr
}

// ErrUnknownAttribute is returned by Resolve for a path that names no
// attribute of the resource type.
var ErrUnknownAttribute = fmt.Errorf("unknown attribute")

// Resolve resolves an attribute path as a client writes it ("userName",
// "name.GivenName", "emails.value", "urn:…:enterprise:2.0:User:manager.value",
// "urn:…:core:2.0:User:userName", "meta.lastModified") to its canonical form.
// Names match in any letter case.
func (rt *ResourceType) Resolve(path string) (Resolved, error) {
	urn := ""
	rest := path
	if len(path) > 4 && strings.EqualFold(path[:4], "urn:") {
		for _, s := range rt.Schemas() {
			if n := s.urnPrefix(path); n > 0 {
				urn, rest = s.ID, path[n+1:]
				break
			}
		}
		if urn == "" {
			return Resolved{}, fmt.Errorf("%w: %q", ErrUnknownAttribute, path)
		}
	}
	name, sub, _ := strings.Cut(rest, ".")
	var attr *Attr
	switch {
	case urn == "" || urn == rt.Core.ID:
		urn = ""
		attr = rt.Core.Attr(name)
		if attr == nil {
			attr = Common(name)
		}
	default:
		attr = rt.Extension(urn).Attr(name)
	}
	if attr == nil {
		return Resolved{}, fmt.Errorf("%w: %q", ErrUnknownAttribute, path)
	}
	r := Resolved{Path: store.Path{URN: urn, Name: attr.Name}, Attr: attr}
	if sub != "" {
		s := attr.Sub(sub)
		if s == nil {
			return Resolved{}, fmt.Errorf("%w: %q", ErrUnknownAttribute, path)
		}
		r.Path.Sub, r.Sub = s.Name, s
	}
	return r, nil
}
