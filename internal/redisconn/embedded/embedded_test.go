package embedded_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/auditsentinel/sentinel/internal/redisconn/embedded"
)

// TestKeysExpire: keys with a TTL go away on the wall clock, as on a real
// Redis. miniredis alone never expires them; the service's live streams,
// asynq's uniqueness locks and the sweeper's leases depend on it.
func TestKeysExpire(t *testing.T) {
	srv, err := embedded.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c := redis.NewUniversalClient(srv.Config().UniversalOptions())
	defer func() { _ = c.Close() }()
	ctx := context.Background()

	if ok, err := c.SetNX(ctx, "lease", "a", 300*time.Millisecond).Result(); err != nil || !ok {
		t.Fatalf("SETNX = %v, %v", ok, err)
	}
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "stream", Values: []any{"k", "v"}}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Expire(ctx, "stream", time.Second).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "kept", "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := c.Exists(ctx, "lease", "stream").Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of the keys with a TTL still exist after 10 s", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ok, err := c.SetNX(ctx, "lease", "b", time.Minute).Result(); err != nil || !ok {
		t.Fatalf("SETNX after expiry = %v, %v; want the lease free again", ok, err)
	}
	if n, err := c.Exists(ctx, "kept").Result(); err != nil || n != 1 {
		t.Fatalf("a key without TTL: exists = %d, %v", n, err)
	}
}
