package scim

import (
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/scimkit/scim/internal/jsonenc"
	"github.com/scimkit/scim/internal/schema"
	"github.com/scimkit/scim/store"
)

// RolePolicy declares how the app's role travels in SCIM: which attribute
// carries it, the values it may take, what happens to missing and unknown
// values, who may never be demoted or removed, and which groups grant
// project roles. The zero RolePolicy means the app has no role attribute.
//
// A role value is resolved on every write of a user, in this order:
//   - the value the user already has (sent back unchanged, as Okta does
//     when it PUTs a user it read) keeps it, even when it is not one of
//     Values (the org owner's "owner");
//   - the Keep keyword, or no value at all, keeps an existing user's role
//     and gives a new user the re-provisioning role (Default, or their
//     previous role under ReprovisionPrevious): a PUT without the
//     attribute keeps the role, as Okta's PUT may omit it;
//   - a PATCH that removes the attribute (remove or a null value, at the
//     top level, under ExtensionURN, or the whole extension) and sends no
//     other value for it resets the user to Default: for a Protected user,
//     a change of role, refused;
//   - one of Values, at or below Ceiling, is the role;
//   - anything else is refused with 400 invalidValue under UnknownRefuse,
//     and gives Default under UnknownDefault (the zero value).
type RolePolicy struct {
	// Attribute is the role attribute: a name in the core User namespace,
	// sent as a top-level key ("memberRole", as GrowthBook's
	// "growthbookRole"), or "roles" for the standard multi-valued attribute
	// (the primary element's value, else the first). It is listed in
	// /Schemas with Values as its canonicalValues.
	Attribute string

	// ExtensionURN, when set, also accepts the attribute inside this
	// extension schema (as Entra sends custom attributes:
	// "urn:ietf:params:scim:schemas:extension:acme:2.0:User": {"memberRole": …}),
	// and returns it there as well as at the top level.
	ExtensionURN string

	// Values are the roles an IdP may assign, lowest first: the order
	// defines Ceiling and which of several group grants wins.
	Values []string

	// CaseInsensitive matches values ignoring letter case; the stored value
	// is the one spelled in Values.
	CaseInsensitive bool

	// Default is the org's default role. It must be one of Values.
	Default string

	// Keep is a keyword (Eppo's "default") meaning: an existing user keeps
	// their role, a new user gets the re-provisioning role.
	Keep string

	// Unknown says what an unknown value does: UnknownDefault (fall back to
	// Default, GrowthBook) or UnknownRefuse (400 invalidValue).
	Unknown UnknownRole

	// Ceiling is the highest role SCIM may grant; values above it are
	// treated as unknown. "" allows every value of Values.
	Ceiling string

	// Reprovision is the role of a user deprovisioned (deleted) and
	// provisioned again without a role value: ReprovisionDefault or
	// ReprovisionPrevious (needs a store whose Tx implements
	// store.DepartureRecorder; others give Default).
	Reprovision ReprovisionRule

	// ResetOnReactivate gives a reactivated user the re-provisioning role,
	// for apps where deactivation removes a user from the org (GrowthBook).
	ResetOnReactivate bool

	// Protected lists roles whose holders (the org owner) SCIM can never
	// deactivate, delete, or change the role of: such requests get 403 and
	// a ProtectedRefused event, and change nothing.
	Protected []string

	// GroupRoles grant project roles through group membership (Statsig's
	// "Statsig-<Project>-<Role>" groups); see GroupRole and Handler.Roles.
	GroupRoles []GroupRole
}

// UnknownRole says what a role value outside RolePolicy.Values does.
type UnknownRole int

const (
	// UnknownDefault gives the org default role.
	UnknownDefault UnknownRole = iota
	// UnknownRefuse answers 400 invalidValue.
	UnknownRefuse
)

// ReprovisionRule is the role of a user provisioned again after being
// deprovisioned.
type ReprovisionRule int

const (
	// ReprovisionDefault gives the org default role.
	ReprovisionDefault ReprovisionRule = iota
	// ReprovisionPrevious restores the role the user had when deprovisioned.
	ReprovisionPrevious
)

func (p RolePolicy) enabled() bool { return p.Attribute != "" }

func (p RolePolicy) usesRoles() bool { return p.Attribute == "roles" }

