package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// event returns a plain event of tenantID at base+offset.
func event(tenantID, id string, offset time.Duration) audit.Event {
	return audit.Event{
		ID:           id,
		TenantID:     tenantID,
		OccurredAt:   base.Add(offset),
		EventType:    "user",
		SubType:      "login",
		SystemSource: "web",
		AuditeeID:    "u1",
		Description:  "desc " + id,
	}
}

// normal is e as a store returns it.
func normal(tenantID string, e audit.Event) audit.Event {
	e.TenantID = tenantID
	e.OccurredAt = e.OccurredAt.UTC().Truncate(audit.TimePrecision)
	if len(e.Metadata) == 0 {
		e.Metadata = nil
	}
	return e
}

func collect(t *testing.T, s audit.EventStore, ctx context.Context, f audit.Filter) []audit.Event {
	t.Helper()
	var out []audit.Event
	err := s.StreamEvents(ctx, f, func(e *audit.Event) error {
		out = append(out, *e)
		return nil
	})
	if err != nil {
		t.Fatalf("StreamEvents(%+v): %v", f, err)
	}
	return out
}

func ids(evs []audit.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func count(t *testing.T, b *testBundle, f audit.Filter, limit int64) int64 {
	t.Helper()
	n, err := b.store.CountEvents(b.ctx, f, limit)
	if err != nil {
		t.Fatalf("CountEvents: %v", err)
	}
	return n
}

// sortEvents orders evs as streams must: (OccurredAt, ID) ascending, ID in
// byte order.
func sortEvents(evs []audit.Event) {
	slices.SortFunc(evs, func(a, b audit.Event) int {
		if c := a.OccurredAt.Compare(b.OccurredAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// gen yields n events of tenantID from start, one per millisecond.
func gen(tenantID string, start, n int) func() (*audit.Event, bool) {
	i := start
	return func() (*audit.Event, bool) {
		if i >= start+n {
			return nil, false
		}
		e := event(tenantID, fmt.Sprintf("ev-%08d", i), time.Duration(i)*time.Millisecond)
		e.Metadata = map[string]string{"entity_id": fmt.Sprintf("ent-%d", i%7), "custom": "x"}
		i++
		return &e, true
	}
}

func runEvents(t *testing.T, open Open) {
	t.Run("InsertEvents", func(t *testing.T) {
		t.Run("RoundTrip", func(t *testing.T) {
			t.Parallel()
			b := setup(t, open)
			in := []audit.Event{{
				ID:           "full",
				TenantID:     "ignored: the tenant argument wins",
				OccurredAt:   base.In(time.FixedZone("X", 3600)),
				EventType:    "assessment",
				SubType:      "updated",
				SystemSource: "api",
				AuditeeID:    "user-7",
				Description:  "ünïcödé, 'quotes', \"double\"; -- not sql",
				Metadata: map[string]string{
					"entity_id": "e1", "assessment_id": "a1", "task_id": "t1", "workflow_instance_id": "w1",
					"screening_application_id": "sa1", "screening_config_id": "sc1", "match_id": "m1",
					"inquiry_id": "i1", "tag": "", "cache_id": "c1", "workflow_step": "s1",
					"zz_extra": "z", "aa_extra": "a",
				},
			}, {
				ID: "bare", OccurredAt: base.Add(time.Microsecond), EventType: "system", SubType: "tick", SystemSource: "cron",
			}}
			n, err := b.store.InsertEvents(b.ctx, "t1", in)
			if err != nil || n != 2 {
				t.Fatalf("InsertEvents = %d, %v; want 2, nil", n, err)
			}
			got := collect(t, b.store, b.ctx, audit.Filter{TenantID: "t1"})
			want := []audit.Event{normal("t1", in[0]), normal("t1", in[1])}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("read back\n got %+v\nwant %+v", got, want)
			}
			if got[0].OccurredAt.Location() != time.UTC || !got[0].OccurredAt.Equal(base) {
				t.Fatalf("OccurredAt = %v, want %v in UTC", got[0].OccurredAt, base)
			}
		})
		t.Run("Idempotent", func(t *testing.T) {
			t.Parallel()
			b := setup(t, open)
			batch := []audit.Event{event("", "a", 0), event("", "b", 1), event("", "c", 2)}
			if n, err := b.store.InsertEvents(b.ctx, "t1", batch); err != nil || n != 3 {
				t.Fatalf("first = %d, %v; want 3", n, err)
			}
			changed := event("", "b", time.Hour) // a re-send never overwrites
			changed.Description = "changed"
			again := []audit.Event{batch[0], changed, batch[2], event("", "d", 3), event("", "d", 3)}
			if n, err := b.store.InsertEvents(b.ctx, "t1", again); err != nil || n != 1 {
				t.Fatalf("re-send = %d, %v; want 1 (only d, once)", n, err)
			}
			if n := count(t, b, audit.Filter{TenantID: "t1"}, 0); n != 4 {
				t.Fatalf("count = %d, want 4", n)
			}
			got := collect(t, b.store, b.ctx, audit.Filter{TenantID: "t1", AuditeeIDs: []string{"u1"}})
			if got[1].ID != "b" || got[1].Description != "desc b" {
				t.Fatalf("b was overwritten: %+v", got[1])
			}
			if n, err := b.store.InsertEvents(b.ctx, "t1", nil); err != nil || n != 0 {
				t.Fatalf("empty batch = %d, %v", n, err)
			}
		})
		t.Run("SameIDOtherTenant", func(t *testing.T) {
			t.Parallel()
			b := setup(t, open)
			for _, tenant := range []string{"t1", "t2"} {
				if n, err := b.store.InsertEvents(b.ctx, tenant, []audit.Event{event("", "same", 0)}); err != nil || n != 1 {
					t.Fatalf("%s: %d, %v", tenant, n, err)
				}
			}
		})
		t.Run("AllOrNothing", func(t *testing.T) {
			t.Parallel()
			b := setup(t, open)
			// Enough rows to span several INSERT statements; the bad one
			// (empty id, refused by the schema) sorts last.
			var batch []audit.Event
			for i := range 2500 {
				batch = append(batch, event("", fmt.Sprintf("e%05d", i), time.Duration(i)))
			}
			batch = append(batch, event("", "", 0))
			if _, err := b.store.InsertEvents(b.ctx, "t1", batch); err == nil {
				t.Fatal("InsertEvents with an invalid row succeeded")
			}
			if n := count(t, b, audit.Filter{TenantID: "t1"}, 0); n != 0 {
				t.Fatalf("%d events stored by a failed batch", n)
			}
			ctx, cancel := context.WithCancel(b.ctx)
			cancel()
			if _, err := b.store.InsertEvents(ctx, "t1", batch[:10]); !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled ctx: err = %v, want context.Canceled", err)
			}
			if n := count(t, b, audit.Filter{TenantID: "t1"}, 0); n != 0 {
				t.Fatalf("%d events stored with a cancelled ctx", n)
			}
		})
		t.Run("EmptyTenant", func(t *testing.T) {
			t.Parallel()
			b := setup(t, open)
			_, err := b.store.InsertEvents(b.ctx, "", []audit.Event{event("", "a", 0)})
			requireInvalid(t, err)
		})
	})

	t.Run("InsertEventStream", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		chunk := func(from, n int) []audit.Event {
			var out []audit.Event
			for i := from; i < from+n; i++ {
				out = append(out, event("", fmt.Sprintf("s%05d", i), time.Duration(i)))
			}
			return out
		}
		// Three chunks, then the producer fails: nothing may be stored.
		boom := errors.New("client went away")
		_, err := b.store.InsertEventStream(b.ctx, "t1", func(put func([]audit.Event) error) error {
			for c := range 3 {
				if err := put(chunk(c*1000, 1000)); err != nil {
					return err
				}
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want the producer's error", err)
		}
		if n := count(t, b, audit.Filter{TenantID: "t1"}, 0); n != 0 {
			t.Fatalf("%d events stored by a failed stream", n)
		}
		n, err := b.store.InsertEventStream(b.ctx, "t1", func(put func([]audit.Event) error) error {
			if err := put(chunk(0, 1500)); err != nil {
				return err
			}
			return put(chunk(1000, 1000)) // 500 overlap: duplicates are skipped
		})
		if err != nil || n != 2000 {
			t.Fatalf("stream: %d, %v; want 2000 new", n, err)
		}
		if n := count(t, b, audit.Filter{TenantID: "t1"}, 0); n != 2000 {
			t.Fatalf("%d events stored, want 2000", n)
		}
		_, err = b.store.InsertEventStream(b.ctx, "", func(func([]audit.Event) error) error { return nil })
		requireInvalid(t, err)
	})

	t.Run("InsertEventStreamChunks", func(t *testing.T) {
		t.Parallel()
		runStreamChunks(t, open)
	})

	t.Run("Filter", func(t *testing.T) {
		t.Parallel()
		runFilter(t, open)
	})

	t.Run("Ordering", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		// Equal times break by id in byte order ("C" < "a" < "b" < "c").
		in := []audit.Event{event("", "b", 0), event("", "c", 0), event("", "C", 0), event("", "a", 0),
			event("", "z", -time.Microsecond), event("", "0", time.Microsecond)}
		if _, err := b.store.InsertEvents(b.ctx, "t1", in); err != nil {
			t.Fatal(err)
		}
		got := ids(collect(t, b.store, b.ctx, audit.Filter{TenantID: "t1"}))
		if want := []string{"z", "C", "a", "b", "c", "0"}; !slices.Equal(got, want) {
			t.Fatalf("order = %v, want %v", got, want)
		}
	})

	t.Run("TenantRequired", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		requireInvalid(t, b.store.StreamEvents(b.ctx, audit.Filter{}, func(*audit.Event) error { return nil }))
		_, err := b.store.CountEvents(b.ctx, audit.Filter{EventTypes: []string{"user"}}, 0)
		requireInvalid(t, err)
		_, err = b.store.CountEvents(b.ctx, audit.Filter{TenantID: "t1", Metadata: map[string][]string{"custom": {"x"}}}, 0)
		requireInvalid(t, err) // not a filterable key: refusing beats ignoring it
	})

	t.Run("CountLimit", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		if _, err := b.store.BulkInsertEvents(b.ctx, "t1", gen("", 0, 500)); err != nil {
			t.Fatal(err)
		}
		if _, err := b.store.BulkInsertEvents(b.ctx, "t2", gen("", 0, 50)); err != nil {
			t.Fatal(err)
		}
		f := audit.Filter{TenantID: "t1"}
		for _, c := range []struct{ limit, want int64 }{{0, 500}, {-1, 500}, {1, 1}, {100, 100}, {500, 500}, {501, 500}, {10000, 500}} {
			if n := count(t, b, f, c.limit); n != c.want {
				t.Errorf("CountEvents(limit %d) = %d, want %d", c.limit, n, c.want)
			}
		}
		f.Metadata = map[string][]string{"entity_id": {"ent-3"}}
		if n := count(t, b, f, 10); n != 10 {
			t.Errorf("filtered, limit 10 = %d", n)
		}
		if n := count(t, b, f, 0); n != 71 { // i%7 == 3 for i < 500
			t.Errorf("filtered = %d, want 71", n)
		}
	})

	t.Run("StreamLarge", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		const n = 20000
		if got, err := b.store.BulkInsertEvents(b.ctx, "t1", gen("", 0, n)); err != nil || got != n {
			t.Fatalf("BulkInsertEvents = %d, %v", got, err)
		}
		var seen int
		var prev audit.Event
		err := b.store.StreamEvents(b.ctx, audit.Filter{TenantID: "t1"}, func(e *audit.Event) error {
			if seen > 0 && (e.OccurredAt.Before(prev.OccurredAt) || e.OccurredAt.Equal(prev.OccurredAt) && e.ID <= prev.ID) {
				return fmt.Errorf("out of order: %s after %s", e.ID, prev.ID)
			}
			if e.Metadata["custom"] != "x" || e.TenantID != "t1" {
				return fmt.Errorf("event %s read back as %+v", e.ID, e)
			}
			prev = *e
			seen++
			return nil
		})
		if err != nil || seen != n {
			t.Fatalf("streamed %d, err %v; want %d", seen, err, n)
		}

		errStop := errors.New("stop")
		seen = 0
		err = b.store.StreamEvents(b.ctx, audit.Filter{TenantID: "t1"}, func(*audit.Event) error {
			seen++
			if seen == 100 {
				return errStop
			}
			return nil
		})
		if !errors.Is(err, errStop) || seen != 100 {
			t.Fatalf("early stop: err %v after %d events; want errStop after 100", err, seen)
		}

		ctx, cancel := context.WithCancel(b.ctx)
		seen = 0
		err = b.store.StreamEvents(ctx, audit.Filter{TenantID: "t1"}, func(*audit.Event) error {
			if seen++; seen == 10 {
				cancel()
			}
			return nil
		})
		if err == nil || seen == n {
			t.Fatalf("cancelled stream: err %v after %d events", err, seen)
		}
	})

	t.Run("StreamEventRows", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		// More than one batch, with every shape of metadata: none, only
		// columns (one present but empty), only other keys, keys whose
		// JSON needs escapes, and both.
		shapes := []map[string]string{
			nil,
			{"entity_id": "ent", "tag": ""},
			{"ip": "203.0.113.7", "agent": "curl/8"},
			{"note": "a \"quoted\"\nline", "html": "<b>&</b>", "ü": "é"},
			{"task_id": "t", "ip": "198.51.100.1"},
		}
		var want []audit.Event
		for i := range 1300 {
			e := event("", fmt.Sprintf("r%05d", i), time.Duration(i%977)*time.Second)
			e.Metadata = shapes[i%len(shapes)]
			want = append(want, e)
		}
		if _, err := b.store.InsertEvents(b.ctx, "t1", want); err != nil {
			t.Fatal(err)
		}
		var batches [][]audit.EventRow
		err := b.store.StreamEventRows(b.ctx, audit.Filter{TenantID: "t1"}, func(rows []audit.EventRow) error {
			if len(rows) == 0 {
				return errors.New("empty batch")
			}
			batches = append(batches, rows) // kept: later batches must not change it
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(batches) < 2 {
			t.Fatalf("%d batches for %d events; want the stream to come in several", len(batches), len(want))
		}
		var got []audit.Event
		for _, rows := range batches {
			for i := range rows {
				r := &rows[i]
				ev, err := r.Event("t1")
				if err != nil {
					t.Fatal(err)
				}
				for k, key := range audit.MetadataKeys {
					if _, ok := ev.Metadata[key]; ok != (r.HasMeta&(1<<k) != 0) || r.Meta[k] != ev.Metadata[key] {
						t.Fatalf("event %s: Meta/HasMeta disagree with its metadata for %s", r.ID, key)
					}
				}
				if x, _ := audit.EncodeExtraMetadata(ev.Metadata); r.Extra != x {
					t.Fatalf("event %s: Extra = %q, want the stored form %q", r.ID, r.Extra, x)
				}
				got = append(got, *ev)
			}
		}
		if streamed := collect(t, b.store, b.ctx, audit.Filter{TenantID: "t1"}); !reflect.DeepEqual(got, streamed) {
			t.Fatalf("StreamEventRows and StreamEvents disagree (%d and %d events)", len(got), len(streamed))
		}
		for i := range want {
			want[i] = normal("t1", want[i])
		}
		sortEvents(want)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("rows read back differ from what was inserted")
		}

		errStop := errors.New("stop")
		calls := 0
		err = b.store.StreamEventRows(b.ctx, audit.Filter{TenantID: "t1"}, func([]audit.EventRow) error {
			calls++
			return errStop
		})
		if err != errStop || calls != 1 { //nolint:errorlint // the very error returned, not one wrapping it
			t.Fatalf("early stop: err %v after %d batches; want errStop itself after 1", err, calls)
		}
	})

	t.Run("StreamWhileWriting", func(t *testing.T) {
		// An export streams for minutes while it records progress and other
		// requests read and write: none of that may block or fail.
		t.Parallel()
		b := setup(t, open)
		if _, err := b.store.BulkInsertEvents(b.ctx, "t1", gen("", 0, 3000)); err != nil {
			t.Fatal(err)
		}
		e := newExport("t1", "x1", "h1", base)
		if err := b.store.CreateExport(b.ctx, e); err != nil {
			t.Fatal(err)
		}
		if _, err := b.store.StartExport(b.ctx, "t1", "x1", base, 3000); err != nil {
			t.Fatal(err)
		}
		var rows int64
		err := b.store.StreamEvents(b.ctx, audit.Filter{TenantID: "t1"}, func(ev *audit.Event) error {
			rows++
			if rows%500 != 0 {
				return nil
			}
			if err := b.store.UpdateProgress(b.ctx, "t1", "x1", rows, base); err != nil {
				return fmt.Errorf("progress: %w", err)
			}
			if _, err := b.store.InsertEvents(b.ctx, "t2", []audit.Event{event("", fmt.Sprint("w", rows), 0)}); err != nil {
				return fmt.Errorf("insert: %w", err)
			}
			if _, err := b.store.CountEvents(b.ctx, audit.Filter{TenantID: "t2"}, 0); err != nil {
				return fmt.Errorf("count: %w", err)
			}
			got, err := b.store.GetExport(b.ctx, "t1", "x1")
			if err != nil || got.RowsWritten != rows {
				return fmt.Errorf("get export: %+v, %w", got.RowsWritten, err)
			}
			return nil
		})
		if err != nil || rows != 3000 {
			t.Fatalf("stream: %d rows, %v", rows, err)
		}
	})

	t.Run("BulkInsertEvents", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		const n = 25000 // more than one transaction / COPY chunk
		got, err := b.store.BulkInsertEvents(b.ctx, "t1", gen("", 0, n))
		if err != nil || got != n {
			t.Fatalf("BulkInsertEvents = %d, %v; want %d", got, err, n)
		}
		// A re-run overlapping what is there adds only the new ones.
		got, err = b.store.BulkInsertEvents(b.ctx, "t1", gen("", n-5000, 8000))
		if err != nil || got != 3000 {
			t.Fatalf("overlapping re-run = %d, %v; want 3000", got, err)
		}
		if c := count(t, b, audit.Filter{TenantID: "t1"}, 0); c != n+3000 {
			t.Fatalf("count = %d, want %d", c, n+3000)
		}
		// Bulk-loaded rows read back like inserted ones.
		var first *audit.Event
		if err := b.store.StreamEvents(b.ctx, audit.Filter{TenantID: "t1"}, func(e *audit.Event) error {
			first = e
			return errors.New("first only")
		}); err == nil || first == nil {
			t.Fatal("no first event")
		}
		want, _ := gen("t1", 0, 1)()
		if !reflect.DeepEqual(*first, normal("t1", *want)) {
			t.Fatalf("first = %+v, want %+v", *first, *want)
		}
		// Reusing the event between calls is allowed.
		var reused audit.Event
		i := 0
		got, err = b.store.BulkInsertEvents(b.ctx, "t2", func() (*audit.Event, bool) {
			if i == 3 {
				return nil, false
			}
			reused = event("", fmt.Sprint("r", i), 0)
			i++
			return &reused, true
		})
		if err != nil || got != 3 {
			t.Fatalf("reused event: %d, %v", got, err)
		}
		if got := ids(collect(t, b.store, b.ctx, audit.Filter{TenantID: "t2"})); !slices.Equal(got, []string{"r0", "r1", "r2"}) {
			t.Fatalf("reused event: stored %v", got)
		}
		if _, err := b.store.BulkInsertEvents(b.ctx, "", gen("", 0, 1)); err == nil {
			t.Fatal("bulk insert without tenant succeeded")
		}
		var calls atomic.Int32
		_, err = b.store.BulkInsertEvents(b.ctx, "t3", func() (*audit.Event, bool) {
			calls.Add(1)
			return nil, false
		})
		if err != nil || calls.Load() == 0 {
			t.Fatalf("empty source: %v", err)
		}
	})
}

