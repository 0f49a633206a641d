package scim_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimkit/scim"
)

// The owner and the deprovisioning guard on every path that writes a user:
// a POST that links an existing app user is an update like PUT and PATCH.

const deactivateOp = `{"Operations":[{"op":"replace","value":{"active":false}}]}`

// TestLinkingPOSTProtectsTheOwner: a POST that would link the owner and
// deactivate or demote them is refused with 403 and an event, and changes
// nothing; one that keeps their role links them.
func TestLinkingPOSTProtectsTheOwner(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantStatus int
	}{
		{"inactive", `{"userName":"boss@acme.test","active":false}`, http.StatusForbidden},
		{"inactive as a string", `{"userName":"boss@acme.test","active":"False"}`, http.StatusForbidden},
		{"another role, other case", `{"userName":"BOSS@ACME.TEST","memberRole":"viewer"}`, http.StatusForbidden},
		{"another role, by email", `{"userName":"b.oss","emails":[{"value":"boss@acme.test"}],"memberRole":"admin"}`, http.StatusForbidden},
		{"inactive, by email", `{"userName":"b.oss","emails":[{"value":"boss@acme.test"}],"active":false}`, http.StatusForbidden},
		{"the keep keyword", `{"userName":"boss@acme.test","memberRole":"default"}`, http.StatusCreated},
		{"no role", `{"userName":"boss@acme.test"}`, http.StatusCreated},
	}
	for _, sc := range isolationStores {
		t.Run(sc.name, func(t *testing.T) {
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					var log eventLog
					st := sc.open(t)
					owner := seedUser(t, st, "acme", "boss@acme.test", "owner")
					s := newTestServerPolicy(t, st, ownerPolicy(), scim.Config{Users: scim.UserRules{LinkExisting: true}, OnEvent: log.add})
					before := snapshot(t, st, "acme")
					r := s.must(tc.wantStatus, "POST", "/Users", tc.body)
					if tc.wantStatus == http.StatusCreated {
						if str(r.body, "id") != owner || str(r.body, "memberRole") != "owner" || get(r.body, "active") != true {
							t.Errorf("linked owner: %s", r.raw)
						}
						return
					}
					if diff := cmp.Diff(before, snapshot(t, st, "acme")); diff != "" {
						t.Errorf("the refused POST changed the tenant (-before +after):\n%s", diff)
					}
					if diff := cmp.Diff([]string{"user.protected_refused"}, log.take()); diff != "" {
						t.Errorf("events (-want +got):\n%s", diff)
					}
				})
			}
		})
	}
}

// TestAbsentActive: a PUT without active keeps the user's state, and a
// PATCH may not remove it, so that neither the owner's protection nor the
// deprovisioning guard can be stepped around.
func TestAbsentActive(t *testing.T) {
	for _, sc := range isolationStores {
		t.Run(sc.name, func(t *testing.T) {
			var log eventLog
			st := sc.open(t)
			owner := seedUser(t, st, "acme", "boss@acme.test", "owner")
			s := newTestServerPolicy(t, st, ownerPolicy(), scim.Config{Users: scim.UserRules{LinkExisting: true}, OnEvent: log.add,
				DeprovisionGuard: scim.DeprovisionGuard{MaxShare: 0.5, MinCount: 1}})
			user := str(s.must(http.StatusCreated, "POST", "/Users", `{"userName":"ann@acme.test"}`).body, "id")
			gone := str(s.must(http.StatusCreated, "POST", "/Users", `{"userName":"gone@acme.test"}`).body, "id")
			s.must(http.StatusOK, "PATCH", "/Users/"+gone, deactivateOp)

			for _, id := range []string{owner, user} {
				for _, body := range []string{
					`{"Operations":[{"op":"remove","path":"active"}]}`,
					`{"Operations":[{"op":"Remove","path":"ACTIVE"}]}`,
					`{"Operations":[{"op":"replace","value":{"active":null}}]}`,
				} {
					r := s.must(http.StatusBadRequest, "PATCH", "/Users/"+id, body)
					if str(r.body, "scimType") != "mutability" {
						t.Errorf("PATCH %s %s: %s", id, body, r.raw)
					}
				}
			}
			// A PUT that leaves active out keeps the user as they are.
			s.must(http.StatusOK, "PUT", "/Users/"+owner, `{"userName":"boss@acme.test","displayName":"The Boss"}`)
			s.must(http.StatusOK, "PUT", "/Users/"+gone, `{"userName":"gone@acme.test","displayName":"Gone"}`)
			for id, want := range map[string]any{owner: true, user: true, gone: false} {
				if got := get(s.must(http.StatusOK, "GET", "/Users/"+id, "").body, "active"); got != want {
					t.Errorf("user %s: active %v, want %v", id, got, want)
				}
			}
			r := s.must(http.StatusOK, "GET", "/Users?filter="+filterQuery(`active eq true`), "")
			if got := get(r.body, "totalResults"); got != float64(2) {
				t.Errorf("active eq true: %v users, want the owner and ann: %s", got, r.raw)
			}
			if types := log.take(); strings.Contains(strings.Join(types, " "), "deprovisioning_held") {
				t.Errorf("events: %v", types)
			}
		})
	}
}

