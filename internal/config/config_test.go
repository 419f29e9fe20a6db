package config

import (
	"encoding/base64"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/redisconn"
	"github.com/auditsentinel/sentinel/internal/tracing"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

// varErrors returns every *VarError in err's tree.
func varErrors(err error) []*VarError {
	var out []*VarError
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if ve, ok := e.(*VarError); ok { //nolint:errorlint // walks the error tree itself, node by node
			out = append(out, ve)
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		walk(errors.Unwrap(e))
	}
	walk(err)
	return out
}

func TestDefaults(t *testing.T) {
	got, err := FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		HTTPAddr:                 ":8080",
		DatabaseURL:              "sqlite:./data/audit.db",
		DatabaseKind:             DatabaseSQLite,
		DatabaseDSN:              "./data/audit.db",
		Redis:                    redisconn.Config{Mode: redisconn.Embedded},
		StorageURL:               "file://./data/exports",
		StorageKind:              StorageFile,
		Dir:                      "./data/exports",
		ExportWait:               20 * time.Second,
		ExportReuseWindow:        10 * time.Minute,
		ExportLive:               true,
		LiveCompression:          "none",
		S3ObjectLockMode:         "governance",
		ExportRetention:          168 * time.Hour,
		PDFMaxEvents:             5000,
		WorkerConcurrency:        4,
		SweepEvery:               15 * time.Second,
		SweepOrphanScanEvery:     time.Hour,
		SweepUploadScanEvery:     10 * time.Minute,
		PurgeEvery:               time.Minute,
		PurgeDuty:                0.1,
		LogLevel:                 slog.LevelInfo,
		ExportMaxActivePerTenant: 20,
		LogFormat:                LogFormatAuto,
		Tracing:                  tracing.Config{Protocol: tracing.ProtocolHTTP}, // off
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", got, want)
	}
	if !reflect.DeepEqual(Default(), want) {
		t.Errorf("Default() differs from FromEnv with nothing set")
	}
	if err := want.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
	if got.Redis.ConnOpt() != nil || got.Redis.UniversalOptions() != nil {
		t.Error("embedded mode must have no Redis client options")
	}
}

