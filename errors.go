package scim

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/scimkit/scim/internal/scimerr"
	"github.com/scimkit/scim/store"
)

// Error is a SCIM protocol error (RFC 7644 §3.12), answered to the client
// as a SCIM error response. A Store, an event hook or any other app code
// called by the handler may return an *Error (also wrapped with %w) to answer
// with it as is; any other error is logged and answered as a 500
// "internal error" without its text.
type Error struct {
	// Status is the HTTP status code of the answer, e.g. 400 or 409.
	Status int
	// ScimType is the error's scimType: one of the ScimType… constants, or
	// "" for none (RFC 7644 gives none for 401, 403, 404, 412, 500 …).
	ScimType string
	// Detail is a human-readable message, shown to the identity provider:
	// it must not hold secrets or internal error text.
	Detail string
}

// Error returns a one-line description for logs.
func (e *Error) Error() string {
	if e.ScimType != "" {
		return fmt.Sprintf("scim %d %s: %s", e.Status, e.ScimType, e.Detail)
	}
	return fmt.Sprintf("scim %d: %s", e.Status, e.Detail)
}

// The scimType values of RFC 7644 §3.12, table 9, for Error.ScimType.
const (
	// ScimTypeInvalidFilter means the filter is malformed or not supported
	// (400).
	ScimTypeInvalidFilter = "invalidFilter"
	// ScimTypeTooMany means the filter yields too many results to process (400).
	ScimTypeTooMany = "tooMany"
	// ScimTypeUniqueness means a unique attribute value (e.g. userName) is
	// already in use (409).
	ScimTypeUniqueness = "uniqueness"
	// ScimTypeMutability means the request tries to change an immutable or
	// read-only attribute (400).
	ScimTypeMutability = "mutability"
	// ScimTypeInvalidSyntax means the request body is not a valid SCIM
	// message (400).
	ScimTypeInvalidSyntax = "invalidSyntax"
	// ScimTypeInvalidPath means a PATCH path is invalid or unsupported (400).
	ScimTypeInvalidPath = "invalidPath"
	// ScimTypeNoTarget means a PATCH path selected no value to act on
	// (400).
	ScimTypeNoTarget = "noTarget"
	// ScimTypeInvalidValue means a required value is missing or a value is not
	// compatible with its attribute (400).
	ScimTypeInvalidValue = "invalidValue"
	// ScimTypeInvalidVers means the SCIM protocol version is not supported (400).
	ScimTypeInvalidVers = "invalidVers"
	// ScimTypeSensitive means the request put sensitive information (e.g. a
	// password) in the URI (403).
	ScimTypeSensitive = "sensitive"
)

// asError returns the SCIM error in err's chain: an *Error of the app or
// the root, or the *scimerr.Error of an internal package converted to one.
func asError(err error) (*Error, bool) {
	var se *Error
	if errors.As(err, &se) {
		return se, true
	}
	var ie *scimerr.Error
	if errors.As(err, &ie) {
		return &Error{Status: ie.Status, ScimType: ie.ScimType, Detail: ie.Detail}, true
	}
	return nil, false
}

// errInternal is what the client sees for an error we did not expect.
var errInternal = &Error{Status: http.StatusInternalServerError, Detail: "internal error"}

// toSCIM maps any error to the SCIM error the client sees, and reports
// whether it is internal (to be logged with its full text). This is the one
// table from store errors to HTTP statuses.
func toSCIM(err error, kind, id string) (e *Error, internal bool) {
	if se, ok := asError(err); ok {
		return se, false
	}
	if internalHookError(err) {
		return errInternal, true
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Detail: kind + " " + id + " not found"}, false
	case errors.Is(err, store.ErrConflict):
		return &Error{Status: http.StatusConflict, ScimType: ScimTypeUniqueness, Detail: kind + " already exists"}, false
	case errors.Is(err, store.ErrVersionMismatch):
		return &Error{Status: http.StatusPreconditionFailed, Detail: kind + " " + id + " was modified concurrently; read it again"}, false
	case errors.Is(err, store.ErrUnavailable):
		return &Error{Status: http.StatusServiceUnavailable, Detail: "storage temporarily unavailable; retry later"}, true
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Status: http.StatusServiceUnavailable, Detail: "request timed out; retry later"}, true
	case errors.Is(err, context.Canceled):
		// The client went away (or the app cancelled the request): nobody
		// reads the answer, and nothing failed on our side.
		return &Error{Status: http.StatusServiceUnavailable, Detail: "request cancelled; retry later"}, false
	}
	return errInternal, true
}

func isConflict(err error) bool { return errors.Is(err, store.ErrConflict) }
