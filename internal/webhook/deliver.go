package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// AttemptRecorder keeps delivery attempts so that they can be listed.
type AttemptRecorder interface {
	RecordAttempt(ctx context.Context, a audit.WebhookAttempt) error
}

// AttemptRecorderFunc adapts a function to AttemptRecorder.
type AttemptRecorderFunc func(ctx context.Context, a audit.WebhookAttempt) error

// RecordAttempt calls f.
func (f AttemptRecorderFunc) RecordAttempt(ctx context.Context, a audit.WebhookAttempt) error {
	return f(ctx, a)
}

// Config bounds deliveries. Zero fields take the defaults noted.
type Config struct {
	// AttemptTimeout bounds one attempt, from dialling to reading the
	// response (default 10s).
	AttemptTimeout time.Duration
	// MaxAttempts bounds the attempts of one delivery (default 8).
	MaxAttempts int
	// MaxElapsed bounds the time from the first attempt to the start of
	// the last one (default 10m): no attempt starts later.
	MaxElapsed time.Duration
	// InitialBackoff is the nominal wait after the first failure (default
	// 2s); it doubles after each failure up to MaxBackoff (default 2m).
	// The actual wait is drawn from [backoff/2, backoff) (jitter), so
	// receivers that failed together are not retried in lockstep.
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	// UserAgent is sent with every request (default
	// "AuditSentinel-Webhook/1.0").
	UserAgent string
	// AllowPrivate permits receivers on loopback, private and link-local
	// addresses (development and tests only).
	AllowPrivate bool
}

