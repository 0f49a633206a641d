package scim

import (
	"fmt"
	"strings"

	"github.com/scimkit/scim/internal/schema"
	"github.com/scimkit/scim/store"
)

// RolePolicy declares how the app's role travels in SCIM: which attribute
// carries it, the values it may take, and what happens to missing or
// unknown values. The zero RolePolicy means the app has no role attribute.
type RolePolicy struct {
	// Attribute is the role attribute's name in the core User namespace,
	// sent by the IdP as a top-level key ("memberRole", as GrowthBook's
	// "growthbookRole"). It is listed in /Schemas with Values as its
	// canonicalValues.
	Attribute string

	// ExtensionURN, when set, also accepts the attribute inside this
	// extension schema (as Entra sends custom attributes:
	// "urn:ietf:params:scim:schemas:extension:acme:2.0:User": {"memberRole": …}).
	ExtensionURN string

	// Values are the roles an IdP may assign.
	Values []string

	// CaseInsensitive matches values ignoring letter case; the stored value
	// is the one spelled in Values.
	CaseInsensitive bool

	// Default is the org's default role, given to a new user without a role
	// or with an unknown one. It must be one of Values.
	Default string

	// Keep is a keyword (Eppo's "default") meaning: an existing user keeps
	// their role, a new user gets Default.
	Keep string
}

func (p RolePolicy) enabled() bool { return p.Attribute != "" }

func (p RolePolicy) validate() error {
	if !p.enabled() {
		if p.ExtensionURN != "" || len(p.Values) > 0 || p.Default != "" || p.Keep != "" {
			return fmt.Errorf("scim: RolePolicy.Attribute is required when other RolePolicy fields are set")
		}
		return nil
	}
	if strings.ContainsAny(p.Attribute, ":.[] ") {
		return fmt.Errorf("scim: RolePolicy.Attribute %q must be a plain attribute name", p.Attribute)
	}
	if p.ExtensionURN != "" && !strings.HasPrefix(p.ExtensionURN, "urn:") {
		return fmt.Errorf("scim: RolePolicy.ExtensionURN %q must be a URN", p.ExtensionURN)
	}
	if len(p.Values) == 0 {
		return fmt.Errorf("scim: RolePolicy.Values is empty")
	}
	if _, ok := p.match(p.Default); !ok {
		return fmt.Errorf("scim: RolePolicy.Default %q is not one of Values", p.Default)
	}
	return nil
}

// match returns the canonical spelling of v if it is an allowed value.
func (p RolePolicy) match(v string) (string, bool) {
	for _, allowed := range p.Values {
		if allowed == v || (p.CaseInsensitive && strings.EqualFold(allowed, v)) {
			return allowed, true
		}
	}
	return "", false
}

// attr returns the schema definition of the role attribute.
func (p RolePolicy) attr() *schema.Attr {
	return &schema.Attr{
		Name: p.Attribute, Type: schema.String, CaseExact: !p.CaseInsensitive,
		Mutability: schema.ReadWrite, Returned: schema.Default, Uniqueness: "none",
		CanonicalValues: append([]string(nil), p.Values...),
		Description:     "The user's role in the organization.",
	}
}

// extension returns the extension schema that also carries the role, or nil.
func (p RolePolicy) extension() *schema.Schema {
	if !p.enabled() || p.ExtensionURN == "" {
		return nil
	}
	return &schema.Schema{
		ID: p.ExtensionURN, Name: "AppUser", Description: "Application-specific user attributes.",
		Attributes: []*schema.Attr{p.attr()},
	}
}

// apply resolves the role of a user being written: attrs are the new
// attributes, previous the stored ones (nil for a new user). It moves a role
// sent in the extension into the core attribute and replaces the keep
// keyword, a missing value or an unknown value as the policy says.
func (p RolePolicy) apply(attrs, previous store.Attributes) {
	if !p.enabled() {
		return
	}
	sent, hasSent := attrs[p.Attribute].(string)
	if p.ExtensionURN != "" {
		if ext, ok := attrs[p.ExtensionURN].(map[string]any); ok {
			if v, ok := ext[p.Attribute].(string); ok && !hasSent {
				sent, hasSent = v, true
			}
			delete(ext, p.Attribute)
			if len(ext) == 0 {
				delete(attrs, p.ExtensionURN)
			}
		}
	}
	current, hasCurrent := previous[p.Attribute].(string)
	role := p.Default
	switch {
	case hasSent && p.Keep != "" && strings.EqualFold(sent, p.Keep), !hasSent:
		if hasCurrent {
			role = current
		}
	default:
		if v, ok := p.match(sent); ok {
			role = v
		}
	}
	attrs[p.Attribute] = role
}
