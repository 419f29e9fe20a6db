// Package lease gives a fleet of processes one holder of a named task per
// period, through Redis. The sweeper uses it so that its costly steps (the
// bucket listing, the retention purge) run once per period for the whole
// cluster, not once per worker: with N workers each keeping its own clock,
// a bucket would be listed N times an hour and the purge's database duty
// multiplied by N.
//
// A lease is SET NAME OWNER NX PX TTL: the first process to ask in a period
// holds it until it expires, and nobody releases it early. While its
// holder works it extends the lease (Extend), so a run longer than the
// period does not overlap the next holder's; the next period then starts
// when the run ends. A holder that dies stops extending, and the lease
// lapses within a period.
package lease

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// keyPrefix namespaces lease keys beside the service's other Redis keys.
const keyPrefix = "sentinel:lease:"

// Redis hands out leases kept in Redis.
type Redis struct {
	Client redis.UniversalClient
	// Owner names this process in the lease's value: Extend extends only
	// the owner's lease, and whoever looks at Redis sees who holds what.
	// Every process needs its own.
	Owner string
}

// extend sets a lease's TTL anew if its holder is still the owner asking.
var extend = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0`)

// Acquire takes the lease name for ttl. It reports false, without error,
// when another holder has it.
func (r *Redis) Acquire(ctx context.Context, name string, ttl time.Duration) (bool, error) {
	if ttl < time.Millisecond {
		return false, fmt.Errorf("lease %s: ttl %s is below Redis's millisecond resolution", name, ttl)
	}
	ok, err := r.Client.SetNX(ctx, keyPrefix+name, r.Owner, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("lease %s: %w", name, err)
	}
	return ok, nil
}

// Extend gives the owner's lease name ttl more from now. It reports false
// when the lease lapsed or another holder has it.
func (r *Redis) Extend(ctx context.Context, name string, ttl time.Duration) (bool, error) {
	if ttl < time.Millisecond {
		return false, fmt.Errorf("lease %s: ttl %s is below Redis's millisecond resolution", name, ttl)
	}
	n, err := extend.Run(ctx, r.Client, []string{keyPrefix + name}, r.Owner, ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("lease %s: extend: %w", name, err)
	}
	return n == 1, nil
}
