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
// waits on its stream: the pool must have room for all of them (in a
// cluster, on each node, since one node may hold every stream read).
func TestRedisPoolFitsLiveStreams(t *testing.T) {
	for name, url := range map[string]string{"embedded": "", "standalone": testenv.RedisURL(t),
		"cluster": testenv.RedisClusterURL(t)} {
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
			if err := d.PingRedis(t.Context()); err != nil {
				t.Fatal(err)
			}
			var pool int
			switch c := d.rdb.(type) {
			case *redis.Client:
				if name != "cluster" {
					pool = c.Options().PoolSize
				}
			case *redis.ClusterClient:
				if name == "cluster" {
					pool = c.Options().PoolSize // per node
				}
			}
			if pool == 0 {
				t.Fatalf("client is a %T for REDIS_URL %s", d.rdb, cfg.Redis)
			}
			if pool <= httpapi.MaxLiveStreams {
				t.Fatalf("pool size %d; want more than %d", pool, httpapi.MaxLiveStreams)
			}
		})
	}
}
