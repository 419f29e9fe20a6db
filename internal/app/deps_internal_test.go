package app

import (
	"log/slog"
	"testing"

	"github.com/auditsentinel/sentinel/internal/config"
	"github.com/auditsentinel/sentinel/internal/httpapi"
	"github.com/auditsentinel/sentinel/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// Every live response holds a connection of the Redis client while it
// waits on its stream: the pool must have room for all of them.
func TestRedisPoolFitsLiveStreams(t *testing.T) {
	for name, url := range map[string]string{"embedded": "", "standalone": testenv.RedisURL(t)} {
		t.Run(name, func(t *testing.T) {
			vars := map[string]string{"REDIS_URL": url, "DATABASE_URL": "sqlite:" + testenv.SQLitePath(t),
				"STORAGE_URL": "file://" + t.TempDir()}
			cfg, err := config.FromEnv(func(k string) string { return vars[k] })
			if err != nil {
				t.Fatal(err)
			}
			d, err := Open(t.Context(), cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { d.Close() })
			c, ok := d.rdb.(*redis.Client)
			if !ok {
				t.Fatalf("client is a %T", d.rdb)
			}
			if got := c.Options().PoolSize; got <= httpapi.MaxLiveStreams {
				t.Fatalf("pool size %d; want more than %d", got, httpapi.MaxLiveStreams)
			}
		})
	}
}
