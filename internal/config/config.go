// Package config is the service's configuration: a plain struct with
// defaults, parsed from the environment by FromEnv and checked by Validate.
//
// Only cmd/ reads the environment; everything else receives a Config (or
// the few fields it needs). Every error is a *VarError that names the
// variable and says what it accepts.
//
// Variables (an empty value counts as unset):
//
//	HTTP_ADDR             listen address, HOST:PORT or :PORT       default ":8080"
//	METRICS_ADDR          the worker's /metrics, /healthz, /readyz optional (unset = none;
//	                      listen address, HOST:PORT or :PORT       the api serves /metrics
//	                                                               on HTTP_ADDR)
//	DEBUG_ADDR            Go's profiles (/debug/pprof/), no auth;   optional (unset = none)
//	                      listen address, HOST:PORT or :PORT
//	DATABASE_URL          postgres://… | postgresql://… |          default "sqlite:./data/audit.db"
//	                      sqlite:PATH | sqlite://PATH
//	REDIS_URL             see redisconn.ParseURL; unset = embedded mode
//	STORAGE_URL           s3://BUCKET[/PREFIX] | file:///DIR |     default "file://./data/exports"
//	                      file://./RELATIVE/DIR
//	S3_FORCE_PATH_STYLE   bool                                     default false
//	S3_SIGN_PAYLOAD       bool (sign upload bodies over http://)   default false
//	S3_OBJECT_LOCK_MODE   governance | compliance | off            default governance
//	EXPORT_WAIT           duration, 0s..2m                         default 20s
//	EXPORT_REUSE_WINDOW   duration, 0s..30d (0 = never reuse)      default 10m
//	EXPORT_LIVE           bool (stream CSVs while they render)     default true
//	LIVE_COMPRESSION      none | s2 (the live stream in Redis)     default none
//	EXPORT_RETENTION      duration, 1s..3650d ("7d" allowed)       default 168h
//	PDF_MAX_EVENTS        integer, 1..100000                       default 5000
//	EXPORT_MAX_ACTIVE_PER_TENANT  integer, 0..100000 (0 = no cap)  default 20
//	WORKER_CONCURRENCY    integer, 1..1024                         default 4
//	SWEEP_EVERY           duration, 1s..5m                         default 15s
//	SWEEP_ORPHAN_SCAN_EVERY  duration, 1m..30d                     default 1h
//	SWEEP_UPLOAD_SCAN_EVERY  duration, 1m..1d                      default 10m
//	PURGE_EVERY           duration, 1s..1d                         default 1m
//	PURGE_DUTY            number, 0.01..1                          default 0.1
//	LOG_LEVEL             debug | info | warn | error              default info
//	LOG_FORMAT            json | text | auto                       default auto
//	SIGNING_KEY           base64 Ed25519 seed (32 bytes) or        optional
//	                      private key (64 bytes)
//	SIGNING_KEYS_RETIRED  KEY_ID:PUBLIC_KEY,… of earlier           optional
//	                      SIGNING_KEYs (from GET /signing-keys),
//	                      still published
//	SECRETS_KEY           base64 of 32 random bytes: seals the     optional
//	                      webhook secrets the database keeps
//	SECRETS_KEYS_RETIRED  earlier SECRETS_KEYs, comma-separated:   optional
//	                      opened, and sealed again under the
//	                      current key at start-up
//	WEBHOOK_ALLOW_PRIVATE bool                                     default false
//	PUBLIC_BASE_URL       absolute http(s) URL                     optional
//	OTEL_SDK_DISABLED     bool: no tracing whatever else is set    default false
//	OTEL_TRACES_EXPORTER  otlp | none                              default none, or otlp when
//	                                                               an OTLP endpoint is set
//	OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
//	                      the collector (the exporter reads them;  optional
//	                      here they only switch tracing on)
//	OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
//	                      http/protobuf | grpc                     default http/protobuf
//	OTEL_SERVICE_NAME     service.name of the spans                default audit-sentinel-api
//	                                                               or audit-sentinel-worker
//
// Durations use Go syntax (20s, 10m, 1h30m) and also whole days: "7d",
// "1d12h". Booleans are those strconv.ParseBool accepts (true, false, 1, 0,
// t, f, …).
//
// The S3 client itself is configured by the AWS SDK's own variables
// (AWS_ENDPOINT_URL_S3, AWS_REGION, AWS_ACCESS_KEY_ID, …), which this
// package does not read.
package config

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/auditsentinel/sentinel/internal/manifest"
	"github.com/auditsentinel/sentinel/internal/redisconn"
	"github.com/auditsentinel/sentinel/internal/tracing"
)

// Names of the kinds of database and storage.
const (
	DatabasePostgres = "postgres"
	DatabaseSQLite   = "sqlite"

	StorageS3   = "s3"
	StorageFile = "file"
)

