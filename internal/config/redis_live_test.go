package config_test

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

	"github.com/auditsentinel/sentinel/internal/config"
	"github.com/auditsentinel/sentinel/internal/testenv"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// TestRedisStandaloneLive checks that a redis:// REDIS_URL yields options
// that asynq and go-redis can use against a real server.
func TestRedisStandaloneLive(t *testing.T) {
	u := testenv.RedisURL(t)
	o, err := config.ParseRedisURL(u)
	if err != nil {
		t.Fatal(err)
	}
	enqueueAndCount(t, o, o.Addrs[0], o.DB)
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

	o, err := config.ParseRedisURL(fmt.Sprintf("redis-sentinel://127.0.0.1:%d/mymaster?db=2", sport))
	if err != nil {
		t.Fatal(err)
	}
	waitPing(t, o)
	enqueueAndCount(t, o, master.Host, 2)
}

func waitPing(t *testing.T, o config.RedisOptions) {
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
// database db of the server at addr.
func enqueueAndCount(t *testing.T, o config.RedisOptions, addr string, db int) {
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

	direct := redis.NewClient(&redis.Options{Addr: addr, DB: db})
	defer direct.Close()
	n, err := direct.DBSize(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Errorf("nothing in database %d of %s", db, addr)
	}
	if db != 0 {
		zero := redis.NewClient(&redis.Options{Addr: addr})
		defer zero.Close()
		if n, _ := zero.DBSize(context.Background()).Result(); n != 0 {
			t.Errorf("%d keys in database 0, want all in database %d", n, db)
		}
	}
}
