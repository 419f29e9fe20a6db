// Package testenv gives tests real, throwaway services: a PostgreSQL
// database, a Redis server and an S3 server (versitygw). It never skips: a
// service that cannot be had fails the test with a message that says how to
// provide it (`make test` provisions everything).
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for admin statements
)

// RandomName returns prefix followed by random hex, usable as an identifier.
func RandomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// PostgresURL returns the URL of a new, empty database on the server named by
// TEST_DATABASE_URL. The database is dropped when the test ends.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		tb.Fatal("testenv: TEST_DATABASE_URL is not set; run `make test`, which starts a throwaway PostgreSQL, " +
			"or point it at a server where this user may CREATE DATABASE (e.g. postgres://postgres@127.0.0.1:5432/postgres)")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatalf("testenv: open %s: %v", base, err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name := RandomName("sentinel_test_")
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("testenv: PostgreSQL at TEST_DATABASE_URL is not usable: create database: %v", err)
	}
	tb.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("testenv: TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// SQLitePath returns a fresh SQLite database path in the test's temp dir.
func SQLitePath(tb testing.TB) string {
	return filepath.Join(tb.TempDir(), "audit.db")
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("testenv: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// RedisURL starts a private redis-server for the test (so tests in parallel
// packages never see each other's queues) and returns its URL. When
// TEST_REDIS_URL is set it is used instead, after FLUSHALL.
func RedisURL(tb testing.TB) string {
	tb.Helper()
	if u := os.Getenv("TEST_REDIS_URL"); u != "" {
		flushRedis(tb, u)
		return u
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Fatal("testenv: redis-server is not on PATH and TEST_REDIS_URL is not set; run `make test` " +
			"(it installs redis-server from the OS packages) or set TEST_REDIS_URL")
	}
	port := FreePort(tb)
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", tb.TempDir())
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		tb.Fatalf("testenv: start redis-server: %v", err)
	}
	tb.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	waitTCP(tb, "redis-server", addr)
	return "redis://" + addr + "/0"
}

// S3 describes a running S3 server and a fresh bucket on it.
type S3 struct {
	Endpoint  string // http://127.0.0.1:PORT
	Bucket    string
	AccessKey string
	SecretKey string
	Region    string
	Dir       string // the server's backing directory, for fault injection
}

// StorageURL is the STORAGE_URL that selects this bucket.
func (s S3) StorageURL() string { return "s3://" + s.Bucket }

// Env returns the environment variables that point the AWS SDK at it.
func (s S3) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL_S3=" + s.Endpoint,
		"AWS_ACCESS_KEY_ID=" + s.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + s.SecretKey,
		"AWS_REGION=" + s.Region,
		"S3_FORCE_PATH_STYLE=true",
		"STORAGE_URL=" + s.StorageURL(),
	}
}

// VersityGW starts a private versitygw (posix backend in a temp dir) with one
// bucket already created and returns its coordinates. The posix backend
// keeps metadata in extended attributes, so the temp dir must be on a
// filesystem with user xattrs (ext4, xfs, btrfs; tmpfs since Linux 6.6);
// versitygw refuses to start otherwise and the test fails with its log.
// posixFlags go to its posix backend (e.g. --data-integrity-etag).
func VersityGW(tb testing.TB, posixFlags ...string) S3 {
	tb.Helper()
	bin := versityBinary(tb)
	dir := tb.TempDir()
	s := S3{
		AccessKey: "sentinel-test",
		SecretKey: "sentinel-test-secret",
		Region:    "us-east-1",
		Bucket:    "exports",
		Dir:       dir,
	}
	// A directory below the root is a bucket to the posix backend; the
	// root account owns it without any ACL attributes.
	if err := os.Mkdir(filepath.Join(dir, s.Bucket), 0o755); err != nil {
		tb.Fatal(err)
	}
	port := FreePort(tb)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	args := []string{"--access", s.AccessKey, "--secret", s.SecretKey, "--region", s.Region, "--port", addr, "posix"}
	cmd := exec.Command(bin, append(append(args, posixFlags...), dir)...)
	logPath := filepath.Join(tb.TempDir(), "versitygw.log")
	logf, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		tb.Fatalf("testenv: start versitygw: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	logShown := false
	serverLog := func() string {
		logShown = true
		b, _ := os.ReadFile(logPath)
		if len(b) > 4000 {
			b = b[len(b)-4000:]
		}
		return string(b)
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		_ = logf.Close() // a log file of a finished test; nothing to report to
		if tb.Failed() && !logShown {
			tb.Logf("testenv: versitygw log (%s):\n%s", logPath, serverLog())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			tb.Fatalf("testenv: versitygw exited before listening (%v); its log:\n%s", err, serverLog())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			tb.Fatalf("testenv: versitygw did not listen on %s within 15s; its log:\n%s", addr, serverLog())
		}
	}
	s.Endpoint = "http://" + addr
	return s
}

func versityBinary(tb testing.TB) string {
	tb.Helper()
	if b := os.Getenv("VERSITYGW_BIN"); b != "" {
		return b
	}
	root, err := moduleRoot()
	if err == nil {
		b := filepath.Join(root, "bin", "versitygw")
		if _, err := os.Stat(b); err == nil {
			return b
		}
	}
	if b, err := exec.LookPath("versitygw"); err == nil {
		return b
	}
	tb.Fatal("testenv: versitygw not found: run `make test` (it builds bin/versitygw from the pinned tools " +
		"module) or set VERSITYGW_BIN")
	return ""
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			strings.Contains(string(b), "module github.com/auditsentinel/sentinel\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("testenv: module root not found")
		}
		dir = parent
	}
}

// ModuleRoot returns the repository root (for tests that build binaries).
func ModuleRoot(tb testing.TB) string {
	tb.Helper()
	r, err := moduleRoot()
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func waitTCP(tb testing.TB, what, addr string) {
	tb.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("testenv: %s did not listen on %s within 15s", what, addr)
}
