// Package tracing is Audit Sentinel's OpenTelemetry tracing: the tracer
// provider the processes trace with (off unless the standard OTEL_*
// variables ask for an OTLP exporter), the W3C trace context that task
// payloads carry from the api to a worker, and the log handler that stamps
// trace_id and span_id on every line written inside a span.
//
// Nothing here sets OpenTelemetry's globals: the provider is handed to the
// parts that trace (httpapi, jobs, export), so tests run a span recorder of
// their own beside other tests in one process.
package tracing

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Exporters OTEL_TRACES_EXPORTER may name.
const (
	ExporterOTLP = "otlp"
	ExporterNone = "none"
)

// Protocols OTEL_EXPORTER_OTLP_PROTOCOL may name (the Go SDK has no
// http/json exporter).
const (
	ProtocolHTTP = "http/protobuf"
	ProtocolGRPC = "grpc"
)

// Config says whether and how to export traces. package config fills it
// from the standard variables; the OTLP exporter reads the rest of its
// settings (headers, timeout, TLS, compression) and the SDK its sampler
// and batching (OTEL_TRACES_SAMPLER, OTEL_BSP_*) from the environment
// themselves.
type Config struct {
	// Exporter is ExporterOTLP to export, "" or ExporterNone for none.
	Exporter string
	// Protocol is ProtocolHTTP (the default) or ProtocolGRPC.
	Protocol string
	// Endpoint is the OTLP endpoint as configured, for the start-up log;
	// empty: the exporter's default (localhost:4318, or :4317 for gRPC).
	Endpoint string
	// ServiceName overrides the process's own (OTEL_SERVICE_NAME).
	ServiceName string
}

// Enabled reports whether c exports traces.
func (c Config) Enabled() bool { return c.Exporter == ExporterOTLP }

// Validate checks the exporter and protocol names.
func (c Config) Validate() error {
	switch c.Exporter {
	case "", ExporterNone, ExporterOTLP:
	default:
		return fmt.Errorf("tracing: unknown exporter %q", c.Exporter)
	}
	switch c.Protocol {
	case "", ProtocolHTTP, ProtocolGRPC:
	default:
		return fmt.Errorf("tracing: unknown OTLP protocol %q", c.Protocol)
	}
	return nil
}

// Tracing is the tracer provider a process traces with.
type Tracing struct {
	provider trace.TracerProvider
	enabled  bool
	shutdown func(context.Context) error
}

// Off traces nothing, at the cost of a no-op call per span.
func Off() *Tracing {
	return &Tracing{provider: noop.NewTracerProvider(), shutdown: func(context.Context) error { return nil }}
}

// Using traces with a provider the caller owns (a test's span recorder);
// Shutdown leaves it alone.
func Using(tp trace.TracerProvider) *Tracing {
	return &Tracing{provider: tp, enabled: true, shutdown: func(context.Context) error { return nil }}
}

// New returns Off when cfg is not enabled, otherwise a provider batching
// spans to the OTLP exporter cfg names. service names the process
// (audit-sentinel-api, audit-sentinel-worker) unless cfg.ServiceName or
// OTEL_RESOURCE_ATTRIBUTES say otherwise. The exporter connects lazily: an
// unreachable collector costs dropped spans and a logged error, never a
// failed start.
func New(ctx context.Context, cfg Config, service, version string) (*Tracing, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.Enabled() {
		return Off(), nil
	}
	var (
		exp sdktrace.SpanExporter
		err error
	)
	if cfg.Protocol == ProtocolGRPC {
		exp, err = otlptracegrpc.New(ctx)
	} else {
		exp, err = otlptracehttp.New(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP %s exporter: %w", cfg.Protocol, err)
	}
	if cfg.ServiceName != "" {
		service = cfg.ServiceName
	}
	// Later options win: the environment's resource attributes override
	// the defaults, and an explicit service name overrides both.
	res, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithAttributes(attribute.String("service.name", service), attribute.String("service.version", version)),
		resource.WithFromEnv(),
		resource.WithAttributes(attribute.String("service.name", service)),
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return &Tracing{provider: tp, enabled: true, shutdown: tp.Shutdown}, nil
}

// Provider is what the traced parts take.
func (t *Tracing) Provider() trace.TracerProvider { return t.provider }

// Enabled reports whether spans are recorded.
func (t *Tracing) Enabled() bool { return t.enabled }

// Shutdown exports what is still buffered and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if err := t.shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: shutdown: %w", err)
	}
	return nil
}

// Tracer returns the named tracer of tp, or a no-op one when tp is nil, so
// that a part configured without tracing needs no check at every span.
func Tracer(tp trace.TracerProvider, name string) trace.Tracer {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	return tp.Tracer(name)
}

// Propagator is how trace context crosses process boundaries: W3C Trace
// Context (traceparent, tracestate), in HTTP headers and task payloads.
// OTEL_PROPAGATORS is not read: both ends are ours.
func Propagator() propagation.TextMapPropagator { return propagation.TraceContext{} }
