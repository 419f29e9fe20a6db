package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultSessionTTL bounds a session's life: it is not extended by use, so
// a cookie that leaks is worth at most this long.
const DefaultSessionTTL = 8 * time.Hour

// errNoSession is a cookie that names no live session.
var errNoSession = errors.New("console: no such session")

// session is what the server keeps about a signed-in browser. The API key
// itself is never kept: its hash is enough to check, on every request,
// that the key still exists and is not revoked.
type session struct {
	KeyHash string    `json:"key_hash"`
	Tenant  string    `json:"tenant"`
	CSRF    string    `json:"csrf"`
	Expires time.Time `json:"expires"`
}

// Sessions keeps sessions in Redis, so every api replica knows them and
// signing out ends a session everywhere; Redis expires them.
type Sessions struct {
	Redis redis.UniversalClient
	TTL   time.Duration
}

// redisKey stores a session under the hash of its id, so a copy of Redis
// holds no cookie that would sign anyone in.
func redisKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "console:session:" + hex.EncodeToString(sum[:])
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

func (s *Sessions) ttl() time.Duration {
	if s.TTL <= 0 {
		return DefaultSessionTTL
	}
	return s.TTL
}

// create starts a session and returns its id (the cookie's value).
func (s *Sessions) create(ctx context.Context, keyHash, tenant string, now time.Time) (string, session, error) {
	id := randomToken()
	sess := session{KeyHash: keyHash, Tenant: tenant, CSRF: randomToken(), Expires: now.Add(s.ttl()).UTC()}
	b, err := json.Marshal(sess)
	if err != nil {
		return "", session{}, fmt.Errorf("console: session: %w", err)
	}
	if err := s.Redis.Set(ctx, redisKey(id), b, s.ttl()).Err(); err != nil {
		return "", session{}, fmt.Errorf("console: store session: %w", err)
	}
	return id, sess, nil
}

// get returns the live session id names.
func (s *Sessions) get(ctx context.Context, id string, now time.Time) (session, error) {
	if id == "" {
		return session{}, errNoSession
	}
	b, err := s.Redis.Get(ctx, redisKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return session{}, errNoSession
	}
	if err != nil {
		return session{}, fmt.Errorf("console: read session: %w", err)
	}
	var sess session
	if err := json.Unmarshal(b, &sess); err != nil || !now.Before(sess.Expires) {
		return session{}, errNoSession
	}
	return sess, nil
}

// end deletes a session (sign out, or its key was revoked).
func (s *Sessions) end(ctx context.Context, id string) error {
	if err := s.Redis.Del(ctx, redisKey(id)).Err(); err != nil {
		return fmt.Errorf("console: end session: %w", err)
	}
	return nil
}
