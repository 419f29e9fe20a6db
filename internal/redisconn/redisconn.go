// Package redisconn turns REDIS_URL into what the service reaches Redis
// with: asynq's connection option for the queue (ConnOpt) and a go-redis
// client for the code that talks to Redis itself, the live export streams
// and the health check (NewClient), with the client's pool sized here.
// Both come from one parsed Config, so they always name the same servers.
package redisconn

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"runtime"
	"strconv"
	"strings"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Mode says how the service reaches Redis.
type Mode string

// The Redis modes.
const (
	// Embedded means REDIS_URL is unset: the process runs its own
	// in-process queue, so only one process (api -demo, a single-node
	// install) can use it.
	Embedded   Mode = "embedded"
	Standalone Mode = "standalone"
	Sentinel   Mode = "sentinel"
	Cluster    Mode = "cluster"
)

// Server is an in-process Redis, which embedded mode runs (package
// redisconn/embedded starts one).
type Server interface {
	// Config reaches the server as a standalone Redis.
	Config() Config
	// Close stops the server; what it held is gone.
	Close()
}

// URLForms is what REDIS_URL accepts, for error messages.
const URLForms = "unset (embedded mode), redis://[USER:PASS@]HOST[:PORT][/DB], " +
	"rediss://… (TLS), redis-sentinel://[USER:PASS@]HOST:PORT[,HOST:PORT…]/MASTER[?db=N&sentinel_password=P], " +
	"redis-cluster://[USER:PASS@]HOST:PORT[,HOST:PORT…] (rediss-sentinel:// and rediss-cluster:// for TLS)"

// Default ports filled in when a host has none.
const (
	defaultPort         = "6379"
	defaultSentinelPort = "26379"
)

// Config is REDIS_URL parsed. ConnOpt and NewClient turn it into asynq's
// option and a go-redis client.
type Config struct {
	Mode Mode
	// Addrs are HOST:PORT: the server (standalone), the sentinels
	// (sentinel) or the seed nodes (cluster).
	Addrs []string
	// MasterName is the name the sentinels monitor (sentinel only).
	MasterName string
	// Username and Password authenticate to the Redis servers that hold
	// data (in sentinel mode, the master and replicas, not the sentinels).
	Username string
	Password string
	// SentinelUsername and SentinelPassword authenticate to the sentinels,
	// which often have no password of their own.
	SentinelUsername string
	SentinelPassword string
	// DB is the database number (always 0 in cluster mode).
	DB int
	// TLS is set by the rediss… schemes; the server name is taken from
	// each node's address.
	TLS bool
}

// ParseURL parses a REDIS_URL. An empty string is embedded mode.
//
// Standalone, parsed by asynq.ParseRedisURI (plus the ACL user name):
//
//	redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]
//	rediss://…                                   (TLS)
//
// Sentinel: the sentinels' addresses, then the master's name as the path
// (or ?master=NAME, asynq's spelling). The password in the user info is
// the data nodes'; a password for the sentinels themselves goes in
// sentinel_password (and sentinel_username). This differs from
// asynq.ParseRedisURI, which sends the user-info password to the sentinels
// and has no database number.
//
//	redis-sentinel://[[USER]:PASSWORD@]HOST[:PORT][,HOST[:PORT]…]/MASTER[?db=N&sentinel_username=U&sentinel_password=P]
//	rediss-sentinel://…                          (TLS)
//
// Cluster: a seed list of nodes; the rest of the cluster is discovered.
// Cluster has only database 0.
//
//	redis-cluster://[[USER]:PASSWORD@]HOST[:PORT][,HOST[:PORT]…]
//	rediss-cluster://…                           (TLS)
//
// A missing port is 6379, or 26379 for a sentinel. Unknown query parameters
// are errors, so a misspelt one is not silently ignored.
func ParseURL(s string) (Config, error) {
	if s == "" {
		return Config{Mode: Embedded}, nil
	}
	scheme, _, ok := strings.Cut(s, "://")
	if !ok {
		return Config{}, errors.New("not a URL")
	}
	var o Config
	var err error
	switch strings.ToLower(scheme) {
	case "redis", "rediss":
		o, err = parseStandalone(s)
	case "redis-sentinel", "rediss-sentinel":
		o, err = parseMulti(s, Sentinel)
	case "redis-cluster", "rediss-cluster":
		o, err = parseMulti(s, Cluster)
	default:
		return Config{}, fmt.Errorf("unsupported scheme %q", scheme)
	}
	if err != nil {
		return Config{}, err
	}
	o.TLS = strings.HasPrefix(strings.ToLower(scheme), "rediss")
	if err := o.Validate(); err != nil {
		return Config{}, err
	}
	return o, nil
}