// filterData is a deterministic set of events for tenant "A", and the same
// ids (with other values) for tenant "B", varied on every filterable field.
func filterData() (a, b []audit.Event) {
	types := []string{"user", "assessment", "task"}
	subs := []string{"created", "updated", "deleted", "viewed"}
	sources := []string{"web", "api"}
	auditees := []string{"alice", "bob", "carol", ""}
	for i := range 60 {
		e := audit.Event{
			ID:           fmt.Sprintf("e%03d", i),
			OccurredAt:   base.Add(time.Duration(i/2) * time.Second), // pairs share a time
			EventType:    types[i%3],
			SubType:      subs[i%4],
			SystemSource: sources[i%2],
			AuditeeID:    auditees[i%4],
			Metadata:     map[string]string{},
		}
		if i%2 == 0 {
			e.Metadata["entity_id"] = fmt.Sprintf("ent%d", i%5)
		}
		if i%3 == 0 {
			e.Metadata["task_id"] = fmt.Sprintf("task%d", i%4)
		}
		if i%5 == 0 {
			e.Metadata["workflow_step"] = "review"
		}
		if i%7 == 0 {
			e.Metadata["tag"] = "" // present but empty
		}
		e.Metadata["other"] = "not filterable"
		a = append(a, e)
		o := e
		o.EventType, o.AuditeeID = "user", "alice" // would match many filters
		o.Metadata = maps.Clone(e.Metadata)
		o.Metadata["entity_id"] = "ent1"
		b = append(b, o)
	}
	return a, b
}

