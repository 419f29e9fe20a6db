package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterNodes is how many masters (and no replicas) a test cluster has:
// the fewest redis-cli --cluster create accepts.
const clusterNodes = 3

// RedisClusterURL starts a private three-master Redis Cluster for the test
// (local redis-server processes, no persistence) and returns its REDIS_URL,
// redis-cluster://HOST:PORT,HOST:PORT,HOST:PORT. The processes are killed
// when the test ends. Starting one takes about two seconds, most of it
// Redis's own waits (redis-cli waits a second for the nodes to meet; a
// master turns writable two seconds after it starts); tests that want
// several in a row can share one with SharedRedisCluster. When
// TEST_REDIS_CLUSTER_URL is set it is used instead, after FLUSHALL on
// every master.
func RedisClusterURL(tb testing.TB) string {
	tb.Helper()
	if u := os.Getenv("TEST_REDIS_CLUSTER_URL"); u != "" {
		if err := flushCluster(u); err != nil {
			tb.Fatal(err)
		}
		return u
	}
	c, err := startRedisCluster()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.close)
	return c.url
}

// SharedRedisCluster is one Redis Cluster for all the tests of a test
// binary that use it, started by the first: a cluster costs about two
// seconds to start. The tests take turns: URL holds it for its test until
// that test ends, and empties it first, so each test starts from an empty
// cluster and tests that use it never see each other's keys, even in
// parallel (they then wait for each other). Close it from TestMain:
//
//	var cluster testenv.SharedRedisCluster
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		cluster.Close()
//		os.Exit(code)
//	}
type SharedRedisCluster struct {
	once sync.Once
	turn sync.Mutex
	url  string
	c    *redisCluster
	err  error
}

// URL starts the cluster if no test did yet, waits for tb's turn, empties
// the cluster and returns its REDIS_URL. TEST_REDIS_CLUSTER_URL is used
// the same way as by RedisClusterURL. A test calls it once: a second call
// would wait for the test's own turn to end.
func (s *SharedRedisCluster) URL(tb testing.TB) string {
	tb.Helper()
	s.once.Do(func() {
		if s.url = os.Getenv("TEST_REDIS_CLUSTER_URL"); s.url != "" {
			return
		}
		s.c, s.err = startRedisCluster()
		if s.err == nil {
			s.url = s.c.url
		}
	})
	if s.err != nil {
		tb.Fatal(s.err)
	}
	s.turn.Lock()
	tb.Cleanup(s.turn.Unlock)
	if err := flushCluster(s.url); err != nil {
		tb.Fatal(err)
	}
	return s.url
}

// Close stops the cluster, if URL started one.
func (s *SharedRedisCluster) Close() {
	if s.c != nil {
		s.c.close()
	}
}

type redisCluster struct {
	url   string
	dir   string
	nodes []*clusterNode
}

type clusterNode struct {
	addr   string
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited; err is then set
	err    error
}

func (c *redisCluster) close() {
	for _, n := range c.nodes {
		_ = n.cmd.Process.Kill()
		<-n.exited
	}
	_ = os.RemoveAll(c.dir)
}