// Log formats.
const (
	LogFormatJSON = "json"
	LogFormatText = "text"
	LogFormatAuto = "auto"
)

// Live stream compressions (LIVE_COMPRESSION).
const (
	LiveCompressionNone = "none"
	LiveCompressionS2   = "s2"
)

// Limits enforced by Validate.
const (
	MaxExportWait        = 2 * time.Minute
	MaxExportReuseWindow = 30 * 24 * time.Hour
	MinExportRetention   = time.Second
	MaxExportRetention   = 3650 * 24 * time.Hour
	MaxPDFMaxEvents      = 100_000
	MaxActivePerTenant   = 100_000
	MaxWorkerConcurrency = 1024
	// The sweeper's cadence. A sweep finds lost and stalled exports, so
	// SWEEP_EVERY stays short: a lost task waits up to 30 s plus it.
	MinSweepEvery      = time.Second
	MaxSweepEvery      = 5 * time.Minute
	MinOrphanScanEvery = time.Minute
	MaxOrphanScanEvery = 30 * 24 * time.Hour
	MinUploadScanEvery = time.Minute
	// An incomplete upload is abandoned after a day; listing them less
	// often than that would leave them twice as long.
	MaxUploadScanEvery = 24 * time.Hour
	MinPurgeEvery      = time.Second
	MaxPurgeEvery      = 24 * time.Hour
	MinPurgeDuty       = 0.01
	MaxPurgeDuty       = 1.0
)

// Config is everything the binaries read from the environment.
type Config struct {
	// HTTPAddr is where the API listens (HTTP_ADDR).
	HTTPAddr string
	// MetricsAddr is where a worker serves /metrics and its probes
	// (METRICS_ADDR); empty: nowhere. The api ignores it: its /metrics is
	// on HTTPAddr and, in embedded mode, covers the in-process worker.
	MetricsAddr string
	// DebugAddr is where the api or the worker serves Go's runtime
	// profiles, /debug/pprof/ (DEBUG_ADDR); empty: nowhere. It has no
	// authentication, so it is a listener of its own, never the API's:
	// bind it to loopback or a pod-internal port.
	DebugAddr string

	// DatabaseURL is DATABASE_URL as given; DatabaseKind and DatabaseDSN are
	// what it selects: for "postgres" the DSN is the URL itself, for
	// "sqlite" it is the file path (anything after it, such as a query
	// string of driver options, is kept).
	DatabaseURL  string
	DatabaseKind string
	DatabaseDSN  string

	// Redis is REDIS_URL parsed; its Mode is redisconn.Embedded when unset.
	Redis redisconn.Config

	// StorageURL is STORAGE_URL as given. For StorageKind "s3", Bucket and
	// Prefix are set (Prefix has no leading or trailing "/" and may be
	// empty); for "file", Dir is set.
	StorageURL  string
	StorageKind string
	Bucket      string
	Prefix      string
	Dir         string
	// S3ForcePathStyle addresses buckets as ENDPOINT/BUCKET rather than
	// BUCKET.ENDPOINT, as MinIO and most self-hosted S3 servers need
	// (S3_FORCE_PATH_STYLE).
	S3ForcePathStyle bool
	// S3SignPayload covers upload bodies with the SigV4 signature over
	// plain http:// instead of a signed CRC32C (S3_SIGN_PAYLOAD); see
	// objstore/s3.Config.SignPayload.
	S3SignPayload bool
	// S3ObjectLockMode is the Object Lock mode archives are written with
	// when the bucket has Object Lock enabled: governance, compliance, or
	// off (S3_OBJECT_LOCK_MODE, default governance).
	S3ObjectLockMode string
	// ExportLive relays a CSV's bytes through Redis while it renders, so a
	// waiting GET streams it as it renders instead of after it is stored
	// (EXPORT_LIVE, default true; package live).
	ExportLive bool
	// LiveCompression is how the live stream's chunks cross Redis: none,
	// or s2, S2 blocks of about half their size, for a Redis across a
	// network or short of memory, at ~0.25 CPU-s of a worker's per
	// 180 MB (LIVE_COMPRESSION, default none; package live).
	LiveCompression string
	// S3Endpoint is AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL: the SDK
	// reads them too, but passing the value explicitly keeps what the
	// process logs and what it connects to the same.
	S3Endpoint string

	// ExportWait is how long GET /events/export waits for a small export
	// to finish before answering 202 (EXPORT_WAIT).
	ExportWait time.Duration
	// ExportReuseWindow is how long a finished export answers identical
	// requests (EXPORT_REUSE_WINDOW); 0 never reuses.
	ExportReuseWindow time.Duration
	// ExportRetention is how long a finished export's file is kept unless
	// the request asked otherwise (EXPORT_RETENTION).
	ExportRetention time.Duration
	// PDFMaxEvents caps the events in one PDF export (PDF_MAX_EVENTS).
	PDFMaxEvents int
	// ExportMaxActivePerTenant caps a tenant's on-demand exports queued or
	// running at once (EXPORT_MAX_ACTIVE_PER_TENANT); 0 does not cap.
	ExportMaxActivePerTenant int
	// WorkerConcurrency is the number of exports one worker process runs
	// at once (WORKER_CONCURRENCY).
	WorkerConcurrency int

	// The sweeper's cadence, for the whole cluster (each step runs on one
	// worker per period; set the same values on every worker).
	// SweepEvery spaces the sweeps, which re-enqueue lost tasks, fail
	// stalled exports and delete expired files (SWEEP_EVERY).
	SweepEvery time.Duration
	// SweepOrphanScanEvery spaces the full listing of the bucket for
	// objects no export owns (SWEEP_ORPHAN_SCAN_EVERY).
	SweepOrphanScanEvery time.Duration
	// SweepUploadScanEvery spaces the listing of incomplete uploads to
	// abort (SWEEP_UPLOAD_SCAN_EVERY).
	SweepUploadScanEvery time.Duration
	// PurgeEvery spaces the retention purges (PURGE_EVERY).
	PurgeEvery time.Duration
	// PurgeDuty is the share of its time a purge keeps the database busy
	// (PURGE_DUTY): after a batch that took d it waits d×(1−duty)/duty.
	PurgeDuty float64

	LogLevel  slog.Level // LOG_LEVEL
	LogFormat string     // LOG_FORMAT: json, text or auto

	// SigningKey signs export manifests; nil when SIGNING_KEY is unset.
	SigningKey ed25519.PrivateKey
	// RetiredSigningKeys are the public keys of earlier SIGNING_KEYs
	// (SIGNING_KEYS_RETIRED): after a rotation they stay published at
	// /signing-keys, so manifests signed before it keep verifying.
	RetiredSigningKeys []ed25519.PublicKey
	// SecretsKey seals the webhook secrets the database keeps
	// (SECRETS_KEY, package secretbox); nil stores them unsealed.
	SecretsKey []byte
	// RetiredSecretsKeys are earlier SECRETS_KEYs (SECRETS_KEYS_RETIRED):
	// what they sealed still opens, and is sealed again under SecretsKey.
	RetiredSecretsKeys [][]byte

	// WebhookAllowPrivate lets webhooks target loopback, private and
	// link-local addresses (WEBHOOK_ALLOW_PRIVATE); off by default so a
	// tenant cannot make the service call into its own network.
	WebhookAllowPrivate bool

	// PublicBaseURL is the externally visible root used in absolute URLs,
	// without a trailing "/"; empty means URLs are built from the request.
	PublicBaseURL string

	// Tracing is whether and where to export OpenTelemetry traces: off
	// unless OTEL_TRACES_EXPORTER=otlp or an OTLP endpoint is set (see
	// tracingFromEnv).
	Tracing tracing.Config
}

