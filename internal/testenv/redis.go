package testenv

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
)

func flushRedis(tb testing.TB, u string) {
	tb.Helper()
	if err := RedisClient(tb, u).FlushAll(context.Background()).Err(); err != nil {
		tb.Fatalf("testenv: Redis at TEST_REDIS_URL is not usable: %v", err)
	}
}

// RedisClient is a client of the Redis at url (RedisURL's, or a booted
// service's), closed with the test.
func RedisClient(tb testing.TB, url string) *redis.Client {
	tb.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		tb.Fatalf("testenv: Redis URL %q: %v", url, err)
	}
	c := redis.NewClient(opt)
	tb.Cleanup(func() { _ = c.Close() })
	return c
}
