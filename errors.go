package scim

import (
	"context"
	"errors"
	"net/http"

	"github.com/scimkit/scim/internal/scimerr"
	"github.com/scimkit/scim/store"
)

// Error is a SCIM protocol error (RFC 7644 §3.12): the HTTP status, the
// scimType (one of the ScimType… constants, or "") and a detail that is safe
// to show the identity provider. A Store or an event hook may return an
// *Error to answer with it; any other error is logged and answered as a 500
// "internal error" without its text.
type Error = scimerr.Error

// The scimType values of RFC 7644 §3.12.
const (
	ScimTypeInvalidFilter = scimerr.InvalidFilter
	ScimTypeTooMany       = scimerr.TooMany
	ScimTypeUniqueness    = scimerr.Uniqueness
	ScimTypeMutability    = scimerr.Mutability
	ScimTypeInvalidSyntax = scimerr.InvalidSyntax
	ScimTypeInvalidPath   = scimerr.InvalidPath
	ScimTypeNoTarget      = scimerr.NoTarget
	ScimTypeInvalidValue  = scimerr.InvalidValue
	ScimTypeInvalidVers   = scimerr.InvalidVers
	ScimTypeSensitive     = scimerr.Sensitive
)

// errInternal is what the client sees for an error we did not expect.
var errInternal = &Error{Status: http.StatusInternalServerError, Detail: "internal error"}

// toSCIM maps any error to the SCIM error the client sees, and reports
// whether it is internal (to be logged with its full text). This is the one
// table from store errors to HTTP statuses.
func toSCIM(err error, kind, id string) (e *Error, internal bool) {
	var se *Error
	switch {
	case errors.As(err, &se):
		return se, false
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