func parseStandalone(s string) (Config, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Config{}, errors.New("malformed URL") // url's error would echo the password
	}
	if u.RawQuery != "" {
		return Config{}, errors.New("query parameters are not allowed in redis:// URLs")
	}
	opt, err := asynq.ParseRedisURI(s)
	if err != nil {
		return Config{}, errors.New("the database must be a number: redis://HOST:PORT/DB")
	}
	c, ok := opt.(asynq.RedisClientOpt)
	if !ok {
		return Config{}, fmt.Errorf("unexpected asynq option %T", opt)
	}
	if c.Addr == "" {
		return Config{}, errors.New("no host")
	}
	addr, err := withDefaultPort(c.Addr, defaultPort)
	if err != nil {
		return Config{}, err
	}
	return Config{
		Mode:     Standalone,
		Addrs:    []string{addr},
		Username: u.User.Username(),
		Password: c.Password,
		DB:       c.DB,
	}, nil
}

// parseMulti parses the sentinel and cluster forms by hand: net/url
// rejects a host list such as "h1:26379,h2".
func parseMulti(s string, mode Mode) (Config, error) {
	_, rest, _ := strings.Cut(s, "://")
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	if strings.Contains(tail, "#") {
		return Config{}, errors.New("fragments are not allowed")
	}
	path, rawQuery, _ := strings.Cut(tail, "?")

	o := Config{Mode: mode}
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		user, pass, hasPass := strings.Cut(authority[:i], ":")
		var err1, err2 error
		o.Username, err1 = url.PathUnescape(user)
		if hasPass {
			o.Password, err2 = url.PathUnescape(pass)
		}
		if err1 != nil || err2 != nil {
			return Config{}, errors.New("malformed user info")
		}
		authority = authority[i+1:]
	}
	port := defaultPort
	if mode == Sentinel {
		port = defaultSentinelPort
	}
	for _, h := range strings.Split(authority, ",") {
		if h == "" {
			return Config{}, errors.New("empty host in the host list")
		}
		addr, err := withDefaultPort(h, port)
		if err != nil {
			return Config{}, err
		}
		o.Addrs = append(o.Addrs, addr)
	}

	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return Config{}, errors.New("malformed query")
	}
	one := func(k string) (string, error) {
		vs := q[k]
		delete(q, k)
		if len(vs) > 1 {
			return "", fmt.Errorf("parameter %q given more than once", k)
		}
		if len(vs) == 0 {
			return "", nil
		}
		return vs[0], nil
	}
	pathName, err := url.PathUnescape(strings.Trim(path, "/"))
	if err != nil {
		return Config{}, errors.New("malformed path")
	}

	switch mode {
	case Sentinel:
		master, err := one("master")
		if err != nil {
			return Config{}, err
		}
		if master != "" && pathName != "" && master != pathName {
			return Config{}, fmt.Errorf("master named twice: %q in the path and %q in ?master", pathName, master)
		}
		o.MasterName = pathName
		if o.MasterName == "" {
			o.MasterName = master
		}
		if strings.Contains(o.MasterName, "/") {
			return Config{}, fmt.Errorf("master name %q contains '/'", o.MasterName)
		}
		if db, err := one("db"); err != nil {
			return Config{}, err
		} else if db != "" {
			if o.DB, err = strconv.Atoi(db); err != nil {
				return Config{}, fmt.Errorf("db %q is not a number", db)
			}
		}
		if o.SentinelUsername, err = one("sentinel_username"); err != nil {
			return Config{}, err
		}
		if o.SentinelPassword, err = one("sentinel_password"); err != nil {
			return Config{}, err
		}
	case Cluster:
		if pathName != "" && pathName != "0" {
			return Config{}, errors.New("a cluster has only database 0: leave the path empty")
		}
	}
	for k := range q {
		return Config{}, fmt.Errorf("unknown parameter %q", k)
	}
	return o, nil
}

func withDefaultPort(h, port string) (string, error) {
	host, p, err := net.SplitHostPort(h)
	if err != nil {
		// No port: "host" or "[::1]".
		host, p = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"), port
	}
	if host == "" || strings.ContainsAny(host, "/@[], ") {
		return "", fmt.Errorf("bad host %q", h)
	}
	if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("bad port in %q", h)
	}
	return net.JoinHostPort(host, p), nil
}

// Validate checks that o names servers for its mode, so a Config built in
// code is held to the rules ParseURL applies.
func (o Config) Validate() error {
	switch o.Mode {
	case Embedded:
		if len(o.Addrs) > 0 {
			return errors.New("embedded mode has no addresses")
		}
		return nil
	case Standalone:
		if len(o.Addrs) != 1 {
			return errors.New("standalone mode needs exactly one address")
		}
	case Sentinel:
		if len(o.Addrs) == 0 {
			return errors.New("no sentinel addresses")
		}
		if o.MasterName == "" {
			return errors.New("no master name: redis-sentinel://HOST:PORT,…/MASTER")
		}
	case Cluster:
		if len(o.Addrs) == 0 {
			return errors.New("no cluster node addresses")
		}
		if o.DB != 0 {
			return errors.New("a cluster has only database 0")
		}
	default:
		return fmt.Errorf("unknown mode %q", o.Mode)
	}
	if o.DB < 0 {
		return fmt.Errorf("db %d is negative", o.DB)
	}
	return nil
}