func (p RolePolicy) validate() error {
	if !p.enabled() {
		if p.ExtensionURN != "" || len(p.Values) > 0 || p.Default != "" || p.Keep != "" ||
			len(p.Protected) > 0 || len(p.GroupRoles) > 0 || p.Ceiling != "" {
			return invalid("RolePolicy.Attribute is required when other RolePolicy fields are set")
		}
		return nil
	}
	if strings.ContainsAny(p.Attribute, ":.[] ") {
		return invalid("RolePolicy.Attribute %q must be a plain attribute name", p.Attribute)
	}
	if p.ExtensionURN != "" && !strings.HasPrefix(p.ExtensionURN, "urn:") {
		return invalid("RolePolicy.ExtensionURN %q must be a URN", p.ExtensionURN)
	}
	if len(p.Values) == 0 {
		return invalid("RolePolicy.Values is empty")
	}
	if p.rank(p.Default) < 0 {
		return invalid("RolePolicy.Default %q is not one of Values", p.Default)
	}
	if p.Ceiling != "" && p.rank(p.Ceiling) < 0 {
		return invalid("RolePolicy.Ceiling %q is not one of Values", p.Ceiling)
	}
	if p.Ceiling != "" && p.rank(p.Default) > p.rank(p.Ceiling) {
		return invalid("RolePolicy.Default %q is above Ceiling %q", p.Default, p.Ceiling)
	}
	for _, g := range p.GroupRoles {
		if err := g.validate(); err != nil {
			return err
		}
	}
	return nil
}

// rank returns the position of v in Values (-1 when absent).
func (p RolePolicy) rank(v string) int {
	return slices.IndexFunc(p.Values, func(allowed string) bool {
		return allowed == v || (p.CaseInsensitive && strings.EqualFold(allowed, v))
	})
}

// grantable returns the canonical spelling of v when SCIM may grant it.
func (p RolePolicy) grantable(v string) (string, bool) {
	i := p.rank(v)
	if i < 0 || (p.Ceiling != "" && i > p.rank(p.Ceiling)) {
		return "", false
	}
	return p.Values[i], true
}

func (p RolePolicy) protected(role string) bool {
	return role != "" && slices.Contains(p.Protected, role)
}

// attr returns the schema definition of the role attribute.
func (p RolePolicy) attr() *schema.Attr {
	return &schema.Attr{
		Name: p.Attribute, Type: schema.String, CaseExact: !p.CaseInsensitive,
		Mutability: schema.ReadWrite, Returned: schema.Default, Uniqueness: "none",
		CanonicalValues: append([]string(nil), p.Values...),
		Description: "The user's role in the organization. Omitted from a PUT or PATCH, it is kept; " +
			"removed by a PATCH (remove or null), it is reset to the default role " +
			quote(p.Default) + " (refused with 403 for a protected user such as the owner).",
	}
}

// managedAttr is the read-only flag telling the IdP whether SCIM manages a
// user, returned in the app's extension.
var managedAttr = &schema.Attr{
	Name: "managed", Type: schema.Boolean, Mutability: schema.ReadOnly, Returned: schema.Default,
	Description: "Whether the user is managed through SCIM (false for app users not yet linked).",
}

// extension returns the app's extension schema, or nil.
func (p RolePolicy) extension() *schema.Schema {
	if !p.enabled() || p.ExtensionURN == "" {
		return nil
	}
	attrs := []*schema.Attr{managedAttr}
	if !p.usesRoles() {
		attrs = []*schema.Attr{p.attr(), managedAttr}
	}
	return &schema.Schema{
		ID: p.ExtensionURN, Name: "AppUser", Description: "Application-specific user attributes.",
		Attributes: attrs,
	}
}

// sent extracts the role value a request carries, given the user's
// current role ("" for a new user), and removes it from the extension (the
// role is stored at the top level). A value in the extension wins when the
// top-level one is missing or still the current role: a PATCH or PUT that
// changes only the extension's value (Entra) changes the role. An empty
// value is no value.
func (p RolePolicy) sent(attrs store.Attributes, current string) (string, bool) {
	if p.usesRoles() {
		list, _ := attrs["roles"].([]any)
		first := ""
		for i, el := range list {
			m, _ := el.(map[string]any)
			v, _ := m["value"].(string)
			if m["primary"] == true {
				return v, strings.TrimSpace(v) != ""
			}
			if i == 0 {
				first = v
			}
		}
		return first, strings.TrimSpace(first) != ""
	}
	v, ok := attrs[p.Attribute].(string)
	ok = ok && strings.TrimSpace(v) != ""
	if p.ExtensionURN != "" {
		if ext, isMap := attrs[p.ExtensionURN].(map[string]any); isMap {
			if ev, has := ext[p.Attribute].(string); has && strings.TrimSpace(ev) != "" &&
				(!ok || (current != "" && strings.EqualFold(v, current))) {
				v, ok = ev, true
			}
			delete(ext, p.Attribute)
			delete(ext, managedAttr.Name)
			if len(ext) == 0 {
				delete(attrs, p.ExtensionURN)
			}
		}
	}
	return v, ok
}