func runFilter(t *testing.T, open Open) {
	b := setup(t, open)
	evA, evB := filterData()
	if _, err := b.store.InsertEvents(b.ctx, "A", evA); err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.InsertEvents(b.ctx, "B", evB); err != nil {
		t.Fatal(err)
	}
	at := func(sec int) *time.Time { return ptr(base.Add(time.Duration(sec) * time.Second)) }
	cases := []struct {
		name string
		f    audit.Filter
		// want is the expected number of matches, pinned so that a case
		// cannot pass by matching nothing (or everything) on both sides.
		want int
	}{
		{"Empty", audit.Filter{}, 60},
		{"AuditeeOne", audit.Filter{AuditeeIDs: []string{"alice"}}, 15},
		{"AuditeeOr", audit.Filter{AuditeeIDs: []string{"alice", "bob"}}, 30},
		{"AuditeeEmpty", audit.Filter{AuditeeIDs: []string{""}}, 15},
		{"AuditeeUnknown", audit.Filter{AuditeeIDs: []string{"mallory"}}, 0},
		{"EventType", audit.Filter{EventTypes: []string{"task"}}, 20},
		{"EventTypeOr", audit.Filter{EventTypes: []string{"task", "user"}}, 40},
		{"SubType", audit.Filter{SubTypes: []string{"viewed"}}, 15},
		{"SubTypeOr", audit.Filter{SubTypes: []string{"viewed", "created"}}, 30},
		{"SystemSource", audit.Filter{SystemSources: []string{"api"}}, 30},
		{"SystemSourceOr", audit.Filter{SystemSources: []string{"api", "web"}}, 60},
		{"AndAcrossLists", audit.Filter{EventTypes: []string{"user"}, SystemSources: []string{"web"}}, 10},
		{"AndAcrossLists3", audit.Filter{EventTypes: []string{"user", "task"}, SubTypes: []string{"created"}, AuditeeIDs: []string{"alice"}}, 10},
		{"AndNoOverlap", audit.Filter{AuditeeIDs: []string{"alice"}, SubTypes: []string{"updated"}}, 0},
		{"MetaOne", audit.Filter{Metadata: map[string][]string{"entity_id": {"ent0"}}}, 6},
		{"MetaOr", audit.Filter{Metadata: map[string][]string{"entity_id": {"ent0", "ent2"}}}, 12},
		{"MetaAndAcrossKeys", audit.Filter{Metadata: map[string][]string{"entity_id": {"ent0"}, "task_id": {"task0", "task2"}}}, 2},
		{"MetaPresentEmpty", audit.Filter{Metadata: map[string][]string{"tag": {""}}}, 9},
		{"MetaLowCardinality", audit.Filter{Metadata: map[string][]string{"workflow_step": {"review"}}}, 12},
		{"MetaEmptyListIgnored", audit.Filter{Metadata: map[string][]string{"task_id": {}}}, 60},
		{"MetaAndList", audit.Filter{Metadata: map[string][]string{"task_id": {"task0"}}, SystemSources: []string{"web"}}, 5},
		{"RangeStartInclusive", audit.Filter{RangeStart: at(10)}, 40},
		{"RangeStartPlus1us", audit.Filter{RangeStart: ptr(at(10).Add(time.Microsecond))}, 38},
		{"RangeStartSubMicro", audit.Filter{RangeStart: ptr(at(10).Add(time.Nanosecond))}, 40}, // truncated, as Canonical does
		{"RangeEndInclusive", audit.Filter{RangeEnd: at(10)}, 22},
		{"RangeEndMinus1us", audit.Filter{RangeEnd: ptr(at(10).Add(-time.Microsecond))}, 20},
		{"RangeEndSubMicro", audit.Filter{RangeEnd: ptr(at(10).Add(-time.Nanosecond))}, 20},
		{"RangeBoth", audit.Filter{RangeStart: at(10), RangeEnd: at(12)}, 6},
		{"RangeExactInstant", audit.Filter{RangeStart: at(5), RangeEnd: at(5)}, 2},
		{"RangeOtherZone", audit.Filter{RangeStart: ptr(at(10).In(time.FixedZone("UTC+5", 5*3600)))}, 40},
		{"RangeEmpty", audit.Filter{RangeStart: at(12), RangeEnd: at(10)}, 0},
		{"RangeAndLists", audit.Filter{RangeStart: at(10), EventTypes: []string{"user"}, Metadata: map[string][]string{"entity_id": {"ent0", "ent4"}}}, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := c.f
			f.TenantID = "A"
			// The reference: audit.Filter.Match on the canonical filter, as
			// export requests are canonicalised before they reach a store.
			var want []audit.Event
			for _, e := range evA {
				e := normal("A", e)
				if f.Canonical().Match(&e) {
					want = append(want, e)
				}
			}
			sortEvents(want)
			if len(want) != c.want {
				t.Fatalf("reference semantics (audit.Filter.Match) give %d events, the case pins %d: fix the case", len(want), c.want)
			}
			got := collect(t, b.store, b.ctx, f)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("StreamEvents\n got %v\nwant %v", ids(got), ids(want))
			}
			if n := count(t, b, f, 0); n != int64(len(want)) {
				t.Fatalf("CountEvents = %d, want %d", n, len(want))
			}
		})
	}
	t.Run("TenantIsolation", func(t *testing.T) {
		for _, e := range collect(t, b.store, b.ctx, audit.Filter{TenantID: "B", AuditeeIDs: []string{"alice"}}) {
			if e.TenantID != "B" || e.EventType != "user" {
				t.Fatalf("tenant B stream returned %+v", e)
			}
		}
		if n := count(t, b, audit.Filter{TenantID: "C"}, 0); n != 0 {
			t.Fatalf("unknown tenant counts %d", n)
		}
	})
}

