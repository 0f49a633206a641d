package redislimit_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/examples/redislimit"
	"github.com/scimkit/scim/store/memory"
)

// openRedis connects to the Redis at SCIM_TEST_REDIS_ADDR, or skips.
func openRedis(t *testing.T) *redis.Client {
	t.Helper()
	addr := os.Getenv("SCIM_TEST_REDIS_ADDR")
	if addr == "" {
		t.Skip("SCIM_TEST_REDIS_ADDR is not set (e.g. 127.0.0.1:6379): skipping the Redis tests")
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { rdb.Close() })
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("Redis at SCIM_TEST_REDIS_ADDR=%s: %v", addr, err)
	}
	return rdb
}

// keyPrefix is a prefix of this test's own, whose keys are deleted after.
func keyPrefix(t *testing.T, rdb *redis.Client) string {
	t.Helper()
	prefix := fmt.Sprintf("scimtest:%s:%d:", t.Name(), time.Now().UnixNano())
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := rdb.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	})
	return prefix
}

// replica starts one instance of the app: a Handler over the shared store,
// limited through lim, served over HTTP.
func replica(t *testing.T, st *memory.Store, lim scim.RateLimiter) *httptest.Server {
	t.Helper()
	tokens := scim.NewStaticTokens()
	tokens.Add("acme", "acme-token")
	tokens.Add("other", "other-token")
	h, err := scim.NewHandler(st, scim.RolePolicy{}, scim.Config{
		Authenticator: tokens,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		Limits:        scim.Limits{RateLimiter: lim},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, srv *httptest.Server, token string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+"/Users", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestLimitHoldsAcrossReplicas: two Handlers over one Redis hold a tenant
// to one rate: of 20 rapid requests alternating between them, with 10 a
// second (burst 10), 10 pass, plus what the rate refills while they run;
// the rest get 429 with Retry-After. Another tenant has its own limit.
func TestLimitHoldsAcrossReplicas(t *testing.T) {
	rdb := openRedis(t)
	lim := redislimit.New(rdb, keyPrefix(t, rdb), 10, 10)
	st := memory.New()
	replicas := []*httptest.Server{replica(t, st, lim), replica(t, st, lim)}

	start := time.Now()
	passed := make([]int, len(replicas))
	refused := 0
	for i := range 20 {
		resp := get(t, replicas[i%2], "acme-token")
		switch resp.StatusCode {
		case http.StatusOK:
			passed[i%2]++
		case http.StatusTooManyRequests:
			refused++
			if resp.Header.Get("Retry-After") != "1" {
				t.Errorf("429 with Retry-After %q, want 1", resp.Header.Get("Retry-After"))
			}
		default:
			t.Fatalf("request %d: status %d", i, resp.StatusCode)
		}
	}
	refilled := int(time.Since(start).Seconds() * 10)
	total := passed[0] + passed[1]
	if total < 10 || total > 10+refilled {
		t.Errorf("%d of 20 requests passed (%v per replica) in %v, want 10 (up to %d with the refill)",
			total, passed, time.Since(start), 10+refilled)
	}
	t.Logf("%d of 20 passed (%v per replica), %d refused, in %v", total, passed, refused, time.Since(start))
	if passed[0] == 0 || passed[1] == 0 {
		t.Errorf("requests passed per replica: %v, want both to serve some", passed)
	}

	// The other tenant is not limited by acme's requests, on either replica.
	var got []int
	for _, srv := range replicas {
		got = append(got, get(t, srv, "other-token").StatusCode)
	}
	if diff := cmp.Diff([]int{200, 200}, got); diff != "" {
		t.Errorf("the other tenant's statuses (-want +got):\n%s", diff)
	}
}

// TestRetryAfterIsWhenTheNextRequestPasses: the delay Allow reports is
// when the tenant's next request is admitted.
func TestRetryAfterIsWhenTheNextRequestPasses(t *testing.T) {
	rdb := openRedis(t)
	lim := redislimit.New(rdb, keyPrefix(t, rdb), 5, 2)
	ctx := context.Background()
	for range 2 {
		if ok, _, err := lim.Allow(ctx, "acme"); !ok || err != nil {
			t.Fatalf("within the burst: ok %v, err %v", ok, err)
		}
	}
	ok, wait, err := lim.Allow(ctx, "acme")
	if ok || err != nil || wait <= 0 || wait > 200*time.Millisecond {
		t.Fatalf("over the burst: ok %v, wait %v, err %v; want refused, wait in (0, 200ms]", ok, wait, err)
	}
	time.Sleep(wait)
	if ok, wait, err := lim.Allow(ctx, "acme"); !ok || err != nil {
		t.Errorf("after the wait: ok %v, wait %v, err %v; want admitted", ok, wait, err)
	}
}

// TestRedisDownIsAnError: an unreachable Redis is an error, which the
// Handler answers with its own limit (fail open).
func TestRedisDownIsAnError(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	defer rdb.Close()
	lim := redislimit.New(rdb, "scimtest:", 10, 10)
	ok, _, err := lim.Allow(context.Background(), "acme")
	if ok || err == nil {
		t.Errorf("Allow = %v, %v; want an error", ok, err)
	}
	if got := get(t, replica(t, memory.New(), lim), "acme-token").StatusCode; got != http.StatusOK {
		t.Errorf("with Redis down: status %d, want 200 under the instance's own limit", got)
	}
}