// resolve returns the role of a user being written. attrs are the new
// attributes (the role in them is replaced by the resolved one); current
// is the stored user (nil for a new one); previous is the role to give a
// new user who comes back ("" for none).
func (p RolePolicy) resolve(attrs store.Attributes, current *store.User, previous string) (string, error) {
	if !p.enabled() {
		return "", nil
	}
	currentRole := ""
	if current != nil {
		currentRole = current.Role
	}
	value, hasValue := p.sent(attrs, currentRole)
	role := ""
	switch {
	case current != nil && hasValue && current.Role != "" && strings.EqualFold(value, current.Role):
		role = current.Role
	case !hasValue || (p.Keep != "" && strings.EqualFold(value, p.Keep)):
		switch {
		case current != nil && current.Role != "":
			role = current.Role
		case previous != "" && p.Reprovision == ReprovisionPrevious:
			role = previous
		default:
			role = p.Default
		}
	default:
		v, ok := p.grantable(value)
		switch {
		case ok:
			role = v
		case p.Unknown == UnknownRefuse:
			return "", &Error{Status: http.StatusBadRequest, ScimType: ScimTypeInvalidValue,
				Detail: fmt.Sprintf("%s %s is not one of %s", p.Attribute, quote(value), strings.Join(p.grantableValues(), ", "))}
		default:
			role = p.Default
		}
	}
	p.setRole(attrs, role)
	return role, nil
}

// dropRole removes the role value from attrs when it is role (any case),
// so that resolve treats it as not sent.
func (p RolePolicy) dropRole(attrs store.Attributes, role string) {
	if !p.enabled() {
		return
	}
	if v, ok := p.sent(attrs, role); ok && strings.EqualFold(v, role) {
		if p.usesRoles() {
			delete(attrs, "roles")
		} else {
			delete(attrs, p.Attribute)
		}
	}
}

// patchView returns the attributes a PATCH of a user applies to: the
// stored ones with the role also in the app's extension, where the user
// as rendered has it, so that a path into the extension
// ("urn:…:User:memberRole", or the whole extension) finds the role there.
// attrs is not modified. settlePatch undoes it.
func (p RolePolicy) patchView(attrs store.Attributes) store.Attributes {
	role, _ := attrs[p.Attribute].(string)
	if !p.enabled() || p.usesRoles() || p.ExtensionURN == "" || role == "" {
		return attrs
	}
	view := maps.Clone(attrs)
	ext := map[string]any{p.Attribute: role}
	if old, ok := attrs[p.ExtensionURN].(map[string]any); ok {
		for k, v := range old {
			if k != p.Attribute {
				ext[k] = v
			}
		}
	}
	view[p.ExtensionURN] = ext
	return view
}

// settlePatch turns the outcome of a PATCH of patchView(before) back into
// stored attributes with one role value, and decides what removing the
// role means: a PATCH that removes the role attribute (remove or a null
// value, at the top level, in the app's extension, or the whole extension)
// and sends no other value resets the user to Default, as an unknown value
// does; for a protected user that is a change of role, and refused. A role
// value sent at either place wins over a removal at the other; an empty
// value is no value, and keeps the role.
func (p RolePolicy) settlePatch(before, after store.Attributes) {
	if !p.enabled() {
		return
	}
	if p.usesRoles() {
		if had, _ := p.roleOf(before); had && !p.hasRoles(after) {
			p.setRole(after, p.Default)
		}
		return
	}
	current, _ := before[p.Attribute].(string)
	if strings.TrimSpace(current) == "" {
		return
	}
	// An empty value is no value (see sent): it keeps the role, where
	// an absent one was removed.
	top, topKept := after[p.Attribute]
	ext, extKept := any(current), true // nowhere else to remove it from
	if p.ExtensionURN != "" {
		ext, extKept = nil, false
		if m, isMap := after[p.ExtensionURN].(map[string]any); isMap {
			ext, extKept = m[p.Attribute]
			delete(m, p.Attribute)
			if len(m) == 0 {
				delete(after, p.ExtensionURN)
			}
		}
	}
	changed := func(v any) (string, bool) {
		s, ok := v.(string)
		return s, ok && strings.TrimSpace(s) != "" && !strings.EqualFold(s, current)
	}
	if v, ok := changed(top); ok {
		after[p.Attribute] = v
	} else if v, ok := changed(ext); ok {
		after[p.Attribute] = v
	} else if !topKept || !extKept {
		after[p.Attribute] = p.Default
	} else {
		after[p.Attribute] = current
	}
}

