package scim

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/scimkit/scim/internal/schema"
	"github.com/scimkit/scim/store"
)

// Schema declares the app's own attributes of users and groups, beyond the
// standard ones (RFC 7643 core User and Group, and the enterprise User
// extension, which are always served whole). A declared attribute is
// validated by its type, stored in store.User.Attributes or
// store.Group.Attributes (top-level attributes by name, extension
// attributes in a map under the extension's URN), returned as its Returned
// says, PATCHable by every path form identity providers send, filterable,
// and listed in /Schemas and /ResourceTypes, where Okta's and Entra's
// schema discovery find it. Read it back with store.AttrString and its
// siblings.
//
// Attributes that are neither standard nor declared are ignored: a POST or
// PUT that carries them succeeds without storing them, and a PATCH naming
// one with a path answers 400 invalidPath.
type Schema struct {
	// User lists attributes of the core User namespace, sent as top-level
	// keys ("seatType").
	User []Attribute

	// UserExtensions lists extension schemas of the app's own for users
	// ("urn:ietf:params:scim:schemas:extension:acme:2.0:User"). One of them
	// may be RolePolicy.ExtensionURN: its attributes are then served
	// beside the role attribute.
	UserExtensions []Extension

	// Group lists attributes of the core Group namespace.
	Group []Attribute

	// GroupExtensions lists extension schemas of the app's own for groups.
	GroupExtensions []Extension
}

// Extension is an extension schema of the app's own (RFC 7643 §3.3).
type Extension struct {
	// URN is the schema's id, such as
	// "urn:ietf:params:scim:schemas:extension:acme:2.0:User". Required; it
	// may not be a standard schema's.
	URN string

	// Name is the schema's name in /Schemas. Default: the URN's last part.
	Name string

	// Description is the schema's description in /Schemas.
	Description string

	// Attributes are the extension's attributes.
	Attributes []Attribute

	// Required makes a POST or PUT without the extension (no attribute of
	// it) answer 400 invalidValue, and is advertised in /ResourceTypes.
	Required bool
}

// Attribute declares one attribute or sub-attribute (RFC 7643 §2.2, §7).
// The zero values of Type, Mutability and Returned are string, readWrite
// and default.
type Attribute struct {
	// Name is the attribute's name: a letter, then letters, digits, "_"
	// or "-" (RFC 7643 §2.1). Clients may send it in any letter case; it is
	// stored as spelled here.
	Name string

	// Type is the attribute's data type. Values are checked and stored in
	// their JSON form: strings (string, reference, binary, dateTime as RFC
	// 3339 text), booleans (also sent as "True"/"False"), numbers
	// (float64; integer refuses fractions), maps for complex.
	Type AttributeType

	// SubAttributes are the sub-attributes of a complex attribute, which
	// are not complex themselves.
	SubAttributes []Attribute

	// MultiValued makes the attribute a list of values.
	MultiValued bool

	// Mutability says who writes the attribute. ReadOnly attributes are
	// the app's: a POST or PUT ignores them and keeps the stored value,
	// a PATCH naming one answers 400 mutability. Immutable ones are set
	// once: a PUT or PATCH that changes the stored value answers 400
	// mutability (a PUT that leaves it out keeps it). WriteOnly ones are
	// stored and never returned. A sub-attribute is ReadWrite or
	// WriteOnly.
	Mutability Mutability

	// Returned says when the attribute is returned: ReturnedDefault,
	// ReturnedAlways (also when excludedAttributes names it),
	// ReturnedRequest (only when attributes names it) or ReturnedNever.
	Returned Returned

	// CaseExact compares the attribute's values with case in filters and
	// in CanonicalValues.
	CaseExact bool

	// CanonicalValues are the values the app expects, advertised in
	// /Schemas. They are enforced only with CanonicalOnly.
	CanonicalValues []string

	// CanonicalOnly refuses, with 400 invalidValue, a value outside
	// CanonicalValues, and stores a value matched ignoring case (unless
	// CaseExact) in its canonical spelling. String and reference
	// attributes only.
	CanonicalOnly bool

	// Required makes a POST or PUT without the attribute answer 400
	// invalidValue, and a PATCH that removes it too. A required
	// sub-attribute is required in each value of its attribute.
	Required bool

	// Description is the attribute's description in /Schemas.
	Description string
}

// AttributeType is an attribute's data type (RFC 7643 §2.3).
type AttributeType string