// Default values of the variables.
const (
	DefaultHTTPAddr    = ":8080"
	DefaultDatabaseURL = "sqlite:./data/audit.db"
	DefaultStorageURL  = "file://./data/exports"
)

// Default returns the configuration used when no variable is set.
func Default() Config {
	kind, dsn, err := ParseDatabaseURL(DefaultDatabaseURL)
	if err != nil {
		panic(err)
	}
	st, err := ParseStorageURL(DefaultStorageURL)
	if err != nil {
		panic(err)
	}
	return Config{
		HTTPAddr:          DefaultHTTPAddr,
		DatabaseURL:       DefaultDatabaseURL,
		DatabaseKind:      kind,
		DatabaseDSN:       dsn,
		Redis:             redisconn.Config{Mode: redisconn.Embedded},
		StorageURL:        DefaultStorageURL,
		StorageKind:       st.Kind,
		Bucket:            st.Bucket,
		Prefix:            st.Prefix,
		Dir:               st.Dir,
		ExportWait:        20 * time.Second,
		ExportReuseWindow: 10 * time.Minute,
		ExportLive:        true,
		LiveCompression:   LiveCompressionNone,
		S3ObjectLockMode:  "governance",
		ExportRetention:   7 * 24 * time.Hour,
		PDFMaxEvents:      5000,
		// With four exports per worker, twenty keeps one tenant's burst
		// from holding every worker of a small fleet for long, and is
		// far above what a person or a scheduled job asks for at once.
		ExportMaxActivePerTenant: 20,
		WorkerConcurrency:        4,
		// The sweeper's own defaults (package export); a test in
		// package app keeps the two in step.
		SweepEvery:           15 * time.Second,
		SweepOrphanScanEvery: time.Hour,
		SweepUploadScanEvery: 10 * time.Minute,
		PurgeEvery:           time.Minute,
		PurgeDuty:            0.1,
		LogLevel:             slog.LevelInfo,
		LogFormat:            LogFormatAuto,
		Tracing:              tracing.Config{Protocol: tracing.ProtocolHTTP},
	}
}

