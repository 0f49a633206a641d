// Package scimerr defines the SCIM protocol error (RFC 7644 §3.12) shared by
// the internal packages; the root package converts it to scim.Error where
// it answers the client.
package scimerr

import (
	"fmt"
	"net/http"
)

// scimType values of RFC 7644 §3.12, table 9.
const (
	InvalidFilter = "invalidFilter"
	TooMany       = "tooMany"
	Uniqueness    = "uniqueness"
	Mutability    = "mutability"
	InvalidSyntax = "invalidSyntax"
	InvalidPath   = "invalidPath"
	NoTarget      = "noTarget"
	InvalidValue  = "invalidValue"
	InvalidVers   = "invalidVers"
	Sensitive     = "sensitive"
)

// Error is a SCIM error response: an HTTP status, an optional scimType and
// a human-readable detail that is safe to show the client.
type Error struct {
	Status   int
	ScimType string
	Detail   string
}

// Error returns a one-line description for logs.
func (e *Error) Error() string {
	if e.ScimType != "" {
		return fmt.Sprintf("scim %d %s: %s", e.Status, e.ScimType, e.Detail)
	}
	return fmt.Sprintf("scim %d: %s", e.Status, e.Detail)
}

// New returns an Error with the given status, scimType and formatted detail.
func New(status int, scimType, format string, args ...any) *Error {
	return &Error{Status: status, ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

// BadRequest returns a 400 Error with the given scimType and detail.
func BadRequest(scimType, format string, args ...any) *Error {
	return New(http.StatusBadRequest, scimType, format, args...)
}
