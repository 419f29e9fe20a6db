package redisconn

import (
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		in   string
		want Config
	}{
		{"", Config{Mode: Embedded}},
		{"redis://localhost", Config{Mode: Standalone, Addrs: []string{"localhost:6379"}}},
		{"redis://redis:6379/0", Config{Mode: Standalone, Addrs: []string{"redis:6379"}}},
		{"redis://:pw@10.0.0.5:6380/3", Config{Mode: Standalone, Addrs: []string{"10.0.0.5:6380"},
			Password: "pw", DB: 3}},
		{"redis://app:p%40ss@h:1/1", Config{Mode: Standalone, Addrs: []string{"h:1"},
			Username: "app", Password: "p@ss", DB: 1}},
		{"rediss://cache.example.com:6380", Config{Mode: Standalone,
			Addrs: []string{"cache.example.com:6380"}, TLS: true}},
		{"redis://[::1]:6379", Config{Mode: Standalone, Addrs: []string{"[::1]:6379"}}},
		{"redis-sentinel://s1:26379,s2:26379,s3/mymaster", Config{Mode: Sentinel,
			Addrs: []string{"s1:26379", "s2:26379", "s3:26379"}, MasterName: "mymaster"}},
		{"redis-sentinel://:pw@s1,s2/mymaster?db=2", Config{Mode: Sentinel,
			Addrs: []string{"s1:26379", "s2:26379"}, MasterName: "mymaster", Password: "pw", DB: 2}},
		{"redis-sentinel://app:pw@s1?master=m&sentinel_username=su&sentinel_password=sp", Config{
			Mode: Sentinel, Addrs: []string{"s1:26379"}, MasterName: "m", Username: "app", Password: "pw",
			SentinelUsername: "su", SentinelPassword: "sp"}},
		{"rediss-sentinel://s1:26380/m", Config{Mode: Sentinel, Addrs: []string{"s1:26380"},
			MasterName: "m", TLS: true}},
		{"redis-cluster://n1:7000,n2:7001,n3", Config{Mode: Cluster,
			Addrs: []string{"n1:7000", "n2:7001", "n3:6379"}}},
		{"rediss-cluster://:pw@cfg.example.com:6379/", Config{Mode: Cluster,
			Addrs: []string{"cfg.example.com:6379"}, Password: "pw", TLS: true}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseURL(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseURLBad(t *testing.T) {
	for _, in := range []string{
		"localhost:6379",
		"http://h",
		"redis://",
		"redis://h/x",
		"redis://h?db=1",
		"redis://h1,h2",
		"redis-sentinel://s1",              // no master
		"redis-sentinel://s1/a?master=b",   // two masters
		"redis-sentinel://s1/m?db=one",     // bad db
		"redis-sentinel://s1/m?db=-1",      // negative db
		"redis-sentinel://s1/m?db=1&db=2",  // repeated
		"redis-sentinel://s1/m?password=x", // unknown parameter
		"redis-sentinel://s1,/m",           // empty host
		"redis-sentinel://s1:0/m",          // bad port
		"redis-sentinel://s1/m#frag",       // fragment
		"redis-cluster://n1/2",             // db in cluster
		"redis-cluster://n1?db=0",          // unknown parameter
		"redis-cluster://n1:port",          // bad port
		"redis-cluster://",                 // no hosts
	} {
		if o, err := ParseURL(in); err == nil {
			t.Errorf("ParseURL(%q) = %+v, want an error", in, o)
		}
	}
}

func TestRedisConnOpt(t *testing.T) {
	o, _ := ParseURL("rediss://app:pw@h:6380/2")
	c, ok := o.ConnOpt().(asynq.RedisClientOpt)
	if !ok {
		t.Fatalf("standalone: %T", o.ConnOpt())
	}
	if c.Addr != "h:6380" || c.Username != "app" || c.Password != "pw" || c.DB != 2 || c.TLSConfig == nil {
		t.Errorf("standalone: %+v", c)
	}
	// Agrees with asynq's own parser where that one is complete.
	ref, err := asynq.ParseRedisURI("redis://:pw@h:6380/2")
	if err != nil {
		t.Fatal(err)
	}
	o, _ = ParseURL("redis://:pw@h:6380/2")
	if !reflect.DeepEqual(o.ConnOpt(), ref) {
		t.Errorf("differs from asynq.ParseRedisURI: %+v vs %+v", o.ConnOpt(), ref)
	}

	o, _ = ParseURL("redis-sentinel://:pw@s1,s2:26380/mymaster?db=1&sentinel_password=sp")
	f, ok := o.ConnOpt().(asynq.RedisFailoverClientOpt)
	if !ok {
		t.Fatalf("sentinel: %T", o.ConnOpt())
	}
	want := asynq.RedisFailoverClientOpt{MasterName: "mymaster", SentinelAddrs: []string{"s1:26379", "s2:26380"},
		SentinelPassword: "sp", Password: "pw", DB: 1}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("sentinel: got %+v, want %+v", f, want)
	}

	o, _ = ParseURL("redis-cluster://:pw@n1:7000,n2:7001")
	cl, ok := o.ConnOpt().(asynq.RedisClusterClientOpt)
	if !ok {
		t.Fatalf("cluster: %T", o.ConnOpt())
	}
	if !reflect.DeepEqual(cl.Addrs, []string{"n1:7000", "n2:7001"}) || cl.Password != "pw" {
		t.Errorf("cluster: %+v", cl)
	}
}

func TestRedisUniversalOptions(t *testing.T) {
	o, _ := ParseURL("redis-cluster://cfg:6379")
	u := o.UniversalOptions()
	if !u.IsClusterMode || u.MasterName != "" || len(u.Addrs) != 1 {
		t.Errorf("cluster with one seed must force cluster mode: %+v", u)
	}
	o, _ = ParseURL("redis-sentinel://s1/m?db=3")
	u = o.UniversalOptions()
	if u.MasterName != "m" || u.DB != 3 || u.IsClusterMode {
		t.Errorf("sentinel: %+v", u)
	}
	o, _ = ParseURL("redis://h/4")
	u = o.UniversalOptions()
	if u.MasterName != "" || u.IsClusterMode || u.DB != 4 || u.Addrs[0] != "h:6379" {
		t.Errorf("standalone: %+v", u)
	}
}

func TestRedisStringRedacts(t *testing.T) {
	for in, want := range map[string]string{
		"":                           "embedded",
		"redis://:secret@h:6379/2":   "redis://:xxxxx@h:6379/2",
		"rediss://u:secret@h:6380":   "rediss://u:xxxxx@h:6380",
		"redis-cluster://n1,n2:7001": "redis-cluster://n1:6379,n2:7001",
		"redis-sentinel://:secret@s1/m?db=1&sentinel_password=secret": "redis-sentinel://:xxxxx@s1:26379/m?db=1&sentinel_password=xxxxx",
	} {
		o, err := ParseURL(in)
		if err != nil {
			t.Fatal(err)
		}
		got := o.String()
		if got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
		if strings.Contains(got, "secret") {
			t.Errorf("String leaks the password: %q", got)
		}
		// The redacted form parses again to the same shape.
		if in != "" {
			if _, err := ParseURL(got); err != nil {
				t.Errorf("String(%q) = %q does not parse: %v", in, got, err)
			}
		}
	}
}

// NewClient sizes the pool for the connections callers hold, per node in a
// cluster, and never below go-redis's default.
func TestNewClientPool(t *testing.T) {
	for in, kind := range map[string]string{"redis://h:1": "client", "redis-sentinel://s1/m": "client",
		"redis-cluster://n1,n2": "cluster"} {
		o, err := ParseURL(in)
		if err != nil {
			t.Fatal(err)
		}
		floor := 10 * runtime.GOMAXPROCS(0) // go-redis's defaults
		if kind == "cluster" {
			floor = 5 * runtime.GOMAXPROCS(0)
		}
		for held, want := range map[int]int{500: 500 + spareConns, 0: floor} {
			c := o.NewClient(held)
			var pool int
			switch c := c.(type) {
			case *redis.Client:
				if kind == "client" {
					pool = c.Options().PoolSize
				}
			case *redis.ClusterClient:
				if kind == "cluster" {
					pool = c.Options().PoolSize
				}
			}
			c.Close()
			if pool < want {
				t.Errorf("%s, %d held: a %T with pool %d, want a %s client with at least %d", in, held, c, pool, kind, want)
			}
		}
	}
	if c := (Config{Mode: Embedded}).NewClient(1); c != nil {
		t.Errorf("embedded mode made a client: %T", c)
	}
}
