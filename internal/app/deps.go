// Package app wires Audit Sentinel's parts together from a config.Config:
// the SQL store, object storage, the queue and, in embedded mode, an
// in-process Redis and worker. cmd/api and cmd/worker only parse flags and
// the environment and call into here; tests boot the same code on :0.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/config"
	"github.com/auditsentinel/sentinel/internal/export"
	"github.com/auditsentinel/sentinel/internal/lease"
	"github.com/auditsentinel/sentinel/internal/live"
	"github.com/auditsentinel/sentinel/internal/objstore"
	"github.com/auditsentinel/sentinel/internal/objstore/filesystem"
	s3store "github.com/auditsentinel/sentinel/internal/objstore/s3"
	"github.com/auditsentinel/sentinel/internal/redisconn"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
	"github.com/auditsentinel/sentinel/internal/sqlstore/postgres"
	"github.com/auditsentinel/sentinel/internal/sqlstore/sqlite"
)

// Deps are the connected parts every process needs.
type Deps struct {
	Store  *sqlstore.DB
	Bucket objstore.Bucket
	// Redis is how asynq reaches Redis; in embedded mode it points at the
	// in-process server.
	Redis    asynq.RedisConnOpt
	Embedded bool
	// Tracer traces requests, enqueues, tasks, database streams and
	// uploads; nil traces nothing. Main and WorkerMain set it.
	Tracer trace.TracerProvider
	mini   redisconn.Server
	rdb    redis.UniversalClient
}

// StartRedis starts the in-process Redis of embedded mode: cmd/api passes
// embedded.Start (package redisconn/embedded). The worker binary passes
// none, so that it does not link miniredis and a Lua interpreter, which
// cost every worker megabytes of RSS for a mode it refuses.
type StartRedis func() (redisconn.Server, error)

// OpenStore opens (and migrates) the SQL store DATABASE_URL names.
func OpenStore(ctx context.Context, cfg config.Config, logger *slog.Logger) (*sqlstore.DB, error) {
	switch cfg.DatabaseKind {
	case config.DatabasePostgres:
		return postgres.Open(ctx, cfg.DatabaseDSN, logger)
	case config.DatabaseSQLite:
		// The embedded default lives under ./data: create it on first start.
		if dir := filepath.Dir(strings.SplitN(cfg.DatabaseDSN, "?", 2)[0]); dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("app: create database directory: %w", err)
			}
		}
		return sqlite.Open(ctx, cfg.DatabaseDSN, logger)
	}
	return nil, fmt.Errorf("app: DATABASE_URL: unknown database kind %q", cfg.DatabaseKind)
}

// OpenBucket opens the object storage STORAGE_URL names.
func OpenBucket(ctx context.Context, cfg config.Config, logger *slog.Logger) (objstore.Bucket, error) {
	switch cfg.StorageKind {
	case config.StorageS3:
		b, err := s3store.New(ctx, s3store.Config{
			Bucket: cfg.Bucket, Prefix: cfg.Prefix, ForcePathStyle: cfg.S3ForcePathStyle, Endpoint: cfg.S3Endpoint,
			SignPayload: cfg.S3SignPayload, ObjectLockMode: cfg.S3ObjectLockMode, Logger: logger,
		})
		if err != nil {
			return nil, err
		}
		// Object Lock is the bucket's to enable (only at its creation, on
		// AWS); without it archives are written without retention and the
		// minimum retention and holds are the service's alone. Neither
		// answer stops the start.
		switch locked, err := b.DetectObjectLock(ctx); {
		case err != nil:
			logger.WarnContext(ctx, "could not read the bucket's Object Lock configuration; archives are written without retention",
				"bucket", cfg.Bucket, "err", err)
		case locked:
			logger.InfoContext(ctx, "bucket has Object Lock: archives are written with a retain-until date (their minimum retention)",
				"bucket", cfg.Bucket, "mode", cfg.S3ObjectLockMode)
		case cfg.S3ObjectLockMode != "off":
			logger.InfoContext(ctx, "bucket has no Object Lock: archives are written without retention; minimum retention and holds are enforced by the service only",
				"bucket", cfg.Bucket)
		}
		return b, nil
	case config.StorageFile:
		if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("app: create storage directory: %w", err)
		}
		return filesystem.New(cfg.Dir)
	}
	return nil, fmt.Errorf("app: STORAGE_URL: unknown storage kind %q", cfg.StorageKind)
}

// Open connects everything cfg names. In embedded mode (REDIS_URL unset) it
// starts an in-process Redis with startRedis that lives as long as Deps;
// without startRedis, embedded mode is an error.
func Open(ctx context.Context, cfg config.Config, logger *slog.Logger, startRedis StartRedis) (_ *Deps, err error) {
	d := &Deps{}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	if d.Store, err = OpenStore(ctx, cfg, logger); err != nil {
		return nil, fmt.Errorf("database (DATABASE_URL): %w", err)
	}
	if d.Bucket, err = OpenBucket(ctx, cfg, logger); err != nil {
		return nil, fmt.Errorf("storage (STORAGE_URL): %w", err)
	}
	rc := cfg.Redis
	if rc.Mode == redisconn.Embedded || rc.Mode == "" {
		if startRedis == nil {
			return nil, errors.New("REDIS_URL: must be set: this process runs no in-process Redis")
		}
		if d.mini, err = startRedis(); err != nil {
			return nil, err
		}
		rc, d.Embedded = d.mini.Config(), true
		logger.Info("embedded mode: in-process Redis and worker; set REDIS_URL to run api and workers apart",
			"redis_addr", strings.Join(rc.Addrs, ","))
	}
	d.Redis = rc.ConnOpt()
	sealed, err := sealSecrets(ctx, cfg, d.Embedded, d.Store, logger)
	if err != nil {
		return nil, fmt.Errorf("webhook secrets (SECRETS_KEY): %w", err)
	}
	d.Store = sealed
	// rdb also reads the live export streams, and every live response
	// holds one of its connections while it blocks on XREAD.
	d.rdb = rc.NewClient(export.MaxLiveStreams)
	return d, nil
}

// LiveReader is what the API reads live export streams with; nil when
// EXPORT_LIVE is off.
func (d *Deps) LiveReader(cfg config.Config) live.Source {
	if !cfg.ExportLive {
		return nil
	}
	return &live.Reader{Redis: d.rdb}
}

// LivePublisher is what workers publish live export streams with; nil
// when EXPORT_LIVE is off.
func (d *Deps) LivePublisher(cfg config.Config, logger *slog.Logger) *live.Publisher {
	if !cfg.ExportLive {
		return nil
	}
	return &live.Publisher{Redis: d.rdb, Logger: logger.With("component", "live"), Compress: cfg.LiveCompression == config.LiveCompressionS2}
}

// Leases are the sweeper's: its costly steps run once per period for the
// whole cluster, on the queue's Redis.
func (d *Deps) Leases() *lease.Redis {
	host, _ := os.Hostname()
	return &lease.Redis{Client: d.rdb, Owner: fmt.Sprintf("%s/%d", host, os.Getpid())}
}

// PingRedis checks the queue's Redis.
func (d *Deps) PingRedis(ctx context.Context) error {
	if err := d.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: ping: %w", err)
	}
	return nil
}

// Close releases everything Open connected.
func (d *Deps) Close() error {
	var errs []error
	if d.Store != nil {
		errs = append(errs, d.Store.Close())
	}
	if d.rdb != nil {
		errs = append(errs, d.rdb.Close())
	}
	if d.mini != nil {
		d.mini.Close()
	}
	return errors.Join(errs...)
}

var _ audit.Store = (*sqlstore.DB)(nil)