// The attribute types.
const (
	// TypeString is text; the zero AttributeType means it.
	TypeString AttributeType = "string"
	// TypeBoolean is true or false (also sent as "True" and "False").
	TypeBoolean AttributeType = "boolean"
	// TypeInteger is a whole number, stored as float64.
	TypeInteger AttributeType = "integer"
	// TypeDecimal is a number, stored as float64.
	TypeDecimal AttributeType = "decimal"
	// TypeDateTime is an RFC 3339 time, stored as sent.
	TypeDateTime AttributeType = "dateTime"
	// TypeReference is a URI, stored as text.
	TypeReference AttributeType = "reference"
	// TypeBinary is base64 text, stored as sent.
	TypeBinary AttributeType = "binary"
	// TypeComplex is an object of SubAttributes, stored as a map.
	TypeComplex AttributeType = "complex"
)

// Mutability says who may write an attribute (RFC 7643 §2.2).
type Mutability string

// The mutabilities.
const (
	// ReadWrite attributes are written by the IdP; the zero Mutability
	// means it.
	ReadWrite Mutability = "readWrite"
	// ReadOnly attributes are the app's: requests cannot change them.
	ReadOnly Mutability = "readOnly"
	// Immutable attributes are set once, and cannot change afterwards.
	Immutable Mutability = "immutable"
	// WriteOnly attributes are stored and never returned.
	WriteOnly Mutability = "writeOnly"
)

// Returned says when an attribute is returned (RFC 7643 §2.2).
type Returned string

// The returned characteristics.
const (
	// ReturnedDefault attributes are returned unless excludedAttributes
	// names them; the zero Returned means it.
	ReturnedDefault Returned = "default"
	// ReturnedAlways attributes are returned whatever attributes and
	// excludedAttributes say.
	ReturnedAlways Returned = "always"
	// ReturnedRequest attributes are returned only when attributes names
	// them.
	ReturnedRequest Returned = "request"
	// ReturnedNever attributes are stored and never returned.
	ReturnedNever Returned = "never"
)

// declared is what a Handler enforces of one resource type's declared
// attributes beyond what the PATCH engine does: required attributes and
// extensions on POST and PUT, and the stored values of read-only and
// immutable attributes.
type declared struct {
	required   []store.Path // top-level attributes
	requiredIn []store.Path // required sub-attributes (Path.Sub set)
	extensions []string     // required extension URNs
	readOnly   []store.Path // top-level
	immutable  []store.Path // top-level
}

// compileSchema checks the declarations of one resource type and returns
// its extra core attributes, its extensions and what the handler
// enforces. field prefixes error messages ("Config.Schema.User"); std is
// the resource type without the app's attributes; roleExt is the role
// policy's extension schema (users only, or nil), into which a declared
// extension of the same URN is merged.
func compileSchema(kind string, core []Attribute, exts []Extension, std *schema.ResourceType,
	reserved []string, roleExt *schema.Schema) ([]*schema.Attr, []*schema.Schema, []bool, declared, error) {
	var d declared
	field := "Config.Schema." + kind
	coreAttrs, err := compileAttrs(field, core, "", &d, func(name string) string {
		if std.Core.Attr(name) != nil || schema.Common(name) != nil {
			return "an attribute of the core " + kind + " schema"
		}
		for _, e := range std.Extensions {
			if e.Schema.Attr(name) != nil {
				return "an attribute of the standard extension " + e.Schema.ID + "; send it there"
			}
		}
		for _, r := range reserved {
			if strings.EqualFold(r, name) {
				return "the role attribute (RolePolicy.Attribute)"
			}
		}
		return ""
	})
	if err != nil {
		return nil, nil, nil, d, err
	}
	var out []*schema.Schema
	var required []bool
	for i, e := range exts {
		f := field + "Extensions[" + strconv.Itoa(i) + "]"
		if err := checkURN(f+".URN", e.URN, std); err != nil {
			return nil, nil, nil, d, err
		}
		for _, prev := range exts[:i] {
			if strings.EqualFold(prev.URN, e.URN) {
				return nil, nil, nil, d, invalid("%s.URN %q is declared twice", f, e.URN)
			}
		}
		for _, prev := range exts {
			if prev.URN != e.URN && len(prev.URN) > len(e.URN) && strings.EqualFold(prev.URN[:len(e.URN)+1], e.URN+":") {
				return nil, nil, nil, d, invalid("%s.URN %q prefixes the extension %q: attribute paths would be ambiguous", f, e.URN, prev.URN)
			}
		}
		var inRole *schema.Schema
		if roleExt != nil && strings.EqualFold(roleExt.ID, e.URN) {
			if roleExt.ID != e.URN {
				return nil, nil, nil, d, invalid("%s.URN %q differs from RolePolicy.ExtensionURN %q only in letter case: spell them alike", f, e.URN, roleExt.ID)
			}
			inRole = roleExt
		}
		attrs, err := compileAttrs(f+".Attributes", e.Attributes, e.URN, &d, func(name string) string {
			if inRole != nil && inRole.Attr(name) != nil {
				return "served by the role policy in this extension"
			}
			return ""
		})
		if err != nil {
			return nil, nil, nil, d, err
		}
		if e.Required {
			d.extensions = append(d.extensions, e.URN)
		}
		if inRole != nil {
			inRole.Attributes = append(inRole.Attributes, attrs...)
			if e.Name != "" {
				inRole.Name = e.Name
			}
			if e.Description != "" {
				inRole.Description = e.Description
			}
			if e.Required {
				return nil, nil, nil, d, invalid("%s.Required: the role policy's extension cannot be required", f)
			}
			continue
		}
		name := e.Name
		if name == "" {
			name = e.URN[strings.LastIndexByte(e.URN, ':')+1:]
		}
		out = append(out, &schema.Schema{ID: e.URN, Name: name, Description: e.Description, Attributes: attrs})
		required = append(required, e.Required)
	}
	return coreAttrs, out, required, d, nil
}