// roleOf reports whether attrs carry a role value in the standard roles
// attribute.
func (p RolePolicy) roleOf(attrs store.Attributes) (bool, string) {
	list, _ := attrs["roles"].([]any)
	for _, el := range list {
		m, _ := el.(map[string]any)
		if v, _ := m["value"].(string); strings.TrimSpace(v) != "" {
			return true, v
		}
	}
	return false, ""
}

func (p RolePolicy) hasRoles(attrs store.Attributes) bool {
	ok, _ := p.roleOf(attrs)
	return ok
}

// setRole writes the resolved role into the attributes.
func (p RolePolicy) setRole(attrs store.Attributes, role string) {
	if p.usesRoles() {
		attrs["roles"] = []any{map[string]any{"value": role, "primary": true}}
	} else {
		attrs[p.Attribute] = role
	}
}

func (p RolePolicy) grantableValues() []string {
	if p.Ceiling == "" {
		return p.Values
	}
	return p.Values[:p.rank(p.Ceiling)+1]
}

// render writes the role and the app's extension into a rendered user. The
// role comes from User.Role, the app's own record of it, so that a role the
// app changed itself shows through SCIM even in a store that keeps it in an
// app column rather than in the attributes.
func (p RolePolicy) render(doc map[string]any, u *store.User) {
	if !p.enabled() {
		return
	}
	if u.Role != "" {
		if p.usesRoles() {
			doc["roles"] = []any{map[string]any{"value": u.Role, "primary": true}}
		} else {
			doc[p.Attribute] = u.Role
		}
	}
	if p.ExtensionURN == "" {
		return
	}
	ext := map[string]any{}
	if stored, ok := doc[p.ExtensionURN].(map[string]any); ok {
		// The app's own attributes declared in the extension.
		maps.Copy(ext, stored)
	}
	ext[managedAttr.Name] = u.Managed
	if !p.usesRoles() && u.Role != "" {
		ext[p.Attribute] = u.Role
	}
	doc[p.ExtensionURN] = ext
}

// appendRendered appends the JSON encoding of each value render sets, in
// render's order, and reports each with its key and its bytes, b[start:end]:
// the same bytes json.Marshal writes for them, without building the maps.
//
// stored holds the members of the extension's stored object (the app's own
// attributes declared in it), merged with the role and managed flag; nil
// when the user has none.
func (p RolePolicy) appendRendered(b []byte, u *store.User, stored []jsonenc.Member, added func(key string, start, end int)) []byte {
	if !p.enabled() {
		return b
	}
	if u.Role != "" {
		start := len(b)
		if p.usesRoles() {
			b = append(b, `[{"primary":true,"value":`...)
			b = jsonenc.AppendString(b, u.Role)
			b = append(b, `}]`...)
		} else {
			b = jsonenc.AppendString(b, u.Role)
		}
		added(p.Attribute, start, len(b))
	}
	if p.ExtensionURN == "" {
		return b
	}
	role := !p.usesRoles() && u.Role != ""
	if len(stored) > 0 {
		var fieldArr [2]jsonenc.Field
		fields := fieldArr[:0]
		m := len(b)
		b = strconv.AppendBool(b, u.Managed)
		fields = append(fields, jsonenc.Field{Key: managedAttr.Name, Value: b[m:len(b):len(b)]})
		if role {
			r := len(b)
			b = jsonenc.AppendString(b, u.Role)
			if p.Attribute == managedAttr.Name {
				fields = fields[:0]
			}
			fields = append(fields, jsonenc.Field{Key: p.Attribute, Value: b[r:len(b):len(b)]})
		}
		slices.SortFunc(fields, func(a, b jsonenc.Field) int { return strings.Compare(a.Key, b.Key) })
		start := len(b)
		b = jsonenc.AppendMerged(b, stored, fields)
		added(p.ExtensionURN, start, len(b))
		return b
	}
	start := len(b)
	b = append(b, '{')
	appendManaged := func(b []byte) []byte {
		b = jsonenc.AppendString(b, managedAttr.Name)
		b = append(b, ':')
		return strconv.AppendBool(b, u.Managed)
	}
	appendRole := func(b []byte) []byte {
		b = jsonenc.AppendString(b, p.Attribute)
		b = append(b, ':')
		return jsonenc.AppendString(b, u.Role)
	}
	switch {
	case !role:
		b = appendManaged(b)
	case p.Attribute == managedAttr.Name: // the role replaces it, as in the map
		b = appendRole(b)
	case p.Attribute < managedAttr.Name:
		b = append(appendRole(b), ',')
		b = appendManaged(b)
	default:
		b = append(appendManaged(b), ',')
		b = appendRole(b)
	}
	b = append(b, '}')
	added(p.ExtensionURN, start, len(b))
	return b
}

func attrsEqual(a, b store.Attributes) bool { return reflect.DeepEqual(a, b) }
