package app_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/tracing"
)

// TestOneTraceFollowsAnExport: with tracing on, a real export (PostgreSQL,
// versitygw, a separate worker) is one trace, continuing the caller's:
// the GET's server span, the enqueue (producer), the asynq task (consumer;
// its context carried in the task payload), and under the task the
// database stream and the upload (siblings: they run at once, through a
// pipe), then the webhook's enqueue and its delivery task. Log lines
// written inside those spans carry their trace_id and span_id.
func TestOneTraceFollowsAnExport(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	logs := &lockedBuffer{}
	env := apptest.Boot(t, apptest.Options{Database: "postgres", Storage: "s3", Tracing: tracing.Using(tp), Logs: logs,
		Env: map[string]string{"WEBHOOK_ALLOW_PRIVATE": "true"}})
	key := env.Key("acme")
	env.Ingest(key, fixture())
	if res, body := env.Do(http.MethodPost, webhookSecretPath, key, nil); res.StatusCode != http.StatusCreated {
		t.Fatalf("webhook secret: %d %s", res.StatusCode, body)
	}
	hooked := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hooked <- r.Header.Get("Sentinel-Event-Id")
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)

	// The caller's own span: the export's trace continues it.
	const callerTrace, callerSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	res, body := env.Do(http.MethodGet, exportPath+"?event_type=task&webhook_url="+url.QueryEscape(srv.URL+"/hook"), key, nil,
		"traceparent", "00-"+callerTrace+"-"+callerSpan+"-01")
	if res.StatusCode != http.StatusOK || len(body) == 0 {
		t.Fatalf("export: %d %s", res.StatusCode, body)
	}
	select {
	case <-hooked:
	case <-time.After(time.Minute):
		t.Fatal("the webhook was not delivered within a minute")
	}

	// The delivery task's span ends after the receiver answered.
	var spans map[string]sdktrace.ReadOnlySpan
	deadline := time.Now().Add(30 * time.Second)
	for {
		spans = map[string]sdktrace.ReadOnlySpan{}
		for _, s := range rec.Ended() {
			if s.SpanContext().TraceID().String() == callerTrace {
				spans[s.Name()] = s
			}
		}
		if spans["webhook:deliver"] != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	names := make([]string, 0, len(spans))
	for n := range spans {
		names = append(names, n)
	}
	t.Logf("spans of trace %s: %v", callerTrace, names)

	chain := []struct {
		name, parent string
		kind         trace.SpanKind
	}{
		{"GET /v5/audit-sentinel/events/export", "", trace.SpanKindServer},
		{"enqueue export:run", "GET /v5/audit-sentinel/events/export", trace.SpanKindProducer},
		{"export:run", "enqueue export:run", trace.SpanKindConsumer},
		{"stream events", "export:run", trace.SpanKindInternal},
		{"upload", "export:run", trace.SpanKindInternal},
		{"enqueue webhook:deliver", "export:run", trace.SpanKindProducer},
		{"webhook:deliver", "enqueue webhook:deliver", trace.SpanKindConsumer},
	}
	for _, link := range chain {
		s := spans[link.name]
		if s == nil {
			t.Errorf("no span %q in the export's trace", link.name)
			continue
		}
		if s.SpanKind() != link.kind {
			t.Errorf("%q is a %v span, want %v", link.name, s.SpanKind(), link.kind)
		}
		wantParent := callerSpan
		if link.parent != "" {
			p := spans[link.parent]
			if p == nil {
				continue // reported above
			}
			wantParent = p.SpanContext().SpanID().String()
		}
		if got := s.Parent().SpanID().String(); got != wantParent {
			t.Errorf("%q's parent is %s, want %q (%s)", link.name, got, link.parent, wantParent)
		}
	}
	if t.Failed() {
		return
	}
	if rows := intAttr(spans["stream events"], "rows"); rows == 0 {
		t.Errorf("the stream span counts %d rows", rows)
	}
	if size := intAttr(spans["upload"], "object.size"); size != int64(len(body)) {
		t.Errorf("the upload span says %d bytes, the file has %d", size, len(body))
	}
	if !spans["export:run"].Parent().IsRemote() {
		t.Error("the task span's parent is not remote: its context did not come through the payload")
	}

	// Log lines inside the request and the task name their spans.
	task := spans["export:run"].SpanContext()
	var sawRequest, sawCompleted bool
	sc := bufio.NewScanner(bytes.NewReader(logs.Bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		switch {
		case line["msg"] == "http request" && line["path"] == exportPath:
			sawRequest = true
			if line["trace_id"] != callerTrace || line["span_id"] != spans["GET /v5/audit-sentinel/events/export"].SpanContext().SpanID().String() {
				t.Errorf("request log line without the request's trace and span: %s", sc.Bytes())
			}
		case line["msg"] == "export completed":
			sawCompleted = true
			if line["trace_id"] != callerTrace || line["span_id"] != task.SpanID().String() {
				t.Errorf("worker log line without the task's trace and span: %s", sc.Bytes())
			}
			// Where the export's time went: rendering, then storage
			// finishing; the two make up the whole (each truncated to a ms).
			took, render, store := line["duration_ms"], line["render_ms"], line["store_ms"]
			tf, ok1 := took.(float64)
			rf, ok2 := render.(float64)
			sf, ok3 := store.(float64)
			if !ok1 || !ok2 || !ok3 || rf < 0 || sf < 0 || math.Abs(rf+sf-tf) > 1 {
				t.Errorf("export completed: duration_ms %v, render_ms %v, store_ms %v; want the last two to add up to the first",
					took, render, store)
			}
		}
	}
	if !sawRequest || !sawCompleted {
		t.Errorf("log lines seen: request %v, export completed %v; logs:\n%s", sawRequest, sawCompleted,
			strings.TrimSpace(string(logs.Bytes())))
	}
}

func intAttr(s sdktrace.ReadOnlySpan, key string) int64 {
	for _, a := range s.Attributes() {
		if string(a.Key) == key {
			return a.Value.AsInt64()
		}
	}
	return 0
}

// lockedBuffer collects log lines from every goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}
