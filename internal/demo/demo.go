// Package demo generates realistic synthetic audit events for the embedded
// demo, seeding and benchmarks. Output is a pure function of Config: the
// same seed gives the same events, byte for byte.
package demo

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// DemoEntityID is an entity that every generated data set refers to: it is
// the entity_id the reference document's sample PDF request filters on. In
// a run of 100,000 events it has between 10 and 200 events, so that sample
// request makes a PDF of a few pages.
const DemoEntityID = "497f6eca-6276-4993-bfeb-53cbbbba6f08"

// Defaults of Config.
const (
	DefaultDays   = 90
	DefaultEvents = 100_000
)

// demoShare is the probability that an event about an entity is about
// DemoEntityID: about 50 events in 100,000.
const demoShare = 0.0006

// Config says what to generate.
type Config struct {
	Seed     uint64
	TenantID string
	// Now is the end of the generated period (exclusive); events fall in
	// [Now - Days, Now). Zero means time.Now().
	Now    time.Time
	Days   int // DefaultDays when 0
	Events int // DefaultEvents when 0
}

// Generator yields Config.Events events in ascending OccurredAt order,
// denser on weekday business hours (UTC) than at night and at weekends.
// It is not safe for concurrent use.
type Generator struct {
	cfg   Config
	rng   *rand.Rand
	start time.Time

	// Time: cum[h] is the total weight of the hours before hour h; events
	// are sorted uniform draws mapped through this distribution.
	cum       []float64
	hour      int
	cur       float64 // product that yields the sorted uniforms
	remaining int

	w world
}

// New returns a generator for cfg.
func New(cfg Config) *Generator {
	if cfg.Now.IsZero() {
		cfg.Now = time.Now()
	}
	cfg.Now = cfg.Now.UTC()
	if cfg.Days <= 0 {
		cfg.Days = DefaultDays
	}
	if cfg.Events <= 0 {
		cfg.Events = DefaultEvents
	}
	g := &Generator{
		cfg:       cfg,
		rng:       rand.New(rand.NewPCG(cfg.Seed, 0x5e7_71e1)),
		start:     cfg.Now.Add(-time.Duration(cfg.Days) * 24 * time.Hour),
		cur:       1,
		remaining: cfg.Events,
	}
	g.cum = hourWeights(g.rng, g.start, cfg.Days)
	g.w = newWorld(g.rng)
	return g
}

// Next returns the next event, or false when all have been yielded. Each
// call returns a new Event that the caller may keep.
func (g *Generator) Next() (*audit.Event, bool) {
	if g.remaining == 0 {
		return nil, false
	}
	first := g.remaining == g.cfg.Events
	t := g.nextTime()
	e := &audit.Event{
		ID:         g.id(t),
		TenantID:   g.cfg.TenantID,
		OccurredAt: t,
		Metadata:   make(map[string]string, 6),
	}
	if first {
		// The demo entity is the first one onboarded in the period.
		g.w.entityCreated(g, e, 0)
	} else {
		g.w.fill(g, e)
	}
	return e, true
}

// nextTime draws the next of g.cfg.Events sorted uniform numbers (by the
// product of U^(1/k), which yields the order statistics from the top, here
// mirrored) and maps it to a time through the hourly weights.
func (g *Generator) nextTime() time.Time {
	k := g.remaining
	g.remaining--
	g.cur *= math.Pow(1-g.rng.Float64(), 1/float64(k))
	u := (1 - g.cur) * g.cum[len(g.cum)-1]
	for g.hour < len(g.cum)-2 && g.cum[g.hour+1] <= u {
		g.hour++
	}
	frac := (u - g.cum[g.hour]) / (g.cum[g.hour+1] - g.cum[g.hour])
	frac = min(max(frac, 0), 1)
	d := time.Duration(g.hour)*time.Hour + time.Duration(frac*float64(time.Hour))
	t := g.start.Add(d).Truncate(audit.TimePrecision)
	if !t.Before(g.cfg.Now) {
		t = g.cfg.Now.Add(-audit.TimePrecision)
	}
	return t
}

// id returns a UUIDv7 for t whose random bits come from the seeded
// generator, so that ids are both time-ordered and reproducible.
func (g *Generator) id(t time.Time) string {
	var u uuid.UUID
	ms := uint64(t.UnixMilli())
	for i := 5; i >= 0; i-- {
		u[i] = byte(ms)
		ms >>= 8
	}
	a, b := g.rng.Uint64(), g.rng.Uint64()
	for i := 6; i < 14; i++ {
		u[i] = byte(a)
		a >>= 8
	}
	u[14], u[15] = byte(b), byte(b>>8)
	u[6] = u[6]&0x0f | 0x70 // version 7
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u.String()
}

// Activity by hour of day (UTC) on a weekday, relative to the busiest hour:
// a working day with a lunch dip and a long, quiet night.
var hourOfDay = [24]float64{
	0.04, 0.03, 0.03, 0.03, 0.04, 0.08, 0.18, 0.45, 0.85, 1.00, 1.00, 0.95,
	0.70, 0.90, 1.00, 0.95, 0.80, 0.50, 0.30, 0.20, 0.13, 0.09, 0.06, 0.05,
}

// hourWeights returns the cumulative activity of each hour of the period:
// cum[0] = 0, cum[h+1] = cum[h] + weight of hour h.
func hourWeights(rng *rand.Rand, start time.Time, days int) []float64 {
	hours := days * 24
	cum := make([]float64, hours+1)
	dayFactor := 1.0
	for h := range hours {
		t := start.Add(time.Duration(h) * time.Hour)
		if h%24 == 0 {
			// Some days are busier than others, and the platform grows.
			dayFactor = (0.8 + 0.4*rng.Float64()) * (0.85 + 0.3*float64(h)/float64(hours))
		}
		w := hourOfDay[t.Hour()] * dayFactor
		switch t.Weekday() {
		case time.Saturday:
			w *= 0.12
		case time.Sunday:
			w *= 0.08
		}
		cum[h+1] = cum[h] + w
	}
	return cum
}

// pick returns an index of a table of cumulative integer weights.
func pick(rng *rand.Rand, cum []int) int {
	n := rng.IntN(cum[len(cum)-1])
	for i, c := range cum {
		if n < c {
			return i
		}
	}
	return len(cum) - 1
}

// newUUID returns a random UUIDv4 string drawn from rng.
func newUUID(rng *rand.Rand) string {
	var u uuid.UUID
	a, b := rng.Uint64(), rng.Uint64()
	for i := range 8 {
		u[i] = byte(a >> (8 * i))
		u[8+i] = byte(b >> (8 * i))
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u.String()
}

func itoa(i int) string { return strconv.Itoa(i) }
