// Package lease gives a fleet of processes one holder of a named task per
// period, through Redis. The sweeper uses it so that its costly steps (the
// bucket listing, the retention purge) run once per period for the whole
// cluster, not once per worker: with N workers each keeping its own clock,
// a bucket would be listed N times an hour and the purge's database duty
// multiplied by N.
//
// A lease is SET NAME OWNER NX PX TTL: the first process to ask in a period
// holds it until it expires, and nobody releases it early, so the period
// is measured from the start of the holder's run. It is not a mutex: a run
// longer than the TTL may overlap the next holder's, which is why what it
// guards must be idempotent (every sweeper step is).
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
	// Owner names this process in the lease's value, for whoever looks at
	// Redis to see which process holds what.
	Owner string
}

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