// startRedisCluster starts clusterNodes redis-servers in cluster mode,
// joins them with redis-cli --cluster create and waits until every node
// says cluster_state:ok. Its errors carry the servers' logs.
func startRedisCluster() (_ *redisCluster, err error) {
	server, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("testenv: redis-server is not on PATH and TEST_REDIS_CLUSTER_URL is not set; " +
			"run `make test` (it installs redis-server from the OS packages) or set TEST_REDIS_CLUSTER_URL")
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		return nil, errors.New("testenv: redis-cli (which creates the test Redis Cluster) is not on PATH and " +
			"TEST_REDIS_CLUSTER_URL is not set; run `make test` (it installs redis-server, which brings redis-cli) " +
			"or set TEST_REDIS_CLUSTER_URL")
	}
	dir, err := os.MkdirTemp("", "sentinel-redis-cluster-")
	if err != nil {
		return nil, fmt.Errorf("testenv: redis cluster: %w", err)
	}
	c := &redisCluster{dir: dir}
	var logs []string
	// withLogs adds the tail of every node's log to a startup error.
	withLogs := func(err error) error {
		var b strings.Builder
		fmt.Fprintf(&b, "%v", err)
		for _, p := range logs {
			l, _ := os.ReadFile(p)
			if len(l) > 3000 {
				l = l[len(l)-3000:]
			}
			fmt.Fprintf(&b, "\n--- redis-server %s:\n%s", filepath.Base(p), l)
		}
		return errors.New(b.String())
	}
	defer func() {
		if err != nil {
			err = withLogs(err)
			c.close()
		}
	}()

	// Each node needs a client port and a cluster bus port; the default
	// bus port (client port + 10000) may be past 65535 or taken, so it is
	// picked too. All are picked before any is released, so that they
	// differ.
	ports, err := freePorts(2 * clusterNodes)
	if err != nil {
		return nil, err
	}
	addrs := make([]string, clusterNodes)
	for i := range clusterNodes {
		addrs[i] = fmt.Sprintf("127.0.0.1:%d", ports[2*i])
		nodeDir := filepath.Join(dir, fmt.Sprintf("node%d", i))
		if err := os.Mkdir(nodeDir, 0o755); err != nil {
			return nil, err
		}
		logPath := filepath.Join(dir, fmt.Sprintf("node%d.log", i))
		logf, err := os.Create(logPath)
		if err != nil {
			return nil, err
		}
		logs = append(logs, logPath)
		cmd := exec.Command(server, "--port", fmt.Sprint(ports[2*i]), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", nodeDir,
			"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-port", fmt.Sprint(ports[2*i+1]))
		cmd.Stdout, cmd.Stderr = logf, logf
		err = cmd.Start()
		logf.Close() // the child has its own descriptor
		if err != nil {
			return nil, fmt.Errorf("testenv: start redis-server (cluster node %s): %w", addrs[i], err)
		}
		n := &clusterNode{addr: addrs[i], cmd: cmd, exited: make(chan struct{})}
		go func() { n.err = cmd.Wait(); close(n.exited) }()
		c.nodes = append(c.nodes, n)
	}
	for _, n := range c.nodes {
		if err := n.waitListen(); err != nil {
			return nil, err
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append([]string{"--cluster", "create"}, addrs...)
	out, err := exec.CommandContext(ctx, cli, append(args, "--cluster-replicas", "0", "--cluster-yes")...).
		CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("testenv: redis-cli %s --cluster-replicas 0 --cluster-yes: %w\n%s",
			strings.Join(args, " "), err, out)
	}
	if err := c.waitOK(ctx); err != nil {
		return nil, fmt.Errorf("testenv: redis cluster %s created but not ready: %w\nredis-cli said:\n%s",
			strings.Join(addrs, ","), err, out)
	}
	c.url = "redis-cluster://" + strings.Join(addrs, ",")
	return c, nil
}

// freePorts returns n distinct TCP ports on 127.0.0.1 that were free a
// moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("testenv: free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// waitListen waits until the node accepts connections.
func (n *clusterNode) waitListen() error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", n.addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-n.exited:
			return fmt.Errorf("testenv: redis-server (cluster node %s) exited before listening: %w", n.addr, n.err)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("testenv: redis-server (cluster node) did not listen on %s within 15s", n.addr)
		}
	}
}

// waitOK waits until every node reports cluster_state:ok: each then
// knows which node serves every slot, so a client may start from any.
func (c *redisCluster) waitOK(ctx context.Context) error {
	for _, n := range c.nodes {
		rc := redis.NewClient(&redis.Options{Addr: n.addr})
		defer rc.Close()
		for {
			info, err := rc.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			select {
			case <-n.exited:
				return fmt.Errorf("%s exited: %w", n.addr, n.err)
			case <-ctx.Done():
				if err == nil {
					err = fmt.Errorf("CLUSTER INFO:\n%s", info)
				}
				return fmt.Errorf("%s: %w", n.addr, err)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return nil
}

// flushCluster empties every master of the cluster a redis-cluster:// URL
// names.
func flushCluster(u string) error {
	addrs, ok := strings.CutPrefix(u, "redis-cluster://")
	if !ok || strings.ContainsAny(addrs, "@/?") {
		return fmt.Errorf("testenv: TEST_REDIS_CLUSTER_URL: want redis-cluster://HOST:PORT[,HOST:PORT…], got %q", u)
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(addrs, ",")})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		return m.FlushAll(ctx).Err()
	})
	if err != nil {
		return fmt.Errorf("testenv: Redis Cluster at %s is not usable: FLUSHALL: %w", u, err)
	}
	return nil
}