func TestFromEnvGood(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		check func(t *testing.T, c Config)
	}{
		{"HTTP_ADDR port only", map[string]string{"HTTP_ADDR": ":9090"}, func(t *testing.T, c Config) {
			eq(t, c.HTTPAddr, ":9090")
		}},
		{"HTTP_ADDR host and port", map[string]string{"HTTP_ADDR": "127.0.0.1:0"}, func(t *testing.T, c Config) {
			eq(t, c.HTTPAddr, "127.0.0.1:0")
		}},
		{"HTTP_ADDR IPv6", map[string]string{"HTTP_ADDR": "[::1]:8080"}, func(t *testing.T, c Config) {
			eq(t, c.HTTPAddr, "[::1]:8080")
		}},
		{"HTTP_ADDR blank is default", map[string]string{"HTTP_ADDR": "  "}, func(t *testing.T, c Config) {
			eq(t, c.HTTPAddr, ":8080")
		}},
		{"DEBUG_ADDR unset is none", map[string]string{}, func(t *testing.T, c Config) {
			eq(t, c.DebugAddr, "")
		}},
		{"DEBUG_ADDR loopback", map[string]string{"DEBUG_ADDR": "127.0.0.1:6060"}, func(t *testing.T, c Config) {
			eq(t, c.DebugAddr, "127.0.0.1:6060")
		}},
		{"DATABASE_URL postgres", map[string]string{"DATABASE_URL": "postgres://u:p@db:5432/audit?sslmode=disable"},
			func(t *testing.T, c Config) {
				eq(t, c.DatabaseKind, DatabasePostgres)
				eq(t, c.DatabaseDSN, "postgres://u:p@db:5432/audit?sslmode=disable")
			}},
		{"DATABASE_URL postgresql", map[string]string{"DATABASE_URL": "postgresql://db/audit"},
			func(t *testing.T, c Config) {
				eq(t, c.DatabaseKind, DatabasePostgres)
				eq(t, c.DatabaseDSN, "postgresql://db/audit")
			}},
		{"DATABASE_URL postgres multi-host", map[string]string{"DATABASE_URL": "postgres://u@h1:5432,h2/audit"},
			func(t *testing.T, c Config) { eq(t, c.DatabaseKind, DatabasePostgres) }},
		{"DATABASE_URL sqlite relative", map[string]string{"DATABASE_URL": "sqlite:./x/a.db"},
			func(t *testing.T, c Config) {
				eq(t, c.DatabaseKind, DatabaseSQLite)
				eq(t, c.DatabaseDSN, "./x/a.db")
			}},
		{"DATABASE_URL sqlite bare relative", map[string]string{"DATABASE_URL": "sqlite:a.db"},
			func(t *testing.T, c Config) { eq(t, c.DatabaseDSN, "a.db") }},
		{"DATABASE_URL sqlite:// relative", map[string]string{"DATABASE_URL": "sqlite://./a.db"},
			func(t *testing.T, c Config) { eq(t, c.DatabaseDSN, "./a.db") }},
		{"DATABASE_URL sqlite:/// absolute", map[string]string{"DATABASE_URL": "sqlite:///var/lib/s/a.db"},
			func(t *testing.T, c Config) { eq(t, c.DatabaseDSN, "/var/lib/s/a.db") }},
		{"DATABASE_URL sqlite keeps driver options", map[string]string{"DATABASE_URL": "sqlite:/a.db?_pragma=busy_timeout(5000)"},
			func(t *testing.T, c Config) { eq(t, c.DatabaseDSN, "/a.db?_pragma=busy_timeout(5000)") }},
		{"REDIS_URL standalone", map[string]string{"REDIS_URL": "redis://redis:6379/0"},
			func(t *testing.T, c Config) {
				eq(t, c.Redis.Mode, redisconn.Standalone)
				eq(t, c.Redis.Addrs[0], "redis:6379")
			}},
		{"REDIS_URL sentinel", map[string]string{"REDIS_URL": "redis-sentinel://:pw@s1:26379,s2:26379/mymaster?db=2"},
			func(t *testing.T, c Config) {
				eq(t, c.Redis.Mode, redisconn.Sentinel)
				eq(t, c.Redis.MasterName, "mymaster")
				eq(t, c.Redis.DB, 2)
			}},
		{"REDIS_URL cluster", map[string]string{"REDIS_URL": "redis-cluster://n1:7000,n2:7001"},
			func(t *testing.T, c Config) { eq(t, c.Redis.Mode, redisconn.Cluster) }},
		{"STORAGE_URL s3 bucket", map[string]string{"STORAGE_URL": "s3://exports"},
			func(t *testing.T, c Config) {
				eq(t, c.StorageKind, StorageS3)
				eq(t, c.Bucket, "exports")
				eq(t, c.Prefix, "")
				eq(t, c.Dir, "")
			}},
		{"STORAGE_URL s3 prefix", map[string]string{"STORAGE_URL": "s3://audit.exports-1/tenants/prod/"},
			func(t *testing.T, c Config) {
				eq(t, c.Bucket, "audit.exports-1")
				eq(t, c.Prefix, "tenants/prod")
			}},
		{"STORAGE_URL file absolute", map[string]string{"STORAGE_URL": "file:///var/lib/sentinel/exports/"},
			func(t *testing.T, c Config) {
				eq(t, c.StorageKind, StorageFile)
				eq(t, c.Dir, "/var/lib/sentinel/exports")
				eq(t, c.Bucket, "")
			}},
		{"STORAGE_URL file relative", map[string]string{"STORAGE_URL": "file://./out"},
			func(t *testing.T, c Config) { eq(t, c.Dir, "./out") }},
		{"STORAGE_URL file parent", map[string]string{"STORAGE_URL": "file://../out"},
			func(t *testing.T, c Config) { eq(t, c.Dir, "../out") }},
		{"S3_FORCE_PATH_STYLE true", map[string]string{"S3_FORCE_PATH_STYLE": "true"},
			func(t *testing.T, c Config) { eq(t, c.S3ForcePathStyle, true) }},
		{"S3_FORCE_PATH_STYLE 1", map[string]string{"S3_FORCE_PATH_STYLE": "1"},
			func(t *testing.T, c Config) { eq(t, c.S3ForcePathStyle, true) }},
		{"S3_FORCE_PATH_STYLE false", map[string]string{"S3_FORCE_PATH_STYLE": "FALSE"},
			func(t *testing.T, c Config) { eq(t, c.S3ForcePathStyle, false) }},
		{"S3_SIGN_PAYLOAD true", map[string]string{"S3_SIGN_PAYLOAD": "true"},
			func(t *testing.T, c Config) { eq(t, c.S3SignPayload, true) }},
		{"S3_OBJECT_LOCK_MODE default", map[string]string{},
			func(t *testing.T, c Config) { eq(t, c.S3ObjectLockMode, "governance") }},
		{"S3_OBJECT_LOCK_MODE COMPLIANCE", map[string]string{"S3_OBJECT_LOCK_MODE": "COMPLIANCE"},
			func(t *testing.T, c Config) { eq(t, c.S3ObjectLockMode, "compliance") }},
		{"EXPORT_LIVE false", map[string]string{"EXPORT_LIVE": "false"},
			func(t *testing.T, c Config) { eq(t, c.ExportLive, false) }},
		{"LIVE_COMPRESSION default", map[string]string{},
			func(t *testing.T, c Config) { eq(t, c.LiveCompression, "none") }},
		{"LIVE_COMPRESSION S2", map[string]string{"LIVE_COMPRESSION": "S2"},
			func(t *testing.T, c Config) { eq(t, c.LiveCompression, "s2") }},
		{"EXPORT_WAIT 0", map[string]string{"EXPORT_WAIT": "0"},
			func(t *testing.T, c Config) { eq(t, c.ExportWait, time.Duration(0)) }},
		{"EXPORT_WAIT max", map[string]string{"EXPORT_WAIT": "2m"},
			func(t *testing.T, c Config) { eq(t, c.ExportWait, 2*time.Minute) }},
		{"EXPORT_WAIT ms", map[string]string{"EXPORT_WAIT": "1500ms"},
			func(t *testing.T, c Config) { eq(t, c.ExportWait, 1500*time.Millisecond) }},
		{"EXPORT_REUSE_WINDOW 0 disables", map[string]string{"EXPORT_REUSE_WINDOW": "0s"},
			func(t *testing.T, c Config) { eq(t, c.ExportReuseWindow, time.Duration(0)) }},
		{"EXPORT_REUSE_WINDOW 1h", map[string]string{"EXPORT_REUSE_WINDOW": "1h"},
			func(t *testing.T, c Config) { eq(t, c.ExportReuseWindow, time.Hour) }},
		{"EXPORT_RETENTION days", map[string]string{"EXPORT_RETENTION": "7d"},
			func(t *testing.T, c Config) { eq(t, c.ExportRetention, 168*time.Hour) }},
		{"EXPORT_RETENTION days and hours", map[string]string{"EXPORT_RETENTION": "1d12h"},
			func(t *testing.T, c Config) { eq(t, c.ExportRetention, 36*time.Hour) }},
		{"EXPORT_RETENTION short for tests", map[string]string{"EXPORT_RETENTION": "2s"},
			func(t *testing.T, c Config) { eq(t, c.ExportRetention, 2*time.Second) }},
		{"EXPORT_RETENTION max", map[string]string{"EXPORT_RETENTION": "3650d"},
			func(t *testing.T, c Config) { eq(t, c.ExportRetention, 3650*24*time.Hour) }},
		{"PDF_MAX_EVENTS min", map[string]string{"PDF_MAX_EVENTS": "1"},
			func(t *testing.T, c Config) { eq(t, c.PDFMaxEvents, 1) }},
		{"PDF_MAX_EVENTS max", map[string]string{"PDF_MAX_EVENTS": "100000"},
			func(t *testing.T, c Config) { eq(t, c.PDFMaxEvents, 100000) }},
		{"EXPORT_MAX_ACTIVE_PER_TENANT off", map[string]string{"EXPORT_MAX_ACTIVE_PER_TENANT": "0"},
			func(t *testing.T, c Config) { eq(t, c.ExportMaxActivePerTenant, 0) }},
		{"EXPORT_MAX_ACTIVE_PER_TENANT", map[string]string{"EXPORT_MAX_ACTIVE_PER_TENANT": "3"},
			func(t *testing.T, c Config) { eq(t, c.ExportMaxActivePerTenant, 3) }},
		{"WORKER_CONCURRENCY", map[string]string{"WORKER_CONCURRENCY": "16"},
			func(t *testing.T, c Config) { eq(t, c.WorkerConcurrency, 16) }},
		{"sweeper cadence", map[string]string{"SWEEP_EVERY": "1m", "SWEEP_ORPHAN_SCAN_EVERY": "1d",
			"SWEEP_UPLOAD_SCAN_EVERY": "30m", "PURGE_EVERY": "5m", "PURGE_DUTY": "0.25"},
			func(t *testing.T, c Config) {
				eq(t, c.SweepEvery, time.Minute)
				eq(t, c.SweepOrphanScanEvery, 24*time.Hour)
				eq(t, c.SweepUploadScanEvery, 30*time.Minute)
				eq(t, c.PurgeEvery, 5*time.Minute)
				eq(t, c.PurgeDuty, 0.25)
			}},
		{"sweeper cadence at its bounds", map[string]string{"SWEEP_EVERY": "1s", "SWEEP_ORPHAN_SCAN_EVERY": "30d",
			"SWEEP_UPLOAD_SCAN_EVERY": "1m", "PURGE_EVERY": "1d", "PURGE_DUTY": "1"},
			func(t *testing.T, c Config) {
				eq(t, c.SweepEvery, time.Second)
				eq(t, c.SweepOrphanScanEvery, 30*24*time.Hour)
				eq(t, c.PurgeDuty, 1.0)
			}},
		{"LOG_LEVEL debug", map[string]string{"LOG_LEVEL": "debug"},
			func(t *testing.T, c Config) { eq(t, c.LogLevel, slog.LevelDebug) }},
		{"LOG_LEVEL WARN", map[string]string{"LOG_LEVEL": "WARN"},
			func(t *testing.T, c Config) { eq(t, c.LogLevel, slog.LevelWarn) }},
		{"LOG_LEVEL error", map[string]string{"LOG_LEVEL": "error"},
			func(t *testing.T, c Config) { eq(t, c.LogLevel, slog.LevelError) }},
		{"LOG_FORMAT json", map[string]string{"LOG_FORMAT": "json"},
			func(t *testing.T, c Config) { eq(t, c.LogFormat, LogFormatJSON) }},
		{"LOG_FORMAT Text", map[string]string{"LOG_FORMAT": "Text"},
			func(t *testing.T, c Config) { eq(t, c.LogFormat, LogFormatText) }},
		{"SIGNING_KEY seed", map[string]string{"SIGNING_KEY": testSeedB64},
			func(t *testing.T, c Config) { eq(t, len(c.SigningKey), 64) }},
		{"WEBHOOK_ALLOW_PRIVATE", map[string]string{"WEBHOOK_ALLOW_PRIVATE": "true"},
			func(t *testing.T, c Config) { eq(t, c.WebhookAllowPrivate, true) }},
		{"PUBLIC_BASE_URL trims slash", map[string]string{"PUBLIC_BASE_URL": "https://audit.example.com/base/"},
			func(t *testing.T, c Config) { eq(t, c.PublicBaseURL, "https://audit.example.com/base") }},
		{"PUBLIC_BASE_URL http with port", map[string]string{"PUBLIC_BASE_URL": "http://localhost:8080"},
			func(t *testing.T, c Config) { eq(t, c.PublicBaseURL, "http://localhost:8080") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := FromEnv(env(tt.env))
			if err != nil {
				t.Fatalf("FromEnv: %v", err)
			}
			tt.check(t, c)
		})
	}
}

