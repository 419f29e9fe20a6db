package config_test

import (
	"strings"
	"testing"

	"github.com/auditsentinel/sentinel/internal/config"
	"github.com/auditsentinel/sentinel/internal/tracing"
)

// TestTracingFromEnv: tracing is off by default and on only when the
// standard variables ask for it; bad values name their variable.
func TestTracingFromEnv(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		env      map[string]string
		on       bool
		protocol string
		endpoint string
	}{
		{name: "nothing set", env: nil, on: false, protocol: tracing.ProtocolHTTP},
		{name: "endpoint", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"},
			on: true, protocol: tracing.ProtocolHTTP, endpoint: "http://collector:4318"},
		{name: "traces endpoint wins", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318",
			"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b:4318/v1/traces"},
			on: true, protocol: tracing.ProtocolHTTP, endpoint: "http://b:4318/v1/traces"},
		{name: "exporter alone", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, on: true, protocol: tracing.ProtocolHTTP},
		{name: "grpc", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
			on: true, protocol: tracing.ProtocolGRPC},
		{name: "traces protocol wins", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp",
			"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"},
			on: true, protocol: tracing.ProtocolHTTP},
		{name: "none beats endpoint", env: map[string]string{"OTEL_TRACES_EXPORTER": "none",
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, on: false, protocol: tracing.ProtocolHTTP,
			endpoint: "http://collector:4318"},
		{name: "SDK disabled", env: map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"},
			on: false, protocol: tracing.ProtocolHTTP},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := config.FromEnv(func(k string) string { return tc.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if c.Tracing.Enabled() != tc.on || c.Tracing.Protocol != tc.protocol || c.Tracing.Endpoint != tc.endpoint {
				t.Errorf("Tracing = %+v (enabled %v), want enabled %v, protocol %q, endpoint %q",
					c.Tracing, c.Tracing.Enabled(), tc.on, tc.protocol, tc.endpoint)
			}
		})
	}
	for env, name := range map[string]string{
		"OTEL_TRACES_EXPORTER=zipkin":               "OTEL_TRACES_EXPORTER",
		"OTEL_EXPORTER_OTLP_PROTOCOL=http/json":     "OTEL_EXPORTER_OTLP_PROTOCOL",
		"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=thrift": "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
		"OTEL_SDK_DISABLED=perhaps":                 "OTEL_SDK_DISABLED",
	} {
		k, v, _ := strings.Cut(env, "=")
		_, err := config.FromEnv(func(key string) string {
			if key == k {
				return v
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err %v, want one naming %s", env, err, name)
		}
	}
}
