package redisconn_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/auditsentinel/sentinel/internal/redisconn"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

// TestRedisStandaloneLive checks that a redis:// REDIS_URL yields options
// that asynq and go-redis can use against a real server.
func TestRedisStandaloneLive(t *testing.T) {
	u := testenv.RedisURL(t)
	o, err := redisconn.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	enqueueAndCount(t, o, o.Addrs, o.DB)
}

// TestRedisClusterLive checks that the redis-cluster:// form reaches a real
// three-master cluster: asynq's cluster client and go-redis's both follow
// its slots, and the keys land on its nodes.
func TestRedisClusterLive(t *testing.T) {
	o, err := redisconn.ParseURL(testenv.RedisClusterURL(t))
	if err != nil {
		t.Fatal(err)
	}
	if o.Mode != redisconn.Cluster || len(o.Addrs) != 3 {
		t.Fatalf("parsed %+v, want the three nodes of a cluster", o)
	}
	uc := redis.NewUniversalClient(o.UniversalOptions())
	defer uc.Close()
	if _, ok := uc.(*redis.ClusterClient); !ok {
		t.Fatalf("UniversalOptions make a %T, want a cluster client", uc)
	}
	enqueueAndCount(t, o, o.Addrs, 0)
}

// TestRedisSentinelLive runs a real sentinel in front of a private Redis
// and checks that the redis-sentinel:// form reaches the master, in the
// database the URL names.
func TestRedisSentinelLive(t *testing.T) {
	master, err := url.Parse(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(master.Host)

	dir := t.TempDir()
	sport := testenv.FreePort(t)
	conf := filepath.Join(dir, "sentinel.conf")
	body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor mymaster %s %s 1\n", sport, dir, host, port)
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("redis-server", conf, "--sentinel")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis sentinel: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	o, err := redisconn.ParseURL(fmt.Sprintf("redis-sentinel://127.0.0.1:%d/mymaster?db=2", sport))
	if err != nil {
		t.Fatal(err)
	}
	waitPing(t, o)
	enqueueAndCount(t, o, []string{master.Host}, 2)
}

func waitPing(t *testing.T, o redisconn.Config) {
	t.Helper()
	c := redis.NewUniversalClient(o.UniversalOptions())
	defer c.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer through %s: %v", o, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// enqueueAndCount enqueues through asynq with ConnOpt, lists the queue
// through go-redis with UniversalOptions, and checks that the keys landed in
// database db of the servers at addrs (all the nodes of a cluster).
func enqueueAndCount(t *testing.T, o redisconn.Config, addrs []string, db int) {
	t.Helper()
	client := asynq.NewClient(o.ConnOpt())
	defer client.Close()
	if _, err := client.Enqueue(asynq.NewTask("config:probe", nil), asynq.Queue("cfgtest")); err != nil {
		t.Fatalf("enqueue via %s: %v", o, err)
	}

	uc := redis.NewUniversalClient(o.UniversalOptions())
	defer uc.Close()
	qs, err := asynq.NewInspectorFromRedisClient(uc).Queues()
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 1 || qs[0] != "cfgtest" {
		t.Errorf("queues seen through UniversalOptions: %v, want [cfgtest]", qs)
	}

	if info, err := asynq.NewInspectorFromRedisClient(uc).GetQueueInfo("cfgtest"); err != nil || info.Pending != 1 {
		t.Errorf("queue cfgtest through UniversalOptions: %+v, %v; want one pending task", info, err)
	}

	var n int64
	for _, addr := range addrs {
		direct := redis.NewClient(&redis.Options{Addr: addr, DB: db})
		defer direct.Close()
		k, err := direct.DBSize(context.Background()).Result()
		if err != nil {
			t.Fatal(err)
		}
		n += k
	}
	if n == 0 {
		t.Errorf("nothing in database %d of %v", db, addrs)
	}
	if db != 0 {
		for _, addr := range addrs {
			zero := redis.NewClient(&redis.Options{Addr: addr})
			defer zero.Close()
			if n, _ := zero.DBSize(context.Background()).Result(); n != 0 {
				t.Errorf("%d keys in database 0 of %s, want all in database %d", n, addr, db)
			}
		}
	}
}
