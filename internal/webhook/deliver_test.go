package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// memRecorder keeps attempts in memory (the store implementation lives
// elsewhere).
type memRecorder struct {
	mu       sync.Mutex
	attempts []audit.WebhookAttempt
}

var _ AttemptRecorder = (*memRecorder)(nil)

func (r *memRecorder) RecordAttempt(_ context.Context, a audit.WebhookAttempt) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts = append(r.attempts, a)
	return nil
}

func (r *memRecorder) all() []audit.WebhookAttempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]audit.WebhookAttempt(nil), r.attempts...)
}

// fakeClock is the deliverer's clock; sleeping advances it instantly.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

func (c *fakeClock) slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

func newTestDeliverer(t *testing.T, cfg Config, rec AttemptRecorder) *Deliverer {
	t.Helper()
	d, err := NewDeliverer(cfg, rec, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Date(2026, 3, 30, 4, 0, 0, 0, time.UTC)}
	d.Now, d.Sleep = clock.Now, clock.Sleep
	d.Jitter = func(d time.Duration) time.Duration { return d } // deterministic waits
	return d
}

// TestDeliverRetriesUntilSuccess is the receiver of the issue: it verifies
// every signature, answers 500, then lets the attempt time out, then 200.
func TestDeliverRetriesUntilSuccess(t *testing.T) {
	const secret = "whsec_receiver"
	clock := &fakeClock{now: time.Date(2026, 3, 30, 4, 0, 0, 0, time.UTC)}
	type received struct {
		eventID, contentType, userAgent string
		body                            []byte
		sigErr                          error
	}
	var (
		mu   sync.Mutex
		got  []received
		done = make(chan struct{})
	)
	defer close(done)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc := received{
			eventID:     r.Header.Get(EventIDHeader),
			contentType: r.Header.Get("Content-Type"),
			userAgent:   r.Header.Get("User-Agent"),
			body:        body,
			sigErr:      Verify(secret, r.Header.Get(SignatureHeader), body, clock.Now(), time.Minute),
		}
		mu.Lock()
		got = append(got, rc)
		n := len(got)
		mu.Unlock()
		switch {
		case rc.sigErr != nil:
			w.WriteHeader(http.StatusBadRequest)
		case n == 1:
			w.WriteHeader(http.StatusInternalServerError)
		case n == 2:
			select { // never answer: the attempt times out
			case <-r.Context().Done():
			case <-done:
			}
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()

	rec := &memRecorder{}
	d := newTestDeliverer(t, Config{AllowPrivate: true, AttemptTimeout: 200 * time.Millisecond}, rec)
	d.Now, d.Sleep = clock.Now, clock.Sleep
	occ := time.Date(2026, 3, 30, 4, 0, 0, 0, time.UTC)
	ev := Event{
		ID: "evt_01", Type: TypeExportCompleted, ExportID: "exp_1", ScheduleID: "sch_1", Occurrence: &occ,
		Status: audit.StatusCompleted, RowCount: 42, SizeBytes: 1234, SHA256: strings.Repeat("ab", 32),
		FileURL: "https://files.example.com/exp_1.csv", OccurredAt: occ.Add(time.Minute),
	}
	if err := d.Deliver(context.Background(), Delivery{URL: srv.URL + "/hook", Secret: secret, Event: ev}); err != nil {
		t.Fatalf("Deliver: %v", err)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 {
		t.Fatalf("receiver saw %d requests, want 3", len(got))
	}
	for i, r := range got {
		if r.sigErr != nil {
			t.Errorf("request %d: signature: %v", i+1, r.sigErr)
		}
		if r.eventID != "evt_01" || r.contentType != "application/json" || r.userAgent != DefaultUserAgent {
			t.Errorf("request %d headers: %+v", i+1, r)
		}
		if string(r.body) != string(got[0].body) {
			t.Errorf("request %d body differs", i+1)
		}
	}
	var decoded Event
	if err := json.Unmarshal(got[0].body, &decoded); err != nil || decoded.ExportID != "exp_1" || decoded.RowCount != 42 {
		t.Errorf("body %s: %v", got[0].body, err)
	}

	attempts := rec.all()
	if len(attempts) != 3 {
		t.Fatalf("recorded %d attempts, want 3: %+v", len(attempts), attempts)
	}
	wantStatus := []int{500, 0, 204}
	for i, a := range attempts {
		if a.AttemptNo != i+1 || a.DeliveryID != "evt_01" || a.ExportID != "exp_1" || a.ScheduleID != "sch_1" ||
			a.URL != srv.URL+"/hook" || a.StatusCode != wantStatus[i] {
			t.Errorf("attempt %d: %+v", i+1, a)
		}
	}
	if !strings.Contains(attempts[0].Error, "500") || !strings.Contains(attempts[1].Error, "timeout") ||
		attempts[2].Error != "" {
		t.Errorf("attempt errors: %q %q %q", attempts[0].Error, attempts[1].Error, attempts[2].Error)
	}
	// Backoff 2s then 4s (jitter disabled); attempts stamped on the clock.
	if s := clock.slept(); len(s) != 2 || s[0] != 2*time.Second || s[1] != 4*time.Second {
		t.Errorf("slept %v, want [2s 4s]", s)
	}
	start := time.Date(2026, 3, 30, 4, 0, 0, 0, time.UTC)
	for i, off := range []time.Duration{0, 2 * time.Second, 6 * time.Second} {
		if !attempts[i].At.Equal(start.Add(off)) {
			t.Errorf("attempt %d at %s, want %s", i+1, attempts[i].At, start.Add(off))
		}
	}
}

func TestDeliverGivesUp(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()

	t.Run("attempt bound", func(t *testing.T) {
		rec := &memRecorder{}
		d := newTestDeliverer(t, Config{AllowPrivate: true, MaxAttempts: 4}, rec)
		err := d.Deliver(context.Background(), Delivery{URL: srv.URL, Secret: "s", Event: Event{ID: "e"}})
		if !errors.Is(err, ErrGaveUp) || !strings.Contains(err.Error(), "503") {
			t.Fatalf("Deliver = %v", err)
		}
		if n := len(rec.all()); n != 4 {
			t.Fatalf("%d attempts, want 4", n)
		}
	})
	t.Run("time bound", func(t *testing.T) {
		rec := &memRecorder{}
		// Waits 1m, 2m, 4m…: the third attempt would start at 3m > 2.5m.
		d := newTestDeliverer(t, Config{AllowPrivate: true, InitialBackoff: time.Minute, MaxBackoff: time.Hour,
			MaxElapsed: 150 * time.Second, MaxAttempts: 50}, rec)
		err := d.Deliver(context.Background(), Delivery{URL: srv.URL, Secret: "s", Event: Event{ID: "e"}})
		if !errors.Is(err, ErrGaveUp) {
			t.Fatalf("Deliver = %v", err)
		}
		if n := len(rec.all()); n != 2 {
			t.Fatalf("%d attempts, want 2", n)
		}
	})
	t.Run("context cancelled while waiting", func(t *testing.T) {
		rec := &memRecorder{}
		d := newTestDeliverer(t, Config{AllowPrivate: true}, rec)
		ctx, cancel := context.WithCancel(context.Background())
		d.Sleep = func(ctx context.Context, _ time.Duration) error { cancel(); return ctx.Err() }
		err := d.Deliver(ctx, Delivery{URL: srv.URL, Secret: "s", Event: Event{ID: "e"}})
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrGaveUp) {
			t.Fatalf("Deliver = %v", err)
		}
		if n := len(rec.all()); n != 1 {
			t.Fatalf("%d attempts, want 1", n)
		}
	})
	t.Run("invalid URL is not retried", func(t *testing.T) {
		rec := &memRecorder{}
		d := newTestDeliverer(t, Config{AllowPrivate: true}, rec)
		err := d.Deliver(context.Background(), Delivery{URL: "ftp://x", Secret: "s", Event: Event{ID: "e"}})
		if err == nil || errors.Is(err, ErrGaveUp) || len(rec.all()) != 1 {
			t.Fatalf("Deliver = %v, attempts %d", err, len(rec.all()))
		}
	})
}

func TestRecorderFailureDoesNotStopDelivery(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	d := newTestDeliverer(t, Config{AllowPrivate: true}, AttemptRecorderFunc(func(context.Context, audit.WebhookAttempt) error {
		return errors.New("store down")
	}))
	if err := d.Deliver(context.Background(), Delivery{URL: srv.URL, Secret: "s", Event: Event{ID: "e"}}); err != nil {
		t.Fatal(err)
	}
}

func TestBackoff(t *testing.T) {
	c := Config{}
	want := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second,
		64 * time.Second, 2 * time.Minute, 2 * time.Minute}
	for i, w := range want {
		if got := c.Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d) = %s, want %s", i+1, got, w)
		}
	}
	for i := 0; i < 1000; i++ {
		if j := equalJitter(10 * time.Second); j < 5*time.Second || j >= 10*time.Second {
			t.Fatalf("jitter %s outside [5s, 10s)", j)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{}).Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, c := range []Config{{MaxAttempts: -1}, {MaxAttempts: 101}, {AttemptTimeout: -1},
		{InitialBackoff: time.Minute, MaxBackoff: time.Second}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if _, err := NewDeliverer(Config{}, nil, nil); err == nil {
		t.Error("NewDeliverer without a recorder")
	}
}

func TestEventFor(t *testing.T) {
	done := time.Date(2026, 3, 30, 4, 1, 0, 0, time.UTC)
	occ := time.Date(2026, 3, 30, 6, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	exp := audit.Export{ID: "exp_1", ScheduleID: "sch_1", Occurrence: &occ, Status: audit.StatusCompleted,
		RowsWritten: 10, SizeBytes: 99, SHA256: "abc", CompletedAt: &done}
	ev := EventFor("evt_1", exp, "https://files/x", &done)
	if ev.Type != TypeExportCompleted || ev.FileURL != "https://files/x" || ev.Error != nil ||
		!ev.OccurredAt.Equal(done) || ev.Occurrence.Location() != time.UTC {
		t.Fatalf("completed: %+v", ev)
	}
	b, _ := json.Marshal(ev)
	for _, k := range []string{`"id":"evt_1"`, `"type":"export.completed"`, `"export_id":"exp_1"`, `"schedule_id":"sch_1"`,
		`"status":"completed"`, `"row_count":10`, `"size_bytes":99`, `"sha256":"abc"`, `"file_url":"https://files/x"`,
		`"occurred_at":"2026-03-30T04:01:00Z"`, `"occurrence":"2026-03-30T04:00:00Z"`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("JSON lacks %s: %s", k, b)
		}
	}

	exp.Status, exp.ErrorCode, exp.ErrorMessage = audit.StatusFailed, audit.ETOOLARGE, "too many rows"
	ev = EventFor("evt_2", exp, "https://files/x", &done)
	if ev.Type != TypeExportFailed || ev.FileURL != "" || ev.Error == nil || ev.Error.Message != "too many rows" {
		t.Fatalf("failed: %+v", ev)
	}
}
