package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store"
)

// admission is the demo's scim.Config.Admit for -seat-limit and
// -verified-domain, or nil when neither is set:
//
//   - with seats > 0, a change that makes a user active (a create, a
//     reactivation) is refused with 403 when the tenant would then have
//     more than seats active users, counted inside the write's transaction
//     so that concurrent requests cannot overshoot;
//   - with domains, a userName that is an email address and every email
//     address a change adds must be in one of them (compared ignoring
//     case; subdomains do not count), else 400 invalidValue. Addresses the
//     user already had are not checked again, so that a user whose domain
//     is no longer verified can still be deactivated or deleted.
func admission(seats int, domains []string) func(context.Context, store.Reader, scim.Change) error {
	if seats <= 0 && len(domains) == 0 {
		return nil
	}
	verified := map[string]bool{}
	for _, d := range domains {
		verified[store.Fold(strings.TrimPrefix(strings.TrimSpace(d), "@"))] = true
	}
	return func(ctx context.Context, r store.Reader, c scim.Change) error {
		if len(verified) > 0 {
			for i, v := range c.NewValues() {
				isUserName := i == 0 && c.After != nil && v == c.After.UserName()
				at := strings.LastIndexByte(v, '@')
				if isUserName && at < 0 {
					continue // a userName that is not an address
				}
				if at < 0 || !verified[store.Fold(v[at+1:])] {
					return &scim.Error{Status: http.StatusBadRequest, ScimType: scim.ScimTypeInvalidValue,
						Detail: fmt.Sprintf("%q is not in a verified domain of this organization (%s)", v, strings.Join(domains, ", "))}
				}
			}
		}
		if seats > 0 && c.Activates() {
			page, err := r.ListUsers(ctx, store.Query{Filter: store.Compare{
				Path: store.Path{Name: "active"}, Op: store.Eq, Value: true}})
			if err != nil {
				return err
			}
			if page.Total > seats {
				return &scim.Error{Status: http.StatusForbidden,
					Detail: fmt.Sprintf("the organization's plan has %d seats and all are taken; free a seat or upgrade the plan", seats)}
			}
		}
		return nil
	}
}
