package scim

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/scimkit/scim/internal/schema"
)

// ErrInvalidConfig is matched (errors.Is) by every error NewHandler returns
// for a role policy or configuration that cannot work. The error's text
// names the field and says what is wrong.
var ErrInvalidConfig = errors.New("scim: invalid configuration")

type configError struct{ msg string }

func (e *configError) Error() string        { return e.msg }
func (e *configError) Is(target error) bool { return target == ErrInvalidConfig }

// invalid returns an error matching ErrInvalidConfig.
func invalid(format string, args ...any) error {
	return &configError{msg: "scim: " + fmt.Sprintf(format, args...)}
}

// standardUser is the User resource type without the app's attributes:
// the names a role attribute may not take.
var standardUser = schema.NewUser(nil)

// standardGroup is the Group resource type without the app's attributes.
var standardGroup = schema.NewGroup(nil)

// checkRoleAttribute refuses a role attribute that would overwrite a
// standard attribute (a POST would then store "emails":"viewer") or an
// extension URN that is not the app's own.
func (p RolePolicy) checkRoleAttribute() error {
	if !p.enabled() {
		return nil
	}
	core, enterprise := standardUser.Core, standardUser.Extensions[0].Schema
	if !p.usesRoles() {
		if a := core.Attr(p.Attribute); a != nil || schema.Common(p.Attribute) != nil {
			return invalid("RolePolicy.Attribute %q is an attribute of the core User schema; name the app's own attribute (such as %q), or use \"roles\"", p.Attribute, "memberRole")
		}
		if enterprise.Attr(p.Attribute) != nil {
			return invalid("RolePolicy.Attribute %q is an attribute of the enterprise User extension; name the app's own attribute", p.Attribute)
		}
	}
	if _, ok := standardUser.IsSchemaURN(p.ExtensionURN); p.ExtensionURN != "" && ok {
		return invalid("RolePolicy.ExtensionURN %q is a standard schema; use a URN of the app's own, such as \"urn:ietf:params:scim:schemas:extension:example:2.0:User\"", p.ExtensionURN)
	}
	return nil
}

// checkBaseURL refuses a BaseURL that cannot prefix a Location header.
func checkBaseURL(base string) error {
	if base == "" {
		return nil
	}
	u, err := url.Parse(base)
	switch {
	case err != nil:
		return invalid("Config.BaseURL %q is not a URL: %v", base, err)
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return invalid("Config.BaseURL %q must be an absolute http or https URL, such as \"https://app.example.com/scim/v2\"", base)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return invalid("Config.BaseURL %q must have no query, fragment or user information", base)
	}
	return nil
}

// validate refuses negative limits other than -1 (off), and a MaxPageSize
// that is not positive or 0 (the default).
func (l Limits) validate() error {
	if l.MaxBodyBytes < -1 {
		return invalid("Limits.MaxBodyBytes is %d: use a positive number, 0 for the default or -1 for no limit", l.MaxBodyBytes)
	}
	if l.MaxPageSize < 0 {
		return invalid("Limits.MaxPageSize is %d: use a positive number or 0 for the default; a page size cannot be unlimited", l.MaxPageSize)
	}
	ints := []struct {
		name string
		v    int
	}{
		{"MaxOperations", l.MaxOperations}, {"MaxMembers", l.MaxMembers}, {"MaxValues", l.MaxValues},
		{"MaxFilterLength", l.MaxFilterLength}, {"MaxFilterDepth", l.MaxFilterDepth},
		{"MaxConcurrent", l.MaxConcurrent}, {"Burst", l.Burst},
	}
	for _, f := range ints {
		if f.v < -1 {
			return invalid("Limits.%s is %d: use a positive number, 0 for the default or -1 for no limit", f.name, f.v)
		}
	}
	if l.RequestsPerSecond < 0 && l.RequestsPerSecond != -1 {
		return invalid("Limits.RequestsPerSecond is %v: use a positive number, 0 for the default or -1 for no limit", l.RequestsPerSecond)
	}
	if l.Timeout < 0 && l.Timeout != -1 {
		return invalid("Limits.Timeout is %v: use a positive duration, 0 for the default or -1 for none", l.Timeout)
	}
	return nil
}
