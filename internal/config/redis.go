package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// RedisMode says how the service reaches Redis.
type RedisMode string

// The Redis modes.
const (
	// RedisEmbedded means REDIS_URL is unset: the process runs its own
	// in-process queue, so only one process (api -demo, a single-node
	// install) can use it.
	RedisEmbedded   RedisMode = "embedded"
	RedisStandalone RedisMode = "standalone"
	RedisSentinel   RedisMode = "sentinel"
	RedisCluster    RedisMode = "cluster"
)

const allowRedisURL = "unset (embedded mode), redis://[USER:PASS@]HOST[:PORT][/DB], " +
	"rediss://… (TLS), redis-sentinel://[USER:PASS@]HOST:PORT[,HOST:PORT…]/MASTER[?db=N&sentinel_password=P], " +
	"redis-cluster://[USER:PASS@]HOST:PORT[,HOST:PORT…] (rediss-sentinel:// and rediss-cluster:// for TLS)"

// Default ports filled in when a host has none.
const (
	defaultRedisPort    = "6379"
	defaultSentinelPort = "26379"
)

// RedisOptions is REDIS_URL parsed. ConnOpt and UniversalOptions turn it
// into client options for asynq and go-redis.
type RedisOptions struct {
	Mode RedisMode
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

// ParseRedisURL parses a REDIS_URL. An empty string is embedded mode.
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
func ParseRedisURL(s string) (RedisOptions, error) {
	if s == "" {
		return RedisOptions{Mode: RedisEmbedded}, nil
	}
	scheme, _, ok := strings.Cut(s, "://")
	if !ok {
		return RedisOptions{}, errors.New("not a URL")
	}
	var o RedisOptions
	var err error
	switch strings.ToLower(scheme) {
	case "redis", "rediss":
		o, err = parseRedisStandalone(s)
	case "redis-sentinel", "rediss-sentinel":
		o, err = parseRedisMulti(s, RedisSentinel)
	case "redis-cluster", "rediss-cluster":
		o, err = parseRedisMulti(s, RedisCluster)
	default:
		return RedisOptions{}, fmt.Errorf("unsupported scheme %q", scheme)
	}
	if err != nil {
		return RedisOptions{}, err
	}
	o.TLS = strings.HasPrefix(strings.ToLower(scheme), "rediss")
	if err := o.validate(); err != nil {
		return RedisOptions{}, err
	}
	return o, nil
}

func parseRedisStandalone(s string) (RedisOptions, error) {
	u, err := url.Parse(s)
	if err != nil {
		return RedisOptions{}, errors.New("malformed URL") // url's error would echo the password
	}
	if u.RawQuery != "" {
		return RedisOptions{}, errors.New("query parameters are not allowed in redis:// URLs")
	}
	opt, err := asynq.ParseRedisURI(s)
	if err != nil {
		return RedisOptions{}, errors.New("the database must be a number: redis://HOST:PORT/DB")
	}
	c, ok := opt.(asynq.RedisClientOpt)
	if !ok {
		return RedisOptions{}, fmt.Errorf("unexpected asynq option %T", opt)
	}
	if c.Addr == "" {
		return RedisOptions{}, errors.New("no host")
	}
	addr, err := withDefaultPort(c.Addr, defaultRedisPort)
	if err != nil {
		return RedisOptions{}, err
	}
	return RedisOptions{
		Mode:     RedisStandalone,
		Addrs:    []string{addr},
		Username: u.User.Username(),
		Password: c.Password,
		DB:       c.DB,
	}, nil
}

// parseRedisMulti parses the sentinel and cluster forms by hand: net/url
// rejects a host list such as "h1:26379,h2".
func parseRedisMulti(s string, mode RedisMode) (RedisOptions, error) {
	_, rest, _ := strings.Cut(s, "://")
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	if strings.Contains(tail, "#") {
		return RedisOptions{}, errors.New("fragments are not allowed")
	}
	path, rawQuery, _ := strings.Cut(tail, "?")

	o := RedisOptions{Mode: mode}
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		user, pass, hasPass := strings.Cut(authority[:i], ":")
		var err1, err2 error
		o.Username, err1 = url.PathUnescape(user)
		if hasPass {
			o.Password, err2 = url.PathUnescape(pass)
		}
		if err1 != nil || err2 != nil {
			return RedisOptions{}, errors.New("malformed user info")
		}
		authority = authority[i+1:]
	}
	port := defaultRedisPort
	if mode == RedisSentinel {
		port = defaultSentinelPort
	}
	for _, h := range strings.Split(authority, ",") {
		if h == "" {
			return RedisOptions{}, errors.New("empty host in the host list")
		}
		addr, err := withDefaultPort(h, port)
		if err != nil {
			return RedisOptions{}, err
		}
		o.Addrs = append(o.Addrs, addr)
	}

	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return RedisOptions{}, errors.New("malformed query")
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
		return RedisOptions{}, errors.New("malformed path")
	}

	switch mode {
	case RedisSentinel:
		master, err := one("master")
		if err != nil {
			return RedisOptions{}, err
		}
		if master != "" && pathName != "" && master != pathName {
			return RedisOptions{}, fmt.Errorf("master named twice: %q in the path and %q in ?master", pathName, master)
		}
		o.MasterName = pathName
		if o.MasterName == "" {
			o.MasterName = master
		}
		if strings.Contains(o.MasterName, "/") {
			return RedisOptions{}, fmt.Errorf("master name %q contains '/'", o.MasterName)
		}
		if db, err := one("db"); err != nil {
			return RedisOptions{}, err
		} else if db != "" {
			if o.DB, err = strconv.Atoi(db); err != nil {
				return RedisOptions{}, fmt.Errorf("db %q is not a number", db)
			}
		}
		if o.SentinelUsername, err = one("sentinel_username"); err != nil {
			return RedisOptions{}, err
		}
		if o.SentinelPassword, err = one("sentinel_password"); err != nil {
			return RedisOptions{}, err
		}
	case RedisCluster:
		if pathName != "" && pathName != "0" {
			return RedisOptions{}, errors.New("a cluster has only database 0: leave the path empty")
		}
	}
	for k := range q {
		return RedisOptions{}, fmt.Errorf("unknown parameter %q", k)
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

func (o RedisOptions) validate() error {
	switch o.Mode {
	case RedisEmbedded:
		if len(o.Addrs) > 0 {
			return errors.New("embedded mode has no addresses")
		}
		return nil
	case RedisStandalone:
		if len(o.Addrs) != 1 {
			return errors.New("standalone mode needs exactly one address")
		}
	case RedisSentinel:
		if len(o.Addrs) == 0 {
			return errors.New("no sentinel addresses")
		}
		if o.MasterName == "" {
			return errors.New("no master name: redis-sentinel://HOST:PORT,…/MASTER")
		}
	case RedisCluster:
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

func (o RedisOptions) tlsConfig() *tls.Config {
	if !o.TLS {
		return nil
	}
	// No ServerName: the dialer takes it from each node's address, which
	// differs between sentinels, masters and cluster nodes.
	return &tls.Config{MinVersion: tls.VersionTLS12}
}

// ConnOpt returns asynq's options: RedisClientOpt, RedisFailoverClientOpt
// or RedisClusterClientOpt. It is nil in embedded mode.
func (o RedisOptions) ConnOpt() asynq.RedisConnOpt {
	switch o.Mode {
	case RedisStandalone:
		return asynq.RedisClientOpt{
			Addr: o.Addrs[0], Username: o.Username, Password: o.Password, DB: o.DB, TLSConfig: o.tlsConfig(),
		}
	case RedisSentinel:
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
	case RedisCluster:
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
func (o RedisOptions) UniversalOptions() *redis.UniversalOptions {
	if o.Mode == RedisEmbedded || o.Mode == "" {
		return nil
	}
	return &redis.UniversalOptions{
		Addrs:            append([]string(nil), o.Addrs...),
		MasterName:       o.MasterName,
		IsClusterMode:    o.Mode == RedisCluster,
		Username:         o.Username,
		Password:         o.Password,
		SentinelUsername: o.SentinelUsername,
		SentinelPassword: o.SentinelPassword,
		DB:               o.DB,
		TLSConfig:        o.tlsConfig(),
	}
}

// String is the URL form without passwords, for logs.
func (o RedisOptions) String() string {
	if o.Mode == RedisEmbedded || o.Mode == "" {
		return "embedded"
	}
	scheme := "redis"
	if o.TLS {
		scheme = "rediss"
	}
	switch o.Mode {
	case RedisSentinel:
		scheme += "-sentinel"
	case RedisCluster:
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
	case RedisStandalone:
		if o.DB != 0 {
			b.WriteString("/" + strconv.Itoa(o.DB))
		}
	case RedisSentinel:
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
