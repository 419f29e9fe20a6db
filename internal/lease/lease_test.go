package lease_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/auditsentinel/sentinel/internal/lease"
	"github.com/auditsentinel/sentinel/internal/redisconn/embedded"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

func client(t *testing.T) redis.UniversalClient {
	t.Helper()
	return testenv.RedisClient(t, testenv.RedisURL(t))
}

// TestAcquire: one holder per name and period on a real Redis; the lease
// lapses by itself, and other names are independent.
func TestAcquire(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	a := &lease.Redis{Client: c, Owner: "worker-a"}
	b := &lease.Redis{Client: c, Owner: "worker-b"}

	if ok, err := a.Acquire(ctx, "orphans", 300*time.Millisecond); err != nil || !ok {
		t.Fatalf("first acquire = %v, %v; want true", ok, err)
	}
	if ok, err := b.Acquire(ctx, "orphans", 300*time.Millisecond); err != nil || ok {
		t.Fatalf("second holder in the period = %v, %v; want false", ok, err)
	}
	if ok, err := a.Acquire(ctx, "orphans", 300*time.Millisecond); err != nil || ok {
		t.Fatalf("the holder again in the period = %v, %v; want false (a lease is per period, not re-entrant)", ok, err)
	}
	if ok, err := b.Acquire(ctx, "purge", time.Minute); err != nil || !ok {
		t.Fatalf("another name = %v, %v; want true", ok, err)
	}
	if got, err := c.Get(ctx, "sentinel:lease:orphans").Result(); err != nil || got != "worker-a" {
		t.Fatalf("lease value = %q, %v; want the holder's name", got, err)
	}
	pttl, err := c.PTTL(ctx, "sentinel:lease:purge").Result()
	if err != nil || pttl <= 59*time.Second || pttl > time.Minute {
		t.Fatalf("lease TTL = %s, %v; want just under 1m", pttl, err)
	}
	// Redis expires the key; wait for that, not for a fixed time.
	deadline := time.Now().Add(5 * time.Second)
	for {
		ok, err := b.Acquire(ctx, "orphans", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lease never lapsed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAcquireRefusesSubMillisecondTTL(t *testing.T) {
	l := &lease.Redis{Client: client(t), Owner: "w"}
	if ok, err := l.Acquire(context.Background(), "x", time.Microsecond); err == nil || ok {
		t.Fatalf("Acquire with 1µs = %v, %v; want an error", ok, err)
	}
}

// TestAcquireReportsRedisErrors: a Redis that cannot be reached is an
// error, never a lease granted.
func TestAcquireReportsRedisErrors(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)), MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = c.Close() })
	l := &lease.Redis{Client: c, Owner: "w"}
	if ok, err := l.Acquire(context.Background(), "x", time.Second); err == nil || ok {
		t.Fatalf("Acquire on a closed port = %v, %v; want an error", ok, err)
	}
}

// TestExtend: the holder extends its lease; nobody else can, nor can the
// holder once the lease has lapsed.
func TestExtend(t *testing.T) {
	t.Run("redis", func(t *testing.T) { testExtend(t, client(t)) })
	// The script runs on the embedded (miniredis) server too.
	t.Run("embedded", func(t *testing.T) {
		srv, err := embedded.Start()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Close)
		c := redis.NewUniversalClient(srv.Config().UniversalOptions())
		t.Cleanup(func() { _ = c.Close() })
		testExtend(t, c)
	})
}

func testExtend(t *testing.T, c redis.UniversalClient) {
	ctx := context.Background()
	a := &lease.Redis{Client: c, Owner: "worker-a"}
	b := &lease.Redis{Client: c, Owner: "worker-b"}
	if ok, err := a.Acquire(ctx, "purge", 200*time.Millisecond); err != nil || !ok {
		t.Fatalf("acquire = %v, %v", ok, err)
	}
	if ok, err := b.Extend(ctx, "purge", time.Minute); err != nil || ok {
		t.Fatalf("another owner's extend = %v, %v; want false", ok, err)
	}
	if ok, err := a.Extend(ctx, "purge", time.Minute); err != nil || !ok {
		t.Fatalf("the holder's extend = %v, %v; want true", ok, err)
	}
	if pttl, err := c.PTTL(ctx, "sentinel:lease:purge").Result(); err != nil || pttl <= 59*time.Second {
		t.Fatalf("TTL after extend = %s, %v; want just under 1m", pttl, err)
	}
	if ok, err := a.Extend(ctx, "orphans", time.Minute); err != nil || ok {
		t.Fatalf("extend of a lease never taken = %v, %v; want false", ok, err)
	}
	if n, err := c.Exists(ctx, "sentinel:lease:orphans").Result(); err != nil || n != 0 {
		t.Fatalf("extend created the lease: exists = %d, %v", n, err)
	}
}