// VarError is a bad value of one environment variable.
type VarError struct {
	Var     string // the variable, e.g. "EXPORT_WAIT"
	Value   string // the value as given; secrets are redacted
	Allowed string // what the variable accepts
	Err     error  // what was wrong, when there is more to say
}

func (e *VarError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "config: %s=%q", e.Var, e.Value)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	b.WriteString("; allowed: ")
	b.WriteString(e.Allowed)
	return b.String()
}

func (e *VarError) Unwrap() error { return e.Err }

// What each variable accepts, for error messages.
const (
	allowHTTPAddr     = "HOST:PORT or :PORT, e.g. :8080 or 127.0.0.1:8080"
	allowDatabaseURL  = "postgres://USER[:PASS]@HOST[:PORT]/DB (or postgresql://…), sqlite:PATH or sqlite://PATH"
	allowStorageURL   = "s3://BUCKET[/PREFIX], file:///ABSOLUTE/DIR or file://./RELATIVE/DIR"
	allowBool         = "true or false (also 1, 0, t, f)"
	allowLogLevel     = "debug, info, warn or error"
	allowLogFormat    = "json, text or auto"
	allowSigningKey   = "base64 (standard or URL alphabet) of an Ed25519 seed (32 bytes) or private key (64 bytes)"
	allowSecretsKey   = "base64 (standard or URL alphabet) of 32 random bytes, e.g. `head -c 32 /dev/urandom | base64`"
	allowSecretsKeys  = "comma-separated earlier SECRETS_KEY values (base64 of 32 bytes each)"
	allowRetiredKeys  = "comma-separated KEY_ID:PUBLIC_KEY pairs, the key_id and public_key of keys GET /signing-keys listed"
	allowPublicBase   = "an absolute http:// or https:// URL without query or fragment, e.g. https://audit.example.com"
	allowExportWait   = "a duration from 0s to 2m, e.g. 20s"
	allowReuseWindow  = "a duration from 0s to 30d, e.g. 10m (0 never reuses)"
	allowRetention    = "a duration from 1s to 3650d, e.g. 168h or 7d"
	allowPDFMax       = "an integer from 1 to 100000"
	allowMaxActive    = "an integer from 0 (no cap) to 100000"
	allowConcurrency  = "an integer from 1 to 1024"
	allowSweepEvery   = "a duration from 1s to 5m, e.g. 15s"
	allowOrphanScan   = "a duration from 1m to 30d, e.g. 1h"
	allowUploadScan   = "a duration from 1m to 1d, e.g. 10m"
	allowPurgeEvery   = "a duration from 1s to 1d, e.g. 1m"
	allowPurgeDuty    = "a number from 0.01 to 1, e.g. 0.1 (1: purge batches back to back)"
	allowExporter     = "otlp or none (unset: otlp when an OTLP endpoint is set, none otherwise)"
	allowProtocol     = "http/protobuf or grpc"
	redactedPlacehold = "<redacted>"
)