func (o Config) tlsConfig() *tls.Config {
	if !o.TLS {
		return nil
	}
	// No ServerName: the dialer takes it from each node's address, which
	// differs between sentinels, masters and cluster nodes.
	return &tls.Config{MinVersion: tls.VersionTLS12}
}

// ConnOpt returns asynq's options: RedisClientOpt, RedisFailoverClientOpt
// or RedisClusterClientOpt. It is nil in embedded mode.
func (o Config) ConnOpt() asynq.RedisConnOpt {
	switch o.Mode {
	case Standalone:
		return asynq.RedisClientOpt{
			Addr: o.Addrs[0], Username: o.Username, Password: o.Password, DB: o.DB, TLSConfig: o.tlsConfig(),
		}
	case Sentinel:
		return asynq.RedisFailoverClientOpt{
			MasterName:       o.MasterName,
			SentinelAddrs:    append([]string(nil), o.Addrs...),
			SentinelUsername: o.SentinelUsername,
			SentinelPassword: o.SentinelPassword,
			Username:         o.Username,
			Password:         o.Password,
			DB:               o.DB,
			TLSConfig:        o.tlsConfig(),
		}
	case Cluster:
		return asynq.RedisClusterClientOpt{
			Addrs: append([]string(nil), o.Addrs...), Username: o.Username, Password: o.Password,
			TLSConfig: o.tlsConfig(),
		}
	}
	return nil
}

// UniversalOptions returns go-redis options for the same servers
// (redis.NewUniversalClient picks the matching client), for code that talks
// to Redis directly rather than through asynq. It is nil in embedded mode.
func (o Config) UniversalOptions() *redis.UniversalOptions {
	if o.Mode == Embedded || o.Mode == "" {
		return nil
	}
	return &redis.UniversalOptions{
		Addrs:            append([]string(nil), o.Addrs...),
		MasterName:       o.MasterName,
		IsClusterMode:    o.Mode == Cluster,
		Username:         o.Username,
		Password:         o.Password,
		SentinelUsername: o.SentinelUsername,
		SentinelPassword: o.SentinelPassword,
		DB:               o.DB,
		TLSConfig:        o.tlsConfig(),
	}
}

// NewClient returns a go-redis client for the servers ConnOpt names; nil in
// embedded mode, which has no address until the in-process server starts
// (pass that server's Standalone Config instead).
//
// held is how many connections callers may hold at once, blocked in a read
// (the live streams' XREAD): the pool has room for them plus spareConns for
// the short commands beside them, and never less than go-redis's default.
// In a cluster the pool is per node and go-redis's default is only 5 per
// CPU, while every held read may sit on one node; asynq's cluster option
// has no pool size at all, which is why this client is built from Config
// and not from ConnOpt.
func (o Config) NewClient(held int) redis.UniversalClient {
	u := o.UniversalOptions()
	if u == nil {
		return nil
	}
	perCPU := 10
	if o.Mode == Cluster {
		perCPU = 5
	}
	u.PoolSize = max(perCPU*runtime.GOMAXPROCS(0), held+spareConns)
	return redis.NewUniversalClient(u)
}

// spareConns is the pool room NewClient keeps beside the held connections.
const spareConns = 16

// String is the URL form without passwords, for logs.
func (o Config) String() string {
	if o.Mode == Embedded || o.Mode == "" {
		return "embedded"
	}
	scheme := "redis"
	if o.TLS {
		scheme = "rediss"
	}
	switch o.Mode {
	case Sentinel:
		scheme += "-sentinel"
	case Cluster:
		scheme += "-cluster"
	}
	var b strings.Builder
	b.WriteString(scheme + "://")
	if o.Username != "" || o.Password != "" {
		b.WriteString(url.PathEscape(o.Username))
		if o.Password != "" {
			b.WriteString(":xxxxx")
		}
		b.WriteString("@")
	}
	b.WriteString(strings.Join(o.Addrs, ","))
	q := url.Values{}
	switch o.Mode {
	case Standalone:
		if o.DB != 0 {
			b.WriteString("/" + strconv.Itoa(o.DB))
		}
	case Sentinel:
		b.WriteString("/" + url.PathEscape(o.MasterName))
		if o.DB != 0 {
			q.Set("db", strconv.Itoa(o.DB))
		}
		if o.SentinelUsername != "" {
			q.Set("sentinel_username", o.SentinelUsername)
		}
		if o.SentinelPassword != "" {
			q.Set("sentinel_password", "xxxxx")
		}
	}
	if len(q) > 0 {
		b.WriteString("?" + q.Encode())
	}
	return b.String()
}
