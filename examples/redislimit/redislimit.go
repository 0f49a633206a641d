// Package redislimit is a scim.RateLimiter over Redis, so that every
// instance of an app holds a tenant to one request rate: with it, N
// replicas behind a load balancer refuse a tenant's request once the
// tenant has used its rate on all of them together, where the built-in
// limit (Limits.RequestsPerSecond) is per instance.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	h, err := scim.NewHandler(st, policy, scim.Config{
//		Authenticator: tokens,
//		Limits: scim.Limits{
//			RateLimiter:       redislimit.New(rdb, "scim:rate:", 100, 100),
//			RequestsPerSecond: 100, // this instance's own limit while Redis is down
//		},
//	})
//
// It is the generic cell rate algorithm (GCRA), a token bucket kept as one
// timestamp per tenant: the key holds the tenant's "theoretical arrival
// time", advanced by one interval (1/rate) per request admitted; a request
// is refused when that time is more than burst−1 intervals ahead of now,
// and told to retry when it no longer would be. One Lua script reads and
// writes the key atomically, with Redis's clock (TIME), so the app
// servers' clocks do not matter; the key expires when the tenant's bucket
// is full again, so idle tenants cost Redis nothing.
//
// When Redis fails, Allow returns the error and the Handler applies its
// own per-instance limit to the request (it fails open; see
// scim.RateLimiter). The concurrency limit (Limits.MaxConcurrent) stays per
// instance.
//
// The library does not import go-redis; this package is an example to
// copy or import. Its test runs two Handlers over one Redis
// (SCIM_TEST_REDIS_ADDR).
package redislimit

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scimkit/scim"
)

var _ scim.RateLimiter = (*Limiter)(nil)

// gcra admits one request. KEYS[1] is the tenant's key, ARGV[1] the
// interval between requests and ARGV[2] the burst tolerance ((burst−1)
// intervals), in microseconds. It returns {1, 0} when admitted, else {0,
// microseconds to wait}.
var gcra = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if tat - now > tolerance then
  return {0, tat - tolerance - now}
end
tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000))
return {1, 0}
`)

// Limiter holds each tenant to a request rate shared by every Handler that
// uses the same Redis and key prefix.
type Limiter struct {
	rdb       redis.Scripter
	prefix    string
	interval  int64 // microseconds between requests
	tolerance int64 // microseconds a tenant may be ahead: (burst−1) intervals
}

// New returns a Limiter allowing each tenant perSecond requests a second,
// in bursts of up to burst, keeping a key prefix+tenant per tenant in rdb
// (a *redis.Client, *redis.ClusterClient or *redis.Ring). perSecond must
// be positive and burst at least 1.
func New(rdb redis.Scripter, prefix string, perSecond float64, burst int) *Limiter {
	if perSecond <= 0 || burst < 1 {
		panic(fmt.Sprintf("redislimit: rate %v and burst %d must be positive", perSecond, burst))
	}
	interval := max(1, int64(math.Round(1e6/perSecond)))
	return &Limiter{rdb: rdb, prefix: prefix, interval: interval, tolerance: interval * int64(burst-1)}
}

// Allow admits one request of tenant, or reports how long to wait.
func (l *Limiter) Allow(ctx context.Context, tenant string) (bool, time.Duration, error) {
	res, err := gcra.Run(ctx, l.rdb, []string{l.prefix + tenant}, l.interval, l.tolerance).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("redislimit: %w", err)
	}
	if len(res) != 2 {
		return false, 0, fmt.Errorf("redislimit: the script returned %v", res)
	}
	return res[0] == 1, time.Duration(res[1]) * time.Microsecond, nil
}
