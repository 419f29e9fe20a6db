package config

import (
	"errors"
	"strconv"
	"strings"

	"github.com/auditsentinel/sentinel/internal/tracing"
)

// tracingFromEnv reads the standard OpenTelemetry variables that decide
// whether to trace and which OTLP exporter to start. Tracing is off unless
// asked for: the specification's default exporter is otlp, but a service
// that sends spans to localhost:4318 because nobody said otherwise only
// fills its log with export errors. An OTLP endpoint, or
// OTEL_TRACES_EXPORTER=otlp, turns it on; OTEL_SDK_DISABLED=true or
// OTEL_TRACES_EXPORTER=none keep it off whatever else is set. The
// signal-specific variables (…_TRACES_…) win over the general ones, as the
// exporter itself reads them.
func tracingFromEnv(get func(string) (string, bool), t *tracing.Config,
	bad func(name, value, allowed string, err error)) {
	first := func(names ...string) (string, string) {
		for _, n := range names {
			if v, ok := get(n); ok {
				return n, v
			}
		}
		return names[len(names)-1], ""
	}
	_, t.Endpoint = first("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
	if name, v := first("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"); v != "" {
		switch v {
		case tracing.ProtocolHTTP, tracing.ProtocolGRPC:
			t.Protocol = v
		default:
			bad(name, v, allowProtocol, errors.New("unknown protocol"))
		}
	}
	if v, ok := get("OTEL_SERVICE_NAME"); ok {
		t.ServiceName = v
	}
	switch v, _ := get("OTEL_TRACES_EXPORTER"); strings.ToLower(v) {
	case "":
		if t.Endpoint != "" {
			t.Exporter = tracing.ExporterOTLP
		}
	case tracing.ExporterOTLP, tracing.ExporterNone:
		t.Exporter = strings.ToLower(v)
	default:
		bad("OTEL_TRACES_EXPORTER", v, allowExporter, errors.New("unknown exporter"))
	}
	if v, ok := get("OTEL_SDK_DISABLED"); ok {
		off, err := strconv.ParseBool(v)
		if err != nil {
			bad("OTEL_SDK_DISABLED", v, allowBool, errors.New("not a boolean"))
		} else if off {
			t.Exporter = tracing.ExporterNone
		}
	}
}
