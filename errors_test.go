package scim_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/internal/scimerr"
	"github.com/scimkit/scim/store"
	"github.com/scimkit/scim/store/memory"
)

// erringStore fails every call with err.
type erringStore struct{ err error }

func (s erringStore) View(context.Context, string, func(store.Reader) error) error { return s.err }

func (s erringStore) Update(context.Context, string, func(store.Tx) error) error { return s.err }

// errorAnswer is what a client sees of a SCIM error response.
type errorAnswer struct {
	Status   int
	Body     string // status member of the body
	ScimType string
	Detail   string
}

func answerOf(r response) errorAnswer {
	return errorAnswer{Status: r.status, Body: str(r.body, "status"), ScimType: str(r.body, "scimType"), Detail: str(r.body, "detail")}
}

// TestErrorsReachTheClientAsIs: a SCIM error, whether an internal package
// or the app made it, plain or wrapped, is answered with its status,
// scimType and detail; store sentinels go through the one mapping table.
func TestErrorsReachTheClientAsIs(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want errorAnswer
	}{
		{"internal error", scimerr.BadRequest(scimerr.InvalidFilter, "bad filter"),
			errorAnswer{400, "400", "invalidFilter", "bad filter"}},
		{"wrapped internal error", fmt.Errorf("list: %w", scimerr.New(http.StatusConflict, scimerr.Uniqueness, "taken")),
			errorAnswer{409, "409", "uniqueness", "taken"}},
		{"app error", &scim.Error{Status: http.StatusForbidden, ScimType: scim.ScimTypeSensitive, Detail: "no"},
			errorAnswer{403, "403", "sensitive", "no"}},
		{"wrapped app error", fmt.Errorf("hook: %w", &scim.Error{Status: http.StatusBadRequest, ScimType: scim.ScimTypeInvalidValue, Detail: "refused"}),
			errorAnswer{400, "400", "invalidValue", "refused"}},
		{"app error without scimType", &scim.Error{Status: http.StatusTooManyRequests, Detail: "slow down"},
			errorAnswer{429, "429", "", "slow down"}},
		{"store conflict", store.ErrConflict, errorAnswer{409, "409", "uniqueness", "User already exists"}},
		{"store unavailable", fmt.Errorf("db: %w", store.ErrUnavailable),
			errorAnswer{503, "503", "", "storage temporarily unavailable; retry later"}},
		{"unknown error", errors.New("disk on fire"), errorAnswer{500, "500", "", "internal error"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServerWith(t, erringStore{tc.err}, scimConfig())
			if diff := cmp.Diff(tc.want, answerOf(s.do("GET", "/Users", ""))); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}
}

// TestInternalPackageErrorsKeepTheirScimType: errors the filter and PATCH
// packages produce reach the client with their status and scimType.
func TestInternalPackageErrorsKeepTheirScimType(t *testing.T) {
	s := newTestServerWith(t, memory.New(), scimConfig())
	created := s.must(http.StatusCreated, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.com"}`)
	id := str(created.body, "id")
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		scimType                 string
	}{
		{"malformed filter", "GET", "/Users?filter=userName%20eq", "", 400, "invalidFilter"},
		{"patch path malformed", "PATCH", "/Users/" + id,
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"emails[","value":"x"}]}`,
			400, "invalidPath"},
		{"patch remove without path", "PATCH", "/Users/" + id,
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove"}]}`,
			400, "noTarget"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(tc.method, tc.path, tc.body)
			got := errorAnswer{Status: r.status, Body: str(r.body, "status"), ScimType: str(r.body, "scimType")}
			want := errorAnswer{Status: tc.status, Body: fmt.Sprint(tc.status), ScimType: tc.scimType}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("answer (-want +got):\n%s\n%s", diff, r.raw)
			}
		})
	}
}

// TestScimTypesMatchTheInternalOnes: the root's ScimType constants, which
// apps see, spell every scimType the internal packages answer with.
func TestScimTypesMatchTheInternalOnes(t *testing.T) {
	got := []string{scim.ScimTypeInvalidFilter, scim.ScimTypeTooMany, scim.ScimTypeUniqueness,
		scim.ScimTypeMutability, scim.ScimTypeInvalidSyntax, scim.ScimTypeInvalidPath,
		scim.ScimTypeNoTarget, scim.ScimTypeInvalidValue, scim.ScimTypeInvalidVers, scim.ScimTypeSensitive}
	want := []string{scimerr.InvalidFilter, scimerr.TooMany, scimerr.Uniqueness,
		scimerr.Mutability, scimerr.InvalidSyntax, scimerr.InvalidPath,
		scimerr.NoTarget, scimerr.InvalidValue, scimerr.InvalidVers, scimerr.Sensitive}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ScimType constants (-internal +root):\n%s", diff)
	}
}