// Defaults of Config.
const (
	DefaultAttemptTimeout = 10 * time.Second
	DefaultMaxAttempts    = 8
	DefaultMaxElapsed     = 10 * time.Minute
	DefaultInitialBackoff = 2 * time.Second
	DefaultMaxBackoff     = 2 * time.Minute
	DefaultUserAgent      = "AuditSentinel-Webhook/1.0"
)

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.AttemptTimeout == 0 {
		c.AttemptTimeout = DefaultAttemptTimeout
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.MaxElapsed == 0 {
		c.MaxElapsed = DefaultMaxElapsed
	}
	if c.InitialBackoff == 0 {
		c.InitialBackoff = DefaultInitialBackoff
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	return c
}

// Validate checks c after defaults; the error names the field.
func (c Config) Validate() error {
	c = c.WithDefaults()
	switch {
	case c.AttemptTimeout < 0:
		return errors.New("webhook: AttemptTimeout must be positive")
	case c.MaxAttempts < 1 || c.MaxAttempts > 100:
		return errors.New("webhook: MaxAttempts must be between 1 and 100")
	case c.MaxElapsed < 0:
		return errors.New("webhook: MaxElapsed must be positive")
	case c.InitialBackoff < 0:
		return errors.New("webhook: InitialBackoff must be positive")
	case c.MaxBackoff < c.InitialBackoff:
		return errors.New("webhook: MaxBackoff must not be less than InitialBackoff")
	}
	return nil
}

// Delivery is one event to deliver to one receiver.
type Delivery struct {
	URL    string
	Secret string
	Event  Event
}

// ErrGaveUp is returned (wrapped, with the last attempt's error) when a
// delivery failed on every attempt its bounds allowed.
var ErrGaveUp = errors.New("webhook: delivery failed")

// Deliverer posts events to receivers. Its hooks default to the real thing;
// tests replace them.
type Deliverer struct {
	Config   Config
	Recorder AttemptRecorder
	Logger   *slog.Logger
	// Client sends requests. The default, NewClient(Config.AllowPrivate),
	// refuses forbidden addresses at connection time; a replacement must
	// do the same.
	Client *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Sleep waits between attempts (default: a timer that honours ctx).
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter turns a nominal backoff into the actual wait (default: a
	// uniform draw from [d/2, d)).
	Jitter func(d time.Duration) time.Duration
	// Metrics counts deliveries by outcome; nil: none.
	Metrics *Metrics
}

// NewDeliverer returns a Deliverer with cfg (defaults applied) and the
// default hooks.
func NewDeliverer(cfg Config, recorder AttemptRecorder, logger *slog.Logger) (*Deliverer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if recorder == nil {
		return nil, errors.New("webhook: an AttemptRecorder is required")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.WithDefaults()
	return &Deliverer{
		Config:   cfg,
		Recorder: recorder,
		Logger:   logger,
		Client:   NewClient(cfg.AllowPrivate),
		Now:      time.Now,
		Sleep:    sleepCtx,
		Jitter:   equalJitter,
	}, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func equalJitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half)
}

// Backoff returns the nominal wait after failed attempt n (1-based).
func (c Config) Backoff(n int) time.Duration {
	c = c.WithDefaults()
	d := c.InitialBackoff
	for i := 1; i < n && d < c.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, c.MaxBackoff)
}

// Deliver posts d.Event to d.URL until a 2xx response, retrying failed
// attempts (non-2xx status, network error, timeout) with exponential backoff
// within Config's bounds. Every attempt is recorded before the next starts.
// It returns nil on success; an error wrapping ErrGaveUp when the bounds are
// exhausted; one wrapping ErrForbiddenAddress, at once, when the receiver's
// address is refused; or ctx's error. The body and the Sentinel-Event-Id
// header are the same on every attempt; the signature is made afresh with
// the attempt's time, so receivers can keep a short replay tolerance.
func (dl *Deliverer) Deliver(ctx context.Context, d Delivery) (err error) {
	attempts := 0
	defer func() {
		if attempts > 0 {
			dl.Metrics.delivered(attempts, err)
		}
	}()
	if dl.Recorder == nil {
		return errors.New("webhook: Deliverer has no AttemptRecorder")
	}
	cfg := dl.Config.WithDefaults()
	body, err := json.Marshal(d.Event)
	if err != nil {
		return fmt.Errorf("webhook: marshal event %s: %w", d.Event.ID, err)
	}
	log := dl.logger().With("event_id", d.Event.ID, "export_id", d.Event.ExportID,
		"schedule_id", d.Event.ScheduleID)
	if u, err := ParseURL(d.URL); err == nil {
		log = log.With("webhook_host", u.Host)
	}
	start := dl.now()
	for n := 1; ; n++ {
		attempts = n
		a, err := dl.attempt(ctx, cfg, d, body, n)
		if rerr := dl.Recorder.RecordAttempt(context.WithoutCancel(ctx), a); rerr != nil {
			log.Error("webhook: record attempt", "attempt", n, "err", rerr)
		}
		if err == nil {
			log.Info("webhook delivered", "attempt", n, "status", a.StatusCode, "duration", a.Duration)
			return nil
		}
		log.Warn("webhook attempt failed", "attempt", n, "status", a.StatusCode, "err", a.Error,
			"duration", a.Duration)
		switch {
		case ctx.Err() != nil:
			return fmt.Errorf("webhook: deliver %s: %w", d.Event.ID, ctx.Err())
		case errors.Is(err, ErrForbiddenAddress) || errors.Is(err, errBadURL):
			return fmt.Errorf("webhook: deliver %s: %w", d.Event.ID, err)
		case n >= cfg.MaxAttempts:
			return fmt.Errorf("%w after %d attempts: %w", ErrGaveUp, n, err)
		}
		wait := dl.jitter(cfg.Backoff(n))
		if dl.now().Add(wait).Sub(start) > cfg.MaxElapsed {
			return fmt.Errorf("%w after %d attempts (no retry within %s): %w", ErrGaveUp, n, cfg.MaxElapsed, err)
		}
		if err := dl.sleep(ctx, wait); err != nil {
			return fmt.Errorf("webhook: deliver %s: %w", d.Event.ID, err)
		}
	}
}

var errBadURL = errors.New("webhook: invalid URL")

// attempt makes one request. The returned error is nil exactly when the
// receiver answered 2xx.
func (dl *Deliverer) attempt(ctx context.Context, cfg Config, d Delivery, body []byte, n int) (audit.WebhookAttempt, error) {
	at := dl.now()
	a := audit.WebhookAttempt{
		DeliveryID: d.Event.ID,
		ExportID:   d.Event.ExportID,
		ScheduleID: d.Event.ScheduleID,
		URL:        d.URL,
		AttemptNo:  n,
		At:         at.UTC(),
	}
	fail := func(err error) (audit.WebhookAttempt, error) {
		a.Error = truncate(err.Error(), 500)
		a.Duration = dl.now().Sub(at)
		return a, err
	}
	if _, err := ParseURL(d.URL); err != nil {
		return fail(fmt.Errorf("%w: %w", errBadURL, err))
	}
	actx, cancel := context.WithTimeout(ctx, cfg.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, d.URL, bytes.NewReader(body))
	if err != nil {
		return fail(fmt.Errorf("%w: %w", errBadURL, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", cfg.UserAgent)
	req.Header.Set(EventIDHeader, d.Event.ID)
	req.Header.Set(SignatureHeader, Sign(d.Secret, at, body))
	resp, err := dl.client(cfg).Do(req)
	if err != nil {
		if actx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
			return fail(fmt.Errorf("timeout after %s", cfg.AttemptTimeout))
		}
		return fail(err)
	}
	a.StatusCode = resp.StatusCode
	// Drain a little so the connection can be reused; the content is not
	// kept (it is the receiver's, and may be large).
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := fmt.Sprintf("receiver answered %d", resp.StatusCode)
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			msg += " (redirects are not followed)"
		}
		return fail(errors.New(msg))
	}
	a.Duration = dl.now().Sub(at)
	return a, nil
}

// defaultClients serve Deliverers built without NewDeliverer, one per
// AllowPrivate setting, so connections are pooled across deliveries.
var defaultClients = [2]func() *http.Client{
	sync.OnceValue(func() *http.Client { return NewClient(false) }),
	sync.OnceValue(func() *http.Client { return NewClient(true) }),
}

func (dl *Deliverer) client(cfg Config) *http.Client {
	if dl.Client != nil {
		return dl.Client
	}
	if cfg.AllowPrivate {
		return defaultClients[1]()
	}
	return defaultClients[0]()
}

func (dl *Deliverer) now() time.Time {
	if dl.Now != nil {
		return dl.Now()
	}
	return time.Now()
}

func (dl *Deliverer) sleep(ctx context.Context, d time.Duration) error {
	if dl.Sleep != nil {
		return dl.Sleep(ctx, d)
	}
	return sleepCtx(ctx, d)
}

func (dl *Deliverer) jitter(d time.Duration) time.Duration {
	if dl.Jitter != nil {
		return dl.Jitter(d)
	}
	return equalJitter(d)
}

func (dl *Deliverer) logger() *slog.Logger {
	if dl.Logger != nil {
		return dl.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