// checkURN refuses an extension URN that is not a URN or that is a
// standard schema's.
func checkURN(field, urn string, std *schema.ResourceType) error {
	parts := strings.Split(urn, ":")
	switch {
	case urn == "":
		return invalid("%s is empty", field)
	case len(parts) < 3 || !strings.EqualFold(parts[0], "urn") || parts[1] == "" || parts[len(parts)-1] == "":
		return invalid("%s %q is not a URN; use one such as \"urn:ietf:params:scim:schemas:extension:acme:2.0:User\"", field, urn)
	case strings.ContainsAny(urn, " \t\r\n\"[]{}\\/?#"):
		return invalid("%s %q has a character a URN attribute path cannot carry", field, urn)
	}
	if _, ok := std.IsSchemaURN(urn); ok {
		return invalid("%s %q is a standard schema; use a URN of the app's own", field, urn)
	}
	for _, s := range []string{schema.UserURN, schema.GroupURN, schema.EnterpriseURN, schema.PatchOpURN,
		schema.ListURN, schema.SearchURN, schema.ErrorURN, schema.CoreURN1, schema.EnterpriseURN1} {
		if strings.EqualFold(s, urn) {
			return invalid("%s %q is a standard schema; use a URN of the app's own", field, urn)
		}
	}
	return nil
}

// compileAttrs checks and converts a list of declared attributes of the
// schema urn ("" for the core one). clash names why a top-level name is
// taken ("" when it is free).
func compileAttrs(field string, list []Attribute, urn string, d *declared, clash func(string) string) ([]*schema.Attr, error) {
	out := make([]*schema.Attr, 0, len(list))
	for i, a := range list {
		f := field + "[" + strconv.Itoa(i) + "]"
		if why := clash(a.Name); why != "" && a.Name != "" {
			return nil, invalid("%s.Name %q is %s", f, a.Name, why)
		}
		for _, prev := range list[:i] {
			if strings.EqualFold(prev.Name, a.Name) {
				return nil, invalid("%s.Name %q is declared twice (names are case-insensitive)", f, a.Name)
			}
		}
		c, err := compileAttr(f, a, false)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		p := store.Path{URN: urn, Name: a.Name}
		if a.Required {
			d.required = append(d.required, p)
		}
		switch c.Mutability {
		case schema.ReadOnly:
			d.readOnly = append(d.readOnly, p)
		case schema.Immutable:
			d.immutable = append(d.immutable, p)
		}
		for _, s := range a.SubAttributes {
			if s.Required {
				d.requiredIn = append(d.requiredIn, store.Path{URN: urn, Name: a.Name, Sub: s.Name})
			}
		}
	}
	return out, nil
}