// TestLinkingPOSTPassesTheGuard: deactivating existing app users by
// linking them with "active":false counts as deprovisioning, and deleting
// them afterwards counts each user once.
func TestLinkingPOSTPassesTheGuard(t *testing.T) {
	for _, sc := range isolationStores {
		t.Run(sc.name, func(t *testing.T) {
			var log eventLog
			st := sc.open(t)
			var ids []string
			for i := range 10 {
				ids = append(ids, seedUser(t, st, "acme", fmt.Sprintf("ex%d@acme.test", i), "viewer"))
			}
			s := newTestServerPolicy(t, st, demoPolicy, scim.Config{Users: scim.UserRules{LinkExisting: true}, OnEvent: log.add,
				DeprovisionGuard: scim.DeprovisionGuard{MaxShare: 0.5, MinCount: 1}})
			for i := range 5 { // half of 10
				r := s.must(http.StatusCreated, "POST", "/Users", fmt.Sprintf(`{"userName":"ex%d@acme.test","active":false}`, i))
				if str(r.body, "id") != ids[i] || get(r.body, "active") != false {
					t.Fatalf("linked: %s", r.raw)
				}
			}
			log.take()
			before := snapshot(t, st, "acme")
			r := s.must(http.StatusServiceUnavailable, "POST", "/Users", `{"userName":"ex5@acme.test","active":false}`)
			if !strings.Contains(str(r.body, "detail"), "on hold") {
				t.Errorf("detail: %s", r.raw)
			}
			if diff := cmp.Diff(before, snapshot(t, st, "acme")); diff != "" {
				t.Errorf("the held POST changed the tenant (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"tenant.deprovisioning_held"}, log.take()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			// Deleting the users the linking deactivated takes no one else.
			for _, id := range ids[:5] {
				s.must(http.StatusNoContent, "DELETE", "/Users/"+id, "")
			}
			// Linking without deactivating goes on while held.
			s.must(http.StatusCreated, "POST", "/Users", `{"userName":"ex6@acme.test"}`)
			s.must(http.StatusServiceUnavailable, "DELETE", "/Users/"+ids[6], "")
		})
	}
}

// TestGuardCounts covers what the guard counts and the base of its share.
func TestGuardCounts(t *testing.T) {
	type step struct {
		op   string // "deactivate", "delete", "wait" (past the window)
		user int
		want int
	}
	tests := []struct {
		name  string
		guard scim.DeprovisionGuard
		steps []step
	}{
		{
			// The share is of the tenant's size when the window began:
			// deleting 5 of 10 users is half, not 5 of the 6 left.
			name:  "deletions do not shrink the base",
			guard: scim.DeprovisionGuard{MaxShare: 0.5, MinCount: 1},
			steps: []step{{"delete", 0, 204}, {"delete", 1, 204}, {"delete", 2, 204}, {"delete", 3, 204},
				{"delete", 4, 204}, {"delete", 5, 503}},
		},
		{
			name:  "deactivating and deleting a user counts once",
			guard: scim.DeprovisionGuard{MaxShare: 0.01, MinCount: 2},
			steps: []step{{"deactivate", 0, 200}, {"delete", 0, 204}, {"deactivate", 1, 200}, {"delete", 1, 204},
				{"deactivate", 2, 503}},
		},
		{
			// Users deactivated before the window still leave the app
			// when deleted: a mass delete of inactive users is held too.
			name:  "deleting users deactivated before the window counts",
			guard: scim.DeprovisionGuard{MaxShare: 0.01, MinCount: 2},
			steps: []step{{"deactivate", 0, 200}, {"deactivate", 1, 200}, {"wait", 0, 0},
				{"delete", 0, 204}, {"delete", 1, 204}, {"delete", 3, 503}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var offset atomic.Int64
			start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
			now := func() time.Time { return start.Add(time.Duration(offset.Add(int64(time.Second)))) }
			s := newTestServerWith(t, stores[0].open(t), scim.Config{Now: now, DeprovisionGuard: tc.guard})
			var ids []string
			for i := range 10 {
				ids = append(ids, str(s.must(http.StatusCreated, "POST", "/Users", fmt.Sprintf(`{"userName":"u%d@x.com"}`, i)).body, "id"))
			}
			for i, st := range tc.steps {
				var r response
				switch st.op {
				case "wait":
					offset.Add(int64(2 * time.Hour))
					continue
				case "deactivate":
					r = s.do("PATCH", "/Users/"+ids[st.user], deactivateOp)
				case "delete":
					r = s.do("DELETE", "/Users/"+ids[st.user], "")
				}
				if r.status != st.want {
					t.Fatalf("step %d (%s user %d): status %d, want %d\n%s", i, st.op, st.user, r.status, st.want, r.raw)
				}
			}
		})
	}
}

// TestGuardMessage: the hold's detail tells an admin what happened in
// numbers that add up.
func TestGuardMessage(t *testing.T) {
	st := stores[0].open(t)
	s := newTestServerWith(t, st, scim.Config{DeprovisionGuard: scim.DeprovisionGuard{MaxShare: 0.5, MinCount: 1}})
	var ids []string
	for i := range 10 {
		ids = append(ids, str(s.must(http.StatusCreated, "POST", "/Users", fmt.Sprintf(`{"userName":"u%d@x.com"}`, i)).body, "id"))
	}
	for _, id := range ids[:5] {
		s.must(http.StatusNoContent, "DELETE", "/Users/"+id, "")
	}
	r := s.must(http.StatusServiceUnavailable, "DELETE", "/Users/"+ids[5], "")
	want := "deprovisioning is on hold: 5 users were deactivated or deleted in the last 1h0m0s, " +
		"which is the most allowed for a tenant of 10 users (50%, at least 1); " +
		"an administrator of the app must confirm before more users are deactivated or deleted"
	if diff := cmp.Diff(want, str(r.body, "detail")); diff != "" {
		t.Errorf("detail (-want +got):\n%s", diff)
	}
}
