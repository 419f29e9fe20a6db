package app

// EnvHelp lists every environment variable the api and the worker read:
// config.FromEnv's, the S3 adapter's, the AWS SDK's and the OpenTelemetry
// SDK's, and the worker's GOMEMLIMIT. Both binaries print it for -h, so an operator learns them
// from either; a test in each cmd fails when config reads one this misses.
// deploy/README.md has the long version (defaults, accepted values).
const EnvHelp = `Configuration comes from the environment (an empty value counts as unset):
  HTTP_ADDR            listen address (default :8080; api only); the api serves
                       /metrics there, covering the embedded worker
  METRICS_ADDR         where a worker serves /metrics, /healthz and /readyz, e.g. :9090
                       (default unset = none; worker only)
  DEBUG_ADDR           where the api or a worker serves Go's profiles, /debug/pprof/, e.g.
                       127.0.0.1:6060 (default unset = none); no authentication: keep
                       it on loopback or a pod-internal port
  DATABASE_URL         postgres://… or sqlite:PATH (default sqlite:./data/audit.db)
  REDIS_URL            redis://…, rediss://…, redis-sentinel://…, redis-cluster://…;
                       unset = embedded mode (in-process Redis and worker; the api only,
                       a worker needs it set)
  STORAGE_URL          s3://BUCKET[/PREFIX] or file:///DIR (default file://./data/exports)
  AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL
                       S3 endpoint (the first wins; unset = AWS)
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, and the AWS SDK's other AWS_*
                       S3 credentials and region
  AWS_REQUEST_CHECKSUM_CALCULATION, AWS_RESPONSE_CHECKSUM_VALIDATION
                       unset = CRC checksums only where S3 requires them (many
                       S3-compatible servers reject the SDK's default)
  S3_FORCE_PATH_STYLE  path-style S3 URLs, for MinIO/versitygw (default false)
  S3_SIGN_PAYLOAD      also sign each upload body's SHA-256, for plain http:// on an
                       untrusted network (default false)
  S3_OBJECT_LOCK_MODE  governance | compliance | off: the Object Lock mode archives
                       are written with when the bucket has Object Lock (default
                       governance; worker)
  EXPORT_WAIT          how long an export request waits before answering 202
                       (default 20s; api only)
  EXPORT_REUSE_WINDOW  how long a finished export answers identical requests
                       (default 10m; api only)
  EXPORT_RETENTION     how long export files are kept (default 7d)
  EXPORT_LIVE          stream a large CSV to its waiting GET while it renders (default true)
  LIVE_COMPRESSION     none | s2: S2 blocks of about half the bytes through Redis, for
                       more worker CPU (default none; worker)
  EXPORT_MAX_ACTIVE_PER_TENANT
                       a tenant's on-demand exports queued or running at once; beyond it
                       429 (default 20, 0 = no cap; api only)
  PDF_MAX_EVENTS       cap on events in one PDF (default 5000)
  WORKER_CONCURRENCY   exports run at once by a worker or the embedded one (default 4)
  SWEEP_EVERY          how often the sweeper re-enqueues lost tasks, fails stalled
                       exports and deletes expired files (default 15s, 1s..5m)
  SWEEP_ORPHAN_SCAN_EVERY, SWEEP_UPLOAD_SCAN_EVERY
                       how often the bucket is listed for objects no export owns
                       (default 1h) and for abandoned uploads (default 10m)
  PURGE_EVERY, PURGE_DUTY
                       how often events past their retention are purged (default 1m),
                       and the share of the database's time a purge may take (default 0.1)
                       (these four run once per period for the whole cluster)
  SIGNING_KEY          Ed25519 key (base64 seed) that signs export manifests; unset =
                       embedded mode generates one in ./data (next to the SQLite
                       database), otherwise manifests answer 501 (api only)
  SIGNING_KEYS_RETIRED KEY_ID:PUBLIC_KEY,… of earlier signing keys, still published
                       (api only)
  SECRETS_KEY          base64 of 32 random bytes: seals the webhook secrets the database
                       keeps (embedded mode generates one in ./data)
  SECRETS_KEYS_RETIRED earlier SECRETS_KEY values, comma-separated: still open, resealed
                       under SECRETS_KEY at start-up
  WEBHOOK_ALLOW_PRIVATE  let webhooks call loopback/private addresses (default false)
  PUBLIC_BASE_URL      the address clients use, for the absolute file URLs webhooks carry
  LOG_LEVEL, LOG_FORMAT  debug|info|warn|error; json|text|auto
  GOMEMLIMIT           the Go runtime's soft memory limit; unset = the worker sizes
                       one to WORKER_CONCURRENCY
Tracing (OpenTelemetry, off unless one of the first two is set):
  OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
                       the OTLP collector, e.g. http://otel-collector:4318; setting one
                       turns tracing on
  OTEL_TRACES_EXPORTER otlp (on; the endpoint defaults to localhost:4318, or :4317 for
                       grpc) or none (off whatever else is set)
  OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
                       http/protobuf (default) or grpc
  OTEL_SDK_DISABLED    true turns tracing off
  OTEL_SERVICE_NAME    default audit-sentinel-api or audit-sentinel-worker
  OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_TIMEOUT,
  OTEL_EXPORTER_OTLP_INSECURE, OTEL_EXPORTER_OTLP_CERTIFICATE,
  OTEL_EXPORTER_OTLP_COMPRESSION, OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG,
  OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_MAX_QUEUE_SIZE, and the SDK's other OTEL_*
                       read by the OpenTelemetry SDK itself, as it documents (the
                       …_TRACES_… form of each exporter variable wins)
`
