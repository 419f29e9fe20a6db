package tracing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/auditsentinel/sentinel/internal/tracing"
)

// TestCarrierRoundTrip: the context injected into a payload, marshalled
// and read back by a worker, makes the worker's span a child of the
// sender's, in the same trace.
func TestCarrierRoundTrip(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	tr := tp.Tracer("test")

	ctx, parent := tr.Start(context.Background(), "enqueue")
	b, err := json.Marshal(struct {
		Trace tracing.Carrier `json:"trace,omitzero"`
	}{tracing.Inject(ctx)})
	if err != nil {
		t.Fatal(err)
	}
	parent.End()
	if !bytes.Contains(b, []byte(`"traceparent":"00-`+parent.SpanContext().TraceID().String())) {
		t.Fatalf("payload %s does not carry the W3C traceparent of trace %s", b, parent.SpanContext().TraceID())
	}
	var got struct {
		Trace tracing.Carrier `json:"trace"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	_, child := tr.Start(tracing.Extract(context.Background(), got.Trace), "task")
	child.End()
	spans := rec.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans ended, want 2", len(spans))
	}
	if spans[1].Parent().SpanID() != spans[0].SpanContext().SpanID() ||
		spans[1].SpanContext().TraceID() != spans[0].SpanContext().TraceID() {
		t.Errorf("task span's parent is %v, want the enqueue span %v", spans[1].Parent(), spans[0].SpanContext())
	}
	if !spans[1].Parent().IsRemote() {
		t.Error("task span's parent is not marked remote")
	}
}

// TestCarrierEmptyWithoutSpan: no span, no trace member (omitzero), and
// extracting nothing leaves the context alone.
func TestCarrierEmptyWithoutSpan(t *testing.T) {
	t.Parallel()
	c := tracing.Inject(context.Background())
	if c != (tracing.Carrier{}) {
		t.Errorf("Inject without a span = %+v, want zero", c)
	}
	b, _ := json.Marshal(struct {
		ID    string          `json:"id"`
		Trace tracing.Carrier `json:"trace,omitzero"`
	}{ID: "x"})
	if string(b) != `{"id":"x"}` {
		t.Errorf("payload without a span = %s", b)
	}
	rec := tracetest.NewSpanRecorder()
	tr := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)).Tracer("t")
	_, s := tr.Start(tracing.Extract(context.Background(), tracing.Carrier{Traceparent: "00-nothex-1"}), "x")
	s.End()
	if rec.Ended()[0].Parent().IsValid() {
		t.Error("a malformed traceparent became a parent")
	}
}

// TestLogHandler: a line logged inside a span names its trace and span; a
// line outside any span names neither.
func TestLogHandler(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(tracing.LogHandler(slog.NewJSONHandler(&buf, nil))).With("tenant", "acme")
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("t").Start(context.Background(), "op")
	log.InfoContext(ctx, "inside")
	span.End()
	log.Info("outside")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines logged, want 2:\n%s", len(lines), buf.String())
	}
	var in, out map[string]any
	_ = json.Unmarshal([]byte(lines[0]), &in)
	_ = json.Unmarshal([]byte(lines[1]), &out)
	if in["trace_id"] != span.SpanContext().TraceID().String() || in["span_id"] != span.SpanContext().SpanID().String() {
		t.Errorf("line inside the span: %s; want trace_id %s span_id %s", lines[0],
			span.SpanContext().TraceID(), span.SpanContext().SpanID())
	}
	if in["tenant"] != "acme" {
		t.Errorf("line inside the span lost the logger's attributes: %s", lines[0])
	}
	if _, ok := out["trace_id"]; ok {
		t.Errorf("line outside any span names a trace: %s", lines[1])
	}
}

// TestOffByDefault: an empty configuration records nothing and starts no
// exporter.
func TestOffByDefault(t *testing.T) {
	t.Parallel()
	for _, cfg := range []tracing.Config{{}, {Exporter: tracing.ExporterNone, Protocol: tracing.ProtocolGRPC}} {
		tr, err := tracing.New(t.Context(), cfg, "svc", "v")
		if err != nil {
			t.Fatal(err)
		}
		if tr.Enabled() {
			t.Errorf("%+v: tracing enabled", cfg)
		}
		_, span := tr.Provider().Tracer("t").Start(t.Context(), "x")
		if span.IsRecording() || span.SpanContext().IsValid() {
			t.Errorf("%+v: spans are recorded", cfg)
		}
	}
	if _, err := tracing.New(t.Context(), tracing.Config{Exporter: "zipkin"}, "svc", "v"); err == nil {
		t.Error("an unknown exporter was accepted")
	}
	if _, err := tracing.New(t.Context(), tracing.Config{Exporter: "otlp", Protocol: "http/json"}, "svc", "v"); err == nil {
		t.Error("an unknown protocol was accepted")
	}
}

// TestExportsOverOTLPHTTP: with the exporter on, spans reach the endpoint
// OTEL_EXPORTER_OTLP_ENDPOINT names, as OTLP protobuf, carrying the service
// name; Shutdown flushes them. (The exporter reads the variable from the
// process environment, so this test cannot run in parallel.)
func TestExportsOverOTLPHTTP(t *testing.T) {
	var (
		mu   sync.Mutex
		got  [][]byte
		ctyp string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		if r.URL.Path == "/v1/traces" {
			got = append(got, b)
			ctyp = r.Header.Get("Content-Type")
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test")

	tr, err := tracing.New(t.Context(), tracing.Config{Exporter: tracing.ExporterOTLP, Protocol: tracing.ProtocolHTTP},
		"audit-sentinel-test", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Enabled() {
		t.Fatal("OTEL_TRACES_EXPORTER=otlp: tracing not enabled")
	}
	_, span := tr.Provider().Tracer("t").Start(t.Context(), "exported-span")
	span.End()
	if err := tr.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) == 0 {
		t.Fatal("no OTLP request reached the endpoint")
	}
	body := bytes.Join(got, nil)
	for _, want := range []string{"exported-span", "audit-sentinel-test", "deployment.environment"} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("OTLP body does not hold %q", want)
		}
	}
	if ctyp != "application/x-protobuf" {
		t.Errorf("Content-Type %q, want application/x-protobuf", ctyp)
	}
}