// FromEnv reads the configuration through getenv (os.Getenv in cmd/, a map
// in tests), applies defaults for unset variables and validates the result.
// The error joins one *VarError per bad variable.
func FromEnv(getenv func(string) string) (Config, error) {
	c := Default()
	var errs []error
	bad := func(name, value, allowed string, err error) {
		errs = append(errs, &VarError{Var: name, Value: value, Allowed: allowed, Err: err})
	}
	get := func(name string) (string, bool) {
		v := strings.TrimSpace(getenv(name))
		return v, v != ""
	}

	if v, ok := get("HTTP_ADDR"); ok {
		c.HTTPAddr = v
	}
	if v, ok := get("METRICS_ADDR"); ok {
		c.MetricsAddr = v
	}
	if v, ok := get("DEBUG_ADDR"); ok {
		c.DebugAddr = v
	}
	if v, ok := get("DATABASE_URL"); ok {
		kind, dsn, err := ParseDatabaseURL(v)
		if err != nil {
			bad("DATABASE_URL", redactURL(v), allowDatabaseURL, err)
		} else {
			c.DatabaseURL, c.DatabaseKind, c.DatabaseDSN = v, kind, dsn
		}
	}
	if v, ok := get("REDIS_URL"); ok {
		r, err := redisconn.ParseURL(v)
		if err != nil {
			bad("REDIS_URL", redactURL(v), redisconn.URLForms, err)
		} else {
			c.Redis = r
		}
	}
	if v, ok := get("STORAGE_URL"); ok {
		st, err := ParseStorageURL(v)
		if err != nil {
			bad("STORAGE_URL", v, allowStorageURL, err)
		} else {
			c.StorageURL, c.StorageKind, c.Bucket, c.Prefix, c.Dir = v, st.Kind, st.Bucket, st.Prefix, st.Dir
		}
	}
	boolVar := func(name string, dst *bool) {
		if v, ok := get(name); ok {
			b, err := strconv.ParseBool(v)
			if err != nil {
				bad(name, v, allowBool, errors.New("not a boolean"))
				return
			}
			*dst = b
		}
	}
	boolVar("S3_FORCE_PATH_STYLE", &c.S3ForcePathStyle)
	boolVar("S3_SIGN_PAYLOAD", &c.S3SignPayload)
	boolVar("EXPORT_LIVE", &c.ExportLive)
	// wordVar reads one of words, in any case.
	wordVar := func(name, what string, dst *string, words ...string) {
		if v, ok := get(name); ok {
			if m := strings.ToLower(v); slices.Contains(words, m) {
				*dst = m
			} else {
				allowed := strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
				bad(name, v, allowed, errors.New("not "+what))
			}
		}
	}
	wordVar("LIVE_COMPRESSION", "a live stream compression", &c.LiveCompression, LiveCompressionNone, LiveCompressionS2)
	wordVar("S3_OBJECT_LOCK_MODE", "an Object Lock mode", &c.S3ObjectLockMode, "governance", "compliance", "off")
	c.S3Endpoint = getenv("AWS_ENDPOINT_URL_S3")
	if c.S3Endpoint == "" {
		c.S3Endpoint = getenv("AWS_ENDPOINT_URL")
	}
	boolVar("WEBHOOK_ALLOW_PRIVATE", &c.WebhookAllowPrivate)

	durVar := func(name, allowed string, dst *time.Duration) {
		if v, ok := get(name); ok {
			d, err := ParseDuration(v)
			if err != nil {
				bad(name, v, allowed, err)
				return
			}
			*dst = d
		}
	}
	durVar("EXPORT_WAIT", allowExportWait, &c.ExportWait)
	durVar("EXPORT_REUSE_WINDOW", allowReuseWindow, &c.ExportReuseWindow)
	durVar("EXPORT_RETENTION", allowRetention, &c.ExportRetention)
	durVar("SWEEP_EVERY", allowSweepEvery, &c.SweepEvery)
	durVar("SWEEP_ORPHAN_SCAN_EVERY", allowOrphanScan, &c.SweepOrphanScanEvery)
	durVar("SWEEP_UPLOAD_SCAN_EVERY", allowUploadScan, &c.SweepUploadScanEvery)
	durVar("PURGE_EVERY", allowPurgeEvery, &c.PurgeEvery)
	if v, ok := get("PURGE_DUTY"); ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			bad("PURGE_DUTY", v, allowPurgeDuty, errors.New("not a number"))
		} else {
			c.PurgeDuty = f
		}
	}

	intVar := func(name, allowed string, dst *int) {
		if v, ok := get(name); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				bad(name, v, allowed, errors.New("not an integer"))
				return
			}
			*dst = n
		}
	}
	intVar("PDF_MAX_EVENTS", allowPDFMax, &c.PDFMaxEvents)
	intVar("EXPORT_MAX_ACTIVE_PER_TENANT", allowMaxActive, &c.ExportMaxActivePerTenant)
	intVar("WORKER_CONCURRENCY", allowConcurrency, &c.WorkerConcurrency)

	if v, ok := get("LOG_LEVEL"); ok {
		l, err := parseLogLevel(v)
		if err != nil {
			bad("LOG_LEVEL", v, allowLogLevel, err)
		} else {
			c.LogLevel = l
		}
	}
	if v, ok := get("LOG_FORMAT"); ok {
		c.LogFormat = strings.ToLower(v)
	}
	// secretList reads a comma-separated list of keys, each through parse;
	// errors name the entry, never its value.
	secretList := func(name, allowed string, parse func(string) error) {
		v, ok := get(name)
		if !ok {
			return
		}
		for i, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
			if err := parse(f); err != nil {
				bad(name, redactedPlacehold, allowed, fmt.Errorf("entry %d: %w", i+1, err))
			}
		}
	}
	// secretVar reads one key through parse; errors never show its value.
	secretVar := func(name, allowed string, parse func(string) error) {
		if v, ok := get(name); ok {
			if err := parse(v); err != nil {
				bad(name, redactedPlacehold, allowed, err)
			}
		}
	}
	secretVar("SIGNING_KEY", allowSigningKey, func(v string) (err error) {
		c.SigningKey, err = manifest.ParseKey(v)
		return err
	})
	secretList("SIGNING_KEYS_RETIRED", allowRetiredKeys, func(f string) error {
		k, err := ParseRetiredKey(f)
		if err == nil {
			c.RetiredSigningKeys = append(c.RetiredSigningKeys, k)
		}
		return err
	})
	secretVar("SECRETS_KEY", allowSecretsKey, func(v string) (err error) {
		c.SecretsKey, err = ParseSecretsKey(v)
		return err
	})
	secretList("SECRETS_KEYS_RETIRED", allowSecretsKeys, func(f string) error {
		k, err := ParseSecretsKey(f)
		if err == nil {
			c.RetiredSecretsKeys = append(c.RetiredSecretsKeys, k)
		}
		return err
	})
	if v, ok := get("PUBLIC_BASE_URL"); ok {
		c.PublicBaseURL = strings.TrimRight(v, "/")
	}
	tracingFromEnv(get, &c.Tracing, bad)

	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate checks every field, including those FromEnv derives, so a