// compileAttr checks one declaration and converts it.
func compileAttr(f string, a Attribute, sub bool) (*schema.Attr, error) {
	if !validName(a.Name) {
		return nil, invalid("%s.Name %q must be a letter followed by letters, digits, \"_\" or \"-\"", f, a.Name)
	}
	c := &schema.Attr{
		Name: a.Name, Type: schema.Type(a.Type), MultiValued: a.MultiValued, Description: a.Description,
		Required: a.Required, CanonicalValues: append([]string(nil), a.CanonicalValues...), CaseExact: a.CaseExact,
		Mutability: string(a.Mutability), Returned: string(a.Returned), Uniqueness: "none",
		Strict: a.CanonicalOnly,
	}
	if c.Type == "" {
		c.Type = schema.String
	}
	if c.Mutability == "" {
		c.Mutability = schema.ReadWrite
	}
	switch c.Type {
	case schema.String, schema.Boolean, schema.Integer, schema.Decimal, schema.DateTime, schema.Binary:
	case schema.Reference:
		c.ReferenceTypes = []string{"external"}
	case schema.Complex:
		if sub {
			return nil, invalid("%s.Type: a sub-attribute cannot be complex (RFC 7643 §2.3.8)", f)
		}
		if len(a.SubAttributes) == 0 {
			return nil, invalid("%s.SubAttributes is empty: a complex attribute needs sub-attributes", f)
		}
	default:
		return nil, invalid("%s.Type %q is not a SCIM type (use TypeString, TypeBoolean, TypeInteger, TypeDecimal, TypeDateTime, TypeReference, TypeBinary or TypeComplex)", f, a.Type)
	}
	if c.Type != schema.Complex && len(a.SubAttributes) > 0 {
		return nil, invalid("%s.SubAttributes is set but the type is %s, not complex", f, c.Type)
	}
	switch c.Mutability {
	case schema.ReadWrite, schema.ReadOnly, schema.Immutable:
	case schema.WriteOnly:
		if a.Returned != "" && a.Returned != ReturnedNever {
			return nil, invalid("%s.Returned %q: a writeOnly attribute is never returned", f, a.Returned)
		}
		c.Returned = schema.Never
	default:
		return nil, invalid("%s.Mutability %q is not one of readWrite, readOnly, immutable, writeOnly", f, a.Mutability)
	}
	switch c.Returned {
	case "":
		c.Returned = schema.Default
	case schema.Default, schema.Always, schema.Never, schema.Request:
	default:
		return nil, invalid("%s.Returned %q is not one of default, always, request, never", f, a.Returned)
	}
	if a.Required && c.Mutability == schema.ReadOnly {
		return nil, invalid("%s.Required: a readOnly attribute is the app's to set and cannot be required of clients", f)
	}
	if a.CanonicalOnly {
		if c.Type != schema.String && c.Type != schema.Reference {
			return nil, invalid("%s.CanonicalOnly applies to string and reference attributes, not %s", f, c.Type)
		}
		if len(a.CanonicalValues) == 0 {
			return nil, invalid("%s.CanonicalOnly is set but CanonicalValues is empty", f)
		}
	}
	for i, s := range a.SubAttributes {
		sf := f + ".SubAttributes[" + strconv.Itoa(i) + "]"
		for _, prev := range a.SubAttributes[:i] {
			if strings.EqualFold(prev.Name, s.Name) {
				return nil, invalid("%s.Name %q is declared twice (names are case-insensitive)", sf, s.Name)
			}
		}
		cs, err := compileAttr(sf, s, true)
		if err != nil {
			return nil, err
		}
		if cs.Mutability == schema.ReadOnly || cs.Mutability == schema.Immutable {
			return nil, invalid("%s.Mutability %q: a sub-attribute is readWrite or writeOnly; give the attribute itself that mutability", sf, cs.Mutability)
		}
		if s.MultiValued {
			return nil, invalid("%s.MultiValued: a sub-attribute holds one value", sf)
		}
		c.SubAttributes = append(c.SubAttributes, cs)
	}
	return c, nil
}

// validName reports whether name is an ATTRNAME of RFC 7643 §2.1.
func validName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || !(r >= '0' && r <= '9' || r == '_' || r == '-')) {
			return false
		}
	}
	return true
}

// returnedPaths fills rt.Never, rt.OnRequest and rt.Always from its
// schemas' attributes of the app's own.
func returnedPaths(rt *schema.ResourceType, coreAttrs []*schema.Attr) {
	one := func(p store.Path, returned string) {
		switch returned {
		case schema.Never:
			rt.Never = append(rt.Never, p)
		case schema.Request:
			rt.OnRequest = append(rt.OnRequest, p)
		case schema.Always:
			rt.Always = append(rt.Always, p)
		}
	}
	add := func(urn string, a *schema.Attr) {
		p := store.Path{URN: urn, Name: a.Name}
		one(p, a.Returned)
		for _, s := range a.SubAttributes {
			sp := p
			sp.Sub = s.Name
			one(sp, s.Returned)
		}
	}
	for _, a := range coreAttrs {
		add("", a)
	}
	for _, e := range rt.Extensions {
		if e.Schema.ID == schema.EnterpriseURN {
			continue
		}
		for _, a := range e.Schema.Attributes {
			add(e.Schema.ID, a)
		}
	}
}

