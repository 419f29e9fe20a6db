package demo_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/demo"
	"github.com/auditsentinel/sentinel/internal/ingest"
)

var now = time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)

func all(cfg demo.Config) []*audit.Event {
	g := demo.New(cfg)
	var out []*audit.Event
	for {
		e, ok := g.Next()
		if !ok {
			return out
		}
		out = append(out, e)
	}
}

func TestDeterministic(t *testing.T) {
	cfg := demo.Config{Seed: 42, TenantID: "t1", Now: now, Events: 5_000}
	a, b := all(cfg), all(cfg)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same config gave different events")
	}
	cfg.Seed = 43
	c := all(cfg)
	if reflect.DeepEqual(a, c) {
		t.Fatal("different seeds gave the same events")
	}
}

func TestCountsAndOrder(t *testing.T) {
	for _, n := range []int{1, 2, 1_000, 30_000} {
		cfg := demo.Config{Seed: 7, TenantID: "t1", Now: now, Days: 90, Events: n}
		events := all(cfg)
		if len(events) != n {
			t.Fatalf("%d events, want %d", len(events), n)
		}
		start := now.Add(-90 * 24 * time.Hour)
		ids := map[string]bool{}
		for i, e := range events {
			if e.TenantID != "t1" {
				t.Fatalf("tenant %q", e.TenantID)
			}
			if e.OccurredAt.Before(start) || !e.OccurredAt.Before(now) {
				t.Fatalf("event %d at %v outside [%v, %v)", i, e.OccurredAt, start, now)
			}
			if e.OccurredAt.Location() != time.UTC || !e.OccurredAt.Equal(e.OccurredAt.Truncate(audit.TimePrecision)) {
				t.Fatalf("time %v not UTC µs", e.OccurredAt)
			}
			if i > 0 && e.OccurredAt.Before(events[i-1].OccurredAt) {
				t.Fatalf("event %d at %v before event %d at %v", i, e.OccurredAt, i-1, events[i-1].OccurredAt)
			}
			if ids[e.ID] {
				t.Fatalf("duplicate id %s", e.ID)
			}
			ids[e.ID] = true
		}
		if events[0].Metadata["entity_id"] != demo.DemoEntityID {
			t.Fatalf("the first event is not about the demo entity: %+v", events[0])
		}
	}
}

// TestRealistic checks the properties the demo promises on a full-size run.
func TestRealistic(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 events")
	}
	events := all(demo.Config{Seed: 1, TenantID: "demo", Now: now})
	if len(events) != demo.DefaultEvents {
		t.Fatalf("%d events", len(events))
	}
	var (
		types, subs, sources   = map[string]int{}, map[string]int{}, map[string]int{}
		perEntity              = map[string]int{}
		metaKeys               = map[string]int{}
		business, night        int
		weekday, weekend       int
		system, long, nonASCII int
	)
	for _, e := range events {
		types[e.EventType]++
		subs[e.SubType]++
		sources[e.SystemSource]++
		if id := e.Metadata["entity_id"]; id != "" {
			perEntity[id]++
		}
		for k := range e.Metadata {
			metaKeys[k]++
		}
		h := e.OccurredAt.Hour()
		if wd := e.OccurredAt.Weekday(); wd == time.Saturday || wd == time.Sunday {
			weekend++
		} else {
			weekday++
			if h >= 9 && h < 17 {
				business++
			} else if h < 6 {
				night++
			}
		}
		if e.AuditeeID == "" {
			system++
		}
		if len(e.Description) > 500 {
			long++
		}
		if strings.ContainsFunc(e.Description, func(r rune) bool { return r > 127 }) {
			nonASCII++
		}
	}
	demoCount := perEntity[demo.DemoEntityID]
	t.Logf("demo entity events: %d; entities: %d; types %v; sources %v; system %d; long %d; non-ASCII %d",
		demoCount, len(perEntity), types, sources, system, long, nonASCII)
	if demoCount < 10 || demoCount > 200 {
		t.Errorf("demo entity has %d events, want 10..200", demoCount)
	}
	for _, want := range []string{"assessment", "task", "workflow", "screening", "match", "inquiry", "entity", "user", "api_key", "export"} {
		if types[want] == 0 {
			t.Errorf("no %q events", want)
		}
	}
	for _, want := range []string{"created", "updated", "deleted", "approved", "rejected", "assigned", "completed", "viewed", "exported", "login"} {
		if subs[want] == 0 {
			t.Errorf("no %q sub type", want)
		}
	}
	for _, want := range []string{"assessment_service", "task_platform", "workflow_engine", "screening_service", "identity_service", "api_gateway"} {
		if sources[want] == 0 {
			t.Errorf("no %q source", want)
		}
	}
	for _, k := range append(slices.Clone(audit.MetadataKeys), "ip", "user_agent") {
		if metaKeys[k] == 0 {
			t.Errorf("metadata key %q never used", k)
		}
	}
	// A typical entity has a handful of events, not hundreds.
	counts := make([]int, 0, len(perEntity))
	for _, n := range perEntity {
		counts = append(counts, n)
	}
	slices.Sort(counts)
	if median := counts[len(counts)/2]; median < 3 || median > 60 {
		t.Errorf("median events per entity %d", median)
	}
	// Weekday business hours (8 of 24 hours) are far busier than nights
	// (6 of 24 hours), and weekends are quiet.
	if business < 8*night {
		t.Errorf("business hours %d vs night %d", business, night)
	}
	if weekend*5 > weekday { // 2 of 7 days hold well under a sixth
		t.Errorf("weekend %d vs weekday %d", weekend, weekday)
	}
	if system == 0 || system > len(events)/2 || long == 0 || nonASCII == 0 {
		t.Errorf("system %d long %d non-ASCII %d", system, long, nonASCII)
	}
}

// TestEventsAreValid sends generated events through the ingest rules, so
// the demo never holds data the API would refuse.
func TestEventsAreValid(t *testing.T) {
	events := all(demo.Config{Seed: 3, TenantID: "t", Now: now, Events: 20_000})
	var b strings.Builder
	enc := json.NewEncoder(&b)
	for _, e := range events {
		if err := enc.Encode(e); err != nil {
			t.Fatal(err)
		}
	}
	n, err := ingest.DecodeNDJSON(strings.NewReader(b.String()), ingest.Limits{Now: func() time.Time { return now }},
		func([]audit.Event) error { return nil })
	if err != nil {
		t.Fatalf("%v: %+v", err, audit.AsError(err).Details)
	}
	if n != len(events) {
		t.Fatalf("%d of %d accepted", n, len(events))
	}
}

func BenchmarkGenerator(b *testing.B) {
	g := demo.New(demo.Config{Seed: 1, TenantID: "bench", Now: now, Events: b.N})
	b.ReportAllocs()
	b.ResetTimer()
	for {
		if _, ok := g.Next(); !ok {
			break
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