// Config built in code (tests, embedding) is held to the same rules. The
// error joins one *VarError per bad field, named by its variable.
func (c Config) Validate() error {
	var errs []error
	bad := func(name, value, allowed string, err error) {
		errs = append(errs, &VarError{Var: name, Value: value, Allowed: allowed, Err: err})
	}

	if err := checkListenAddr(c.HTTPAddr); err != nil {
		bad("HTTP_ADDR", c.HTTPAddr, allowHTTPAddr, err)
	}
	for _, a := range [...]struct{ name, addr string }{{"METRICS_ADDR", c.MetricsAddr}, {"DEBUG_ADDR", c.DebugAddr}} {
		if a.addr == "" {
			continue // optional: no listener
		}
		if err := checkListenAddr(a.addr); err != nil {
			bad(a.name, a.addr, allowHTTPAddr, err)
		}
	}

	switch c.DatabaseKind {
	case DatabasePostgres, DatabaseSQLite:
		if c.DatabaseDSN == "" {
			bad("DATABASE_URL", redactURL(c.DatabaseURL), allowDatabaseURL, errors.New("no database given"))
		}
	default:
		bad("DATABASE_URL", redactURL(c.DatabaseURL), allowDatabaseURL,
			fmt.Errorf("unknown database kind %q", c.DatabaseKind))
	}

	if err := c.Redis.Validate(); err != nil {
		bad("REDIS_URL", c.Redis.String(), redisconn.URLForms, err)
	}

	switch c.StorageKind {
	case StorageS3:
		if err := checkBucket(c.Bucket); err != nil {
			bad("STORAGE_URL", c.StorageURL, allowStorageURL, err)
		}
	case StorageFile:
		if c.Dir == "" {
			bad("STORAGE_URL", c.StorageURL, allowStorageURL, errors.New("no directory given"))
		}
	default:
		bad("STORAGE_URL", c.StorageURL, allowStorageURL, fmt.Errorf("unknown storage kind %q", c.StorageKind))
	}

	durRange := func(name, allowed string, d, lo, hi time.Duration) {
		if d < lo || d > hi {
			bad(name, FormatDuration(d), allowed, errors.New("out of range"))
		}
	}
	durRange("EXPORT_WAIT", allowExportWait, c.ExportWait, 0, MaxExportWait)
	durRange("EXPORT_REUSE_WINDOW", allowReuseWindow, c.ExportReuseWindow, 0, MaxExportReuseWindow)
	durRange("EXPORT_RETENTION", allowRetention, c.ExportRetention, MinExportRetention, MaxExportRetention)
	durRange("SWEEP_EVERY", allowSweepEvery, c.SweepEvery, MinSweepEvery, MaxSweepEvery)
	durRange("SWEEP_ORPHAN_SCAN_EVERY", allowOrphanScan, c.SweepOrphanScanEvery, MinOrphanScanEvery, MaxOrphanScanEvery)
	durRange("SWEEP_UPLOAD_SCAN_EVERY", allowUploadScan, c.SweepUploadScanEvery, MinUploadScanEvery, MaxUploadScanEvery)
	durRange("PURGE_EVERY", allowPurgeEvery, c.PurgeEvery, MinPurgeEvery, MaxPurgeEvery)
	if !(c.PurgeDuty >= MinPurgeDuty && c.PurgeDuty <= MaxPurgeDuty) { // also NaN
		bad("PURGE_DUTY", strconv.FormatFloat(c.PurgeDuty, 'g', -1, 64), allowPurgeDuty, errors.New("out of range"))
	}

	if c.ExportMaxActivePerTenant < 0 || c.ExportMaxActivePerTenant > MaxActivePerTenant {
		bad("EXPORT_MAX_ACTIVE_PER_TENANT", strconv.Itoa(c.ExportMaxActivePerTenant), allowMaxActive, errors.New("out of range"))
	}
	if c.PDFMaxEvents < 1 || c.PDFMaxEvents > MaxPDFMaxEvents {
		bad("PDF_MAX_EVENTS", strconv.Itoa(c.PDFMaxEvents), allowPDFMax, errors.New("out of range"))
	}
	if c.WorkerConcurrency < 1 || c.WorkerConcurrency > MaxWorkerConcurrency {
		bad("WORKER_CONCURRENCY", strconv.Itoa(c.WorkerConcurrency), allowConcurrency, errors.New("out of range"))
	}

	switch c.LogLevel {
	case slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError:
	default:
		bad("LOG_LEVEL", c.LogLevel.String(), allowLogLevel, errors.New("not one of the four levels"))
	}
	switch c.LogFormat {
	case LogFormatJSON, LogFormatText, LogFormatAuto:
	default:
		bad("LOG_FORMAT", c.LogFormat, allowLogFormat, errors.New("unknown format"))
	}

	if c.SigningKey != nil && len(c.SigningKey) != ed25519.PrivateKeySize {
		bad("SIGNING_KEY", redactedPlacehold, allowSigningKey,
			fmt.Errorf("key is %d bytes, want %d", len(c.SigningKey), ed25519.PrivateKeySize))
	}

	if c.PublicBaseURL != "" {
		if err := checkPublicBaseURL(c.PublicBaseURL); err != nil {
			bad("PUBLIC_BASE_URL", c.PublicBaseURL, allowPublicBase, err)
		}
	}
	switch c.Tracing.Exporter {
	case "", tracing.ExporterNone, tracing.ExporterOTLP:
	default:
		bad("OTEL_TRACES_EXPORTER", c.Tracing.Exporter, allowExporter, errors.New("unknown exporter"))
	}
	switch c.Tracing.Protocol {
	case "", tracing.ProtocolHTTP, tracing.ProtocolGRPC:
	default:
		bad("OTEL_EXPORTER_OTLP_PROTOCOL", c.Tracing.Protocol, allowProtocol, errors.New("unknown protocol"))
	}
	return errors.Join(errs...)
}