// checkRequired refuses a POST or PUT body, normalised, that lacks a
// required declared attribute or extension.
func (d *declared) checkRequired(attrs store.Attributes) error {
	for _, p := range d.required {
		if len(store.Lookup(attrs, p)) == 0 {
			return requiredErr(p.String())
		}
	}
	for _, p := range d.requiredIn {
		parent := store.Path{URN: p.URN, Name: p.Name}
		values := store.Lookup(attrs, parent)
		for _, v := range values {
			if m, ok := v.(map[string]any); ok && m[p.Sub] == nil {
				return requiredErr(p.String())
			}
		}
	}
	for _, urn := range d.extensions {
		if m, ok := attrs[urn].(map[string]any); !ok || len(m) == 0 {
			return &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidValue,
				Detail: "the extension " + quote(urn) + " is required"}
		}
	}
	return nil
}

// checkRemoved refuses a PATCH whose result, next, lacks a required
// declared attribute or extension that prev had. (A resource stored before
// the app declared an attribute required may still be patched otherwise.)
func (d *declared) checkRemoved(prev, next store.Attributes) error {
	for _, p := range d.required {
		if len(store.Lookup(prev, p)) > 0 && len(store.Lookup(next, p)) == 0 {
			return requiredErr(p.String())
		}
	}
	for _, urn := range d.extensions {
		if _, had := prev[urn]; had {
			if m, ok := next[urn].(map[string]any); !ok || len(m) == 0 {
				return &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidValue,
					Detail: "the extension " + quote(urn) + " is required"}
			}
		}
	}
	return nil
}

func requiredErr(path string) error {
	return &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidValue,
		Detail: "attribute " + quote(path) + " is required"}
}

// carryOver keeps in next, the new attributes of a resource whose stored
// ones are prev, the app's read-only values, and an immutable value a PUT
// left out; it refuses a change of an immutable value with 400
// mutability.
func (d *declared) carryOver(prev, next store.Attributes) error {
	for _, p := range d.immutable {
		old, had := get(prev, p)
		if !had {
			continue
		}
		v, has := get(next, p)
		if !has {
			set(next, p, old)
			continue
		}
		if !attrsEqual(map[string]any{"v": old}, map[string]any{"v": v}) {
			return &Error{Status: http.StatusBadRequest, ScimType: ScimTypeMutability,
				Detail: "attribute " + quote(p.String()) + " is immutable"}
		}
	}
	for _, p := range d.readOnly {
		if old, had := get(prev, p); had {
			set(next, p, old)
		} else if _, has := get(next, p); has {
			del(next, p)
		}
	}
	return nil
}

// get, set and del read and write the top-level attribute p.Name of the
// schema p.URN.
func get(attrs store.Attributes, p store.Path) (any, bool) {
	c := attrs
	if p.URN != "" {
		c, _ = attrs[p.URN].(map[string]any)
	}
	v, ok := c[p.Name]
	return v, ok && v != nil
}

func set(attrs store.Attributes, p store.Path, v any) {
	if p.URN == "" {
		attrs[p.Name] = v
		return
	}
	c, ok := attrs[p.URN].(map[string]any)
	if !ok {
		c = map[string]any{}
	} else {
		// The map may be shared with the stored attributes.
		c = cloneMap(c)
	}
	c[p.Name] = v
	attrs[p.URN] = c
}

func del(attrs store.Attributes, p store.Path) {
	if p.URN == "" {
		delete(attrs, p.Name)
		return
	}
	c, ok := attrs[p.URN].(map[string]any)
	if !ok {
		return
	}
	c = cloneMap(c)
	delete(c, p.Name)
	if len(c) == 0 {
		delete(attrs, p.URN)
	} else {
		attrs[p.URN] = c
	}
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// markRequired marks the extensions of rt declared required.
func markRequired(rt *schema.ResourceType, exts []*schema.Schema, required []bool) {
	for i, s := range exts {
		for j := range rt.Extensions {
			if rt.Extensions[j].Schema == s {
				rt.Extensions[j].Required = required[i]
			}
		}
	}
}