func TestFromEnvBad(t *testing.T) {
	tests := []struct {
		v, value string
	}{
		{"HTTP_ADDR", "8080"},
		{"HTTP_ADDR", ":http"},
		{"HTTP_ADDR", ":70000"},
		{"DEBUG_ADDR", "6060"},
		{"DEBUG_ADDR", "localhost:pprof"},
		{"DATABASE_URL", "mysql://root@db/audit"},
		{"DATABASE_URL", "./audit.db"},
		{"DATABASE_URL", "sqlite:"},
		{"DATABASE_URL", "sqlite://"},
		{"DATABASE_URL", "postgres:"},
		{"S3_OBJECT_LOCK_MODE", "worm"},
		{"LIVE_COMPRESSION", "zstd"},
		{"REDIS_URL", "localhost:6379"},
		{"REDIS_URL", "memcached://x"},
		{"REDIS_URL", "redis://h/notanumber"},
		{"REDIS_URL", "redis://h:6379/0?timeout=1"},
		{"REDIS_URL", "redis://"},
		{"REDIS_URL", "redis-sentinel://s1:26379"},
		{"REDIS_URL", "redis-sentinel://s1/m?db=x"},
		{"REDIS_URL", "redis-sentinel://s1/m?mastre=m"},
		{"REDIS_URL", "redis-sentinel://s1,,s2/m"},
		{"REDIS_URL", "redis-cluster://n1:7000/3"},
		{"REDIS_URL", "redis-cluster://n1:99999"},
		{"STORAGE_URL", "exports"},
		{"STORAGE_URL", "gs://exports"},
		{"STORAGE_URL", "s3://"},
		{"STORAGE_URL", "s3://Exports"},
		{"STORAGE_URL", "s3://ab"},
		{"STORAGE_URL", "s3://-exports"},
		{"STORAGE_URL", "s3://exports/a//b"},
		{"STORAGE_URL", "s3://exports?region=x"},
		{"STORAGE_URL", "file://"},
		{"STORAGE_URL", "file://host/dir"},
		{"S3_FORCE_PATH_STYLE", "yes"},
		{"WEBHOOK_ALLOW_PRIVATE", "on"},
		{"EXPORT_WAIT", "20"},
		{"EXPORT_WAIT", "3m"},
		{"EXPORT_WAIT", "-1s"},
		{"EXPORT_REUSE_WINDOW", "soon"},
		{"EXPORT_REUSE_WINDOW", "31d"},
		{"EXPORT_REUSE_WINDOW", "-1m"},
		{"EXPORT_RETENTION", "0"},
		{"EXPORT_RETENTION", "3651d"},
		{"EXPORT_RETENTION", "7days"},
		{"EXPORT_RETENTION", "1.5d"},
		{"EXPORT_RETENTION", "-7d"},
		{"EXPORT_MAX_ACTIVE_PER_TENANT", "-1"},
		{"EXPORT_MAX_ACTIVE_PER_TENANT", "100001"},
		{"EXPORT_MAX_ACTIVE_PER_TENANT", "many"},
		{"PDF_MAX_EVENTS", "0"},
		{"PDF_MAX_EVENTS", "100001"},
		{"PDF_MAX_EVENTS", "5k"},
		{"WORKER_CONCURRENCY", "0"},
		{"WORKER_CONCURRENCY", "-2"},
		{"WORKER_CONCURRENCY", "four"},
		{"WORKER_CONCURRENCY", "2000"},
		{"SWEEP_EVERY", "0"},
		{"SWEEP_EVERY", "500ms"},
		{"SWEEP_EVERY", "10m"},
		{"SWEEP_EVERY", "often"},
		{"SWEEP_ORPHAN_SCAN_EVERY", "30s"},
		{"SWEEP_ORPHAN_SCAN_EVERY", "31d"},
		{"SWEEP_UPLOAD_SCAN_EVERY", "59s"},
		{"SWEEP_UPLOAD_SCAN_EVERY", "2d"},
		{"PURGE_EVERY", "0s"},
		{"PURGE_EVERY", "2d"},
		{"PURGE_DUTY", "0"},
		{"PURGE_DUTY", "0.001"},
		{"PURGE_DUTY", "1.5"},
		{"PURGE_DUTY", "NaN"},
		{"PURGE_DUTY", "inf"},
		{"PURGE_DUTY", "10%"},
		{"LOG_LEVEL", "trace"},
		{"LOG_FORMAT", "logfmt"},
		{"SIGNING_KEY", "not base64!"},
		{"SIGNING_KEY", "c2hvcnQ="},
		{"PUBLIC_BASE_URL", "audit.example.com"},
		{"PUBLIC_BASE_URL", "ftp://audit.example.com"},
		{"PUBLIC_BASE_URL", "https://audit.example.com/?x=1"},
		{"PUBLIC_BASE_URL", "https://"},
	}
	for _, tt := range tests {
		t.Run(tt.v+"="+tt.value, func(t *testing.T) {
			c, err := FromEnv(env(map[string]string{tt.v: tt.value}))
			if err == nil {
				t.Fatalf("no error; got %+v", c)
			}
			ves := varErrors(err)
			if len(ves) != 1 || ves[0].Var != tt.v {
				t.Fatalf("want exactly one error for %s, got %v", tt.v, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.v+"=") || !strings.Contains(msg, "allowed: ") || ves[0].Allowed == "" {
				t.Errorf("message does not name the variable and what is allowed: %s", msg)
			}
			if !reflect.DeepEqual(c, Config{}) {
				t.Errorf("a failed FromEnv returned a config: %+v", c)
			}
		})
	}
}

func TestFromEnvReportsEveryBadVariable(t *testing.T) {
	_, err := FromEnv(env(map[string]string{
		"EXPORT_WAIT":        "forever",
		"LOG_LEVEL":          "loud",
		"WORKER_CONCURRENCY": "0",
	}))
	got := map[string]bool{}
	for _, ve := range varErrors(err) {
		got[ve.Var] = true
	}
	// Parse errors are reported together; range checks run only on values
	// that parsed, so WORKER_CONCURRENCY waits for the next attempt.
	if !got["EXPORT_WAIT"] || !got["LOG_LEVEL"] {
		t.Errorf("want EXPORT_WAIT and LOG_LEVEL reported, got %v", err)
	}
	var ve *VarError
	if !errors.As(err, &ve) {
		t.Error("errors.As does not find a *VarError")
	}
}

func TestSecretsStayOutOfErrorsAndLogs(t *testing.T) {
	_, err := FromEnv(env(map[string]string{
		"DATABASE_URL":         "mysql://root:hunter2@db/audit",
		"REDIS_URL":            "redis-sentinel://:hunter2@s1,s2",
		"SIGNING_KEY":          "aHVudGVyMmh1bnRlcjI=",
		"SECRETS_KEY":          "aHVudGVyM2h1bnRlcjM=",
		"SECRETS_KEYS_RETIRED": secretsKeyB64 + ",aHVudGVyNGh1bnRlcjQ=",
	}))
	if err == nil || !strings.Contains(err.Error(), "SECRETS_KEY") {
		t.Fatalf("err = %v; want one naming SECRETS_KEY too", err)
	}
	if !strings.Contains(err.Error(), "SECRETS_KEYS_RETIRED") {
		t.Errorf("err = %v; want one naming SECRETS_KEYS_RETIRED too", err)
	}
	for _, s := range []string{"hunter2", "aHVudGVyMmh1bnRlcjI", "aHVudGVyM2h1bnRlcjM", "aHVudGVyNGh1bnRlcjQ", secretsKeyB64} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error leaks %q: %v", s, err)
		}
	}

	c, err := FromEnv(env(map[string]string{
		"DATABASE_URL":         "postgres://u:hunter2@db/audit?password=hunter2",
		"REDIS_URL":            "redis-sentinel://u:hunter2@s1/m?sentinel_password=hunter2",
		"SIGNING_KEY":          testSeedB64,
		"SECRETS_KEY":          secretsKeyB64,
		"SECRETS_KEYS_RETIRED": testSeedB64,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.SecretsKey) != 32 || len(c.RetiredSecretsKeys) != 1 || len(c.RetiredSecretsKeys[0]) != 32 {
		t.Fatalf("SecretsKey is %d bytes, %d retired keys", len(c.SecretsKey), len(c.RetiredSecretsKeys))
	}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("config", "config", c)
	for _, s := range []string{"hunter2", testSeedB64, secretsKeyB64} {
		if strings.Contains(b.String(), s) {
			t.Errorf("log line leaks %q: %s", s, b.String())
		}
	}
	if !strings.Contains(b.String(), "signing_key=true") || !strings.Contains(b.String(), "secrets_key=true") {
		t.Errorf("log line does not say a signing key is set: %s", b.String())
	}
}

func TestValidateCodeBuiltConfig(t *testing.T) {
	c := Default()
	c.StorageKind, c.Bucket = StorageS3, ""
	c.DatabaseKind = "mysql"
	c.LogLevel = slog.Level(2)
	c.Redis = redisconn.Config{Mode: redisconn.Sentinel, Addrs: []string{"s1:26379"}}
	got := map[string]bool{}
	for _, ve := range varErrors(c.Validate()) {
		got[ve.Var] = true
	}
	for _, v := range []string{"STORAGE_URL", "DATABASE_URL", "LOG_LEVEL", "REDIS_URL"} {
		if !got[v] {
			t.Errorf("Validate did not report %s (got %v)", v, got)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"20s", 20 * time.Second, true},
		{"0", 0, true},
		{"7d", 7 * 24 * time.Hour, true},
		{"0d", 0, true},
		{"1d30m", 24*time.Hour + 30*time.Minute, true},
		{"d", 0, false},
		{"7d-1h", 0, false},
		{"7dd", 0, false},
		{"x7d", 0, false},
		{"20", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	for d, want := range map[time.Duration]string{168 * time.Hour: "7d", 90 * time.Minute: "1h30m0s", 0: "0s"} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func eq[T comparable](t *testing.T, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("got %v, want %v", got, want)
	}
}

// secretsKeyB64 is a fixed SECRETS_KEY (bytes 0x20..0x3f), base64.
var secretsKeyB64 = func() string {
	k := make([]byte, 32)
	for i := range k {
		k[i] = byte(0x20 + i)
	}
	return base64.StdEncoding.EncodeToString(k)
}()