// LogValue lists the configuration without secrets, for a startup log line.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("http_addr", c.HTTPAddr),
		slog.String("metrics_addr", c.MetricsAddr),
		slog.String("debug_addr", c.DebugAddr),
		slog.String("database", c.DatabaseKind),
		slog.String("database_url", redactURL(c.DatabaseURL)),
		slog.String("redis", c.Redis.String()),
		slog.String("storage_url", c.StorageURL),
		slog.Bool("s3_force_path_style", c.S3ForcePathStyle),
		slog.Bool("s3_sign_payload", c.S3SignPayload),
		slog.String("s3_object_lock_mode", c.S3ObjectLockMode),
		slog.Bool("export_live", c.ExportLive),
		slog.String("live_compression", c.LiveCompression),
		slog.String("s3_endpoint", c.S3Endpoint),
		slog.String("export_wait", FormatDuration(c.ExportWait)),
		slog.String("export_reuse_window", FormatDuration(c.ExportReuseWindow)),
		slog.String("export_retention", FormatDuration(c.ExportRetention)),
		slog.Int("pdf_max_events", c.PDFMaxEvents),
		slog.Int("export_max_active_per_tenant", c.ExportMaxActivePerTenant),
		slog.Int("worker_concurrency", c.WorkerConcurrency),
		slog.String("sweep_every", FormatDuration(c.SweepEvery)),
		slog.String("sweep_orphan_scan_every", FormatDuration(c.SweepOrphanScanEvery)),
		slog.String("sweep_upload_scan_every", FormatDuration(c.SweepUploadScanEvery)),
		slog.String("purge_every", FormatDuration(c.PurgeEvery)),
		slog.Float64("purge_duty", c.PurgeDuty),
		slog.String("log_level", c.LogLevel.String()),
		slog.String("log_format", c.LogFormat),
		slog.Bool("signing_key", c.SigningKey != nil),
		slog.Int("signing_keys_retired", len(c.RetiredSigningKeys)),
		slog.Bool("secrets_key", c.SecretsKey != nil),
		slog.Int("secrets_keys_retired", len(c.RetiredSecretsKeys)),
		slog.Bool("webhook_allow_private", c.WebhookAllowPrivate),
		slog.String("public_base_url", c.PublicBaseURL),
		slog.Bool("tracing", c.Tracing.Enabled()),
		slog.String("otel_exporter_otlp_protocol", c.Tracing.Protocol),
		slog.String("otel_exporter_otlp_endpoint", redactURL(c.Tracing.Endpoint)),
	)
}