// runStreamChunks: a streamed batch of many chunks (more than a store
// keeps in flight) is one batch whatever the store does with the chunks.
func runStreamChunks(t *testing.T, open Open) {
	// 7,345 events in chunks of 1,000 whose ids run against the chunk
	// order, with all the metadata the columns hold.
	var chunks [][]audit.Event
	var all []audit.Event
	for c := range 8 {
		var chunk []audit.Event
		for i := range min(1000, 7345-c*1000) {
			e := event("", fmt.Sprintf("c%d-%04d", 7-c, 999-i), time.Duration(c*1000+i)*time.Millisecond)
			e.Metadata = map[string]string{"entity_id": fmt.Sprint("ent", i%7), "tag": "kyc", "zz_extra": fmt.Sprint(c)}
			chunk = append(chunk, e)
		}
		chunks = append(chunks, chunk)
		all = append(all, chunk...)
	}
	stream := func(b *testBundle, tenantID string, after func(put func([]audit.Event) error) error) (int, error) {
		return b.store.InsertEventStream(b.ctx, tenantID, func(put func([]audit.Event) error) error {
			for _, c := range chunks {
				if err := put(c); err != nil {
					return err
				}
			}
			return after(put)
		})
	}
	done := func(func([]audit.Event) error) error { return nil }

	t.Run("EveryEventStoredAndFed", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		n, err := stream(b, "t1", done)
		if err != nil || n != len(all) {
			t.Fatalf("stream: %d, %v; want %d new", n, err, len(all))
		}
		want := make([]audit.Event, len(all))
		for i, e := range all {
			want[i] = normal("t1", e)
		}
		sortEvents(want)
		if got := collect(t, b.store, b.ctx, audit.Filter{TenantID: "t1"}); !reflect.DeepEqual(got, want) {
			t.Fatalf("read back %d events, want %d as put (first difference among %v…)", len(got), len(want), ids(got[:min(3, len(got))]))
		}
		// The feed hands out every event of the batch, once. (In what
		// order depends on how the backend numbers the chunks: one
		// PostgreSQL transaction is one position, see the postgres
		// package's TestStreamedBatchIsOneIngestPosition.) On PostgreSQL
		// it may lag behind other tests' transactions (see FeedPages).
		var got []string
		cur := audit.FeedCursor{}
		for deadline := time.Now().Add(10 * time.Second); len(got) < len(all) && time.Now().Before(deadline); {
			p, err := b.store.FeedPage(b.ctx, audit.Filter{TenantID: "t1"}, cur, 2000)
			if err != nil {
				t.Fatal(err)
			}
			got, cur = append(got, ids(p.Events)...), p.Next
			if !p.More && len(got) < len(all) {
				time.Sleep(5 * time.Millisecond)
			}
		}
		slices.Sort(got)
		wantIDs := ids(all)
		slices.Sort(wantIDs)
		if !slices.Equal(got, wantIDs) {
			t.Fatalf("the feed hands out %d events, want the %d of the batch once each", len(got), len(wantIDs))
		}
	})

	t.Run("ConflictInTheFirstChunk", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		if _, err := b.store.InsertEvents(b.ctx, "t1", chunks[0][500:501]); err != nil {
			t.Fatal(err)
		}
		n, err := stream(b, "t1", done)
		if err != nil || n != len(all)-1 {
			t.Fatalf("stream: %d, %v; want %d new", n, err, len(all)-1)
		}
		if n := count(t, b, audit.Filter{TenantID: "t1"}, 0); n != int64(len(all)) {
			t.Fatalf("%d events stored, want %d", n, len(all))
		}
	})

	t.Run("ProducerFailsAtTheEnd", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		bad := errors.New("event 7345 is invalid")
		_, err := stream(b, "t1", func(put func([]audit.Event) error) error {
			if err := put(chunks[0][:1]); err != nil {
				return err
			}
			return bad
		})
		if !errors.Is(err, bad) {
			t.Fatalf("err = %v, want the producer's", err)
		}
		if n := count(t, b, audit.Filter{TenantID: "t1"}, 0); n != 0 {
			t.Fatalf("%d events stored by a failed stream", n)
		}
	})

	t.Run("ProducerPanics", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		// The panic reaches the caller, whose recovery (echo's, for a
		// request) turns it into a 500, however the store runs fill.
		recovered := func() (r any) {
			defer func() { r = recover() }()
			_, _ = stream(b, "t1", func(func([]audit.Event) error) error { panic("decoder bug") })
			return nil
		}()
		if recovered != "decoder bug" {
			t.Fatalf("recovered %v, want the producer's panic", recovered)
		}
		if n := count(t, b, audit.Filter{TenantID: "t1"}, 0); n != 0 {
			t.Fatalf("%d events stored by a stream whose producer panicked", n)
		}
		// The store works on.
		if n, err := stream(b, "t1", done); err != nil || n != len(all) {
			t.Fatalf("stream after the panic: %d, %v", n, err)
		}
	})
}