// ParseDatabaseURL returns the kind ("postgres" or "sqlite") and DSN that a
// DATABASE_URL selects. PostgreSQL URLs are passed on as they are; for
// SQLite the DSN is what follows "sqlite:" or "sqlite://", so
// "sqlite:///var/lib/a.db" is the absolute path /var/lib/a.db and
// "sqlite://./a.db" or "sqlite:a.db" are relative to the working directory.
func ParseDatabaseURL(s string) (kind, dsn string, err error) {
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok {
		return "", "", errors.New("not a URL")
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		// The rest is pgx's to parse: it accepts forms net/url rejects,
		// such as several hosts (postgres://h1:5432,h2:5432/db).
		if !strings.HasPrefix(rest, "//") || len(rest) == 2 {
			return "", "", errors.New("a PostgreSQL URL starts with postgres:// or postgresql://")
		}
		return DatabasePostgres, s, nil
	case "sqlite", "sqlite3":
		p := strings.TrimPrefix(rest, "//")
		if p == "" {
			return "", "", errors.New("no SQLite file path given")
		}
		return DatabaseSQLite, p, nil
	default:
		return "", "", fmt.Errorf("unsupported scheme %q", scheme)
	}
}

// Storage is what a STORAGE_URL selects.
type Storage struct {
	Kind   string // StorageS3 or StorageFile
	Bucket string // s3
	Prefix string // s3: no leading or trailing "/"; may be empty
	Dir    string // file: as written, cleaned of a trailing "/"
}

// ParseStorageURL parses s3://BUCKET[/PREFIX], file:///ABSOLUTE/DIR and
// file://./RELATIVE/DIR (also file://../DIR).
func ParseStorageURL(s string) (Storage, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return Storage{}, errors.New("not a URL")
	}
	switch strings.ToLower(scheme) {
	case "s3":
		if strings.ContainsAny(rest, "?#") {
			return Storage{}, errors.New("query and fragment are not allowed")
		}
		bucket, prefix, _ := strings.Cut(rest, "/")
		if err := checkBucket(bucket); err != nil {
			return Storage{}, err
		}
		prefix = strings.Trim(prefix, "/")
		if strings.Contains(prefix, "//") {
			return Storage{}, errors.New("prefix has an empty path segment")
		}
		return Storage{Kind: StorageS3, Bucket: bucket, Prefix: prefix}, nil
	case "file":
		switch {
		case strings.HasPrefix(rest, "/"), rest == ".", rest == "..",
			strings.HasPrefix(rest, "./"), strings.HasPrefix(rest, "../"):
		case rest == "":
			return Storage{}, errors.New("no directory given")
		default:
			return Storage{}, errors.New("file URLs have no host: write file:///ABSOLUTE/DIR or file://./RELATIVE/DIR")
		}
		dir := rest
		if len(dir) > 1 {
			dir = strings.TrimRight(dir, "/")
		}
		return Storage{Kind: StorageFile, Dir: dir}, nil
	default:
		return Storage{}, fmt.Errorf("unsupported scheme %q", scheme)
	}
}

// checkBucket applies the S3 bucket naming rules (which MinIO and most
// S3-compatible servers enforce too), so a typo fails at startup rather than
// at the first upload.
func checkBucket(b string) error {
	if b == "" {
		return errors.New("no bucket given")
	}
	if len(b) < 3 || len(b) > 63 {
		return fmt.Errorf("bucket name %q must be 3 to 63 characters", b)
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return fmt.Errorf("bucket name %q may only hold lowercase letters, digits, '.' and '-'", b)
		}
	}
	if !isAlnum(b[0]) || !isAlnum(b[len(b)-1]) {
		return fmt.Errorf("bucket name %q must start and end with a letter or digit", b)
	}
	return nil
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func checkListenAddr(a string) error {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return errors.New("not HOST:PORT")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	if strings.ContainsAny(host, "/ ") {
		return fmt.Errorf("host %q is not a host name or IP address", host)
	}
	return nil
}

func checkPublicBaseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme %q is not http or https", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("no host")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return errors.New("user info, query and fragment are not allowed")
	}
	return nil
}

func parseLogLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, errors.New("unknown level")
}

// redactURL hides passwords in a URL: the user-info password and any
// password query parameter. It works by hand because net/url rejects forms
// the drivers accept (several hosts, "h1:26379,h2").
func redactURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		if user, _, hasPass := strings.Cut(authority[:i], ":"); hasPass {
			authority = user + ":xxxxx" + authority[i:]
		}
	}
	if path, query, ok := strings.Cut(tail, "?"); ok {
		parts := strings.Split(query, "&")
		for i, p := range parts {
			k, _, _ := strings.Cut(p, "=")
			if strings.Contains(strings.ToLower(k), "password") {
				parts[i] = k + "=xxxxx"
			}
		}
		tail = path + "?" + strings.Join(parts, "&")
	}
	return scheme + "://" + authority + tail
}
