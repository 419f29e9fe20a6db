package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

func runSnapshots(t *testing.T, open Open) {
	t.Run("SnapshotVisibility", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		insert := func(evs ...audit.Event) {
			t.Helper()
			if _, err := b.store.InsertEvents(b.ctx, "t1", evs); err != nil {
				t.Fatal(err)
			}
		}
		snap := func() audit.Snapshot {
			t.Helper()
			s, err := b.store.Snapshot(b.ctx)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		s0 := snap()
		insert(event("", "a1", 2*time.Second), event("", "a2", time.Second))
		s1 := snap()
		// b1 occurred before everything else: an export by time would put it
		// first, but it was ingested after s1.
		insert(event("", "b1", 0))
		s2 := snap()
		f := audit.Filter{TenantID: "t1"}
		at := func(s *audit.Snapshot, after *audit.Snapshot) []string {
			g := f
			g.AsOf, g.After = s, after
			return ids(collect(t, b.store, b.ctx, g))
		}
		if got := at(&s0, nil); len(got) != 0 {
			t.Errorf("as of s0 = %v, want nothing", got)
		}
		if got := at(&s1, nil); !slices.Equal(got, []string{"a2", "a1"}) {
			t.Errorf("as of s1 = %v, want [a2 a1]", got)
		}
		if got := at(&s2, nil); !slices.Equal(got, []string{"b1", "a2", "a1"}) {
			t.Errorf("as of s2 = %v, want [b1 a2 a1]", got)
		}
		if got := at(nil, &s1); !slices.Equal(got, []string{"b1"}) {
			t.Errorf("after s1 = %v, want [b1]", got)
		}
		if got := at(&s2, &s1); !slices.Equal(got, []string{"b1"}) {
			t.Errorf("as of s2 after s1 = %v, want [b1]", got)
		}
		g := f
		g.AsOf = &s1
		if n := count(t, b, g, 0); n != 2 {
			t.Errorf("count as of s1 = %d, want 2", n)
		}
		if !s2.Contains(s1) || s1.Contains(s2) || !s1.Contains(s0) {
			t.Errorf("containment wrong: s0 %v, s1 %v, s2 %v", s0, s1, s2)
		}
		if s1.Position() <= s0.Position() || s2.Position() <= s1.Position() {
			t.Errorf("positions do not grow with ingest: %d, %d, %d", s0.Position(), s1.Position(), s2.Position())
		}
	})

	t.Run("FeedPages", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		var want []string
		for i := range 3 {
			batch := []audit.Event{
				event("", fmt.Sprintf("e%d-b", i), time.Duration(10-i)*time.Second),
				event("", fmt.Sprintf("e%d-a", i), time.Duration(10-i)*time.Second),
			}
			other := event("", fmt.Sprintf("o%d", i), 0)
			other.EventType = "other"
			batch = append(batch, other)
			if _, err := b.store.InsertEvents(b.ctx, "t1", batch); err != nil {
				t.Fatal(err)
			}
			// Within one transaction the feed goes by id.
			want = append(want, fmt.Sprintf("e%d-a", i), fmt.Sprintf("e%d-b", i))
		}
		if _, err := b.store.InsertEvents(b.ctx, "t2", []audit.Event{event("", "x", 0)}); err != nil {
			t.Fatal(err)
		}
		f := audit.Filter{TenantID: "t1", EventTypes: []string{"user"}}
		before := func(a, b audit.FeedCursor) bool { return a.Tx < b.Tx || (a.Tx == b.Tx && a.ID < b.ID) }
		// follow reads pages until n events came or 10 s passed. A page that
		// is not full is not the end on PostgreSQL: the feed stays below
		// every transaction still in progress, in any database of the
		// cluster (other tests'), and catches up when they end.
		follow := func(cur audit.FeedCursor, n int) ([]string, audit.FeedCursor) {
			t.Helper()
			var got []string
			deadline := time.Now().Add(10 * time.Second)
			for len(got) < n && time.Now().Before(deadline) {
				p, err := b.store.FeedPage(b.ctx, f, cur, 4)
				if err != nil {
					t.Fatal(err)
				}
				if len(p.Events) > 4 {
					t.Fatalf("page of %d events, limit 4", len(p.Events))
				}
				for _, e := range p.Events {
					got = append(got, e.ID)
					if e.TenantID != "t1" || e.EventType != "user" {
						t.Fatalf("event %+v does not match the filter", e)
					}
				}
				if before(p.Next, cur) {
					t.Fatalf("cursor went back: %+v -> %+v", cur, p.Next)
				}
				cur = p.Next
				if !p.More && len(got) < n {
					time.Sleep(5 * time.Millisecond)
				}
			}
			return got, cur
		}
		got, cur := follow(audit.FeedCursor{}, len(want))
		if !slices.Equal(got, want) {
			t.Fatalf("feed = %v, want %v", got, want)
		}
		// At the end: empty pages, and the cursor never goes back.
		p, err := b.store.FeedPage(b.ctx, f, cur, 4)
		if err != nil || len(p.Events) != 0 || p.More || before(p.Next, cur) {
			t.Fatalf("page at the end = %+v, %v; want empty, cursor at or after %+v", p, err, cur)
		}
		cur = p.Next
		if _, err := b.store.InsertEvents(b.ctx, "t1", []audit.Event{event("", "late", -time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if got, _ := follow(cur, 1); !slices.Equal(got, []string{"late"}) {
			t.Fatalf("feed after one more event = %v, want [late]", got)
		}
		if _, err := b.store.FeedPage(b.ctx, f, cur, 0); audit.ErrorCode(err) != audit.EINVALID {
			t.Fatalf("limit 0: %v, want EINVALID", err)
		}
	})

	// Writers that commit out of order while a poller follows the feed:
	// every event is handed out exactly once. On PostgreSQL the writers
	// overlap (each holds its transaction open a random while after taking
	// its id); on SQLite they queue.
	t.Run("FeedUnderConcurrentIngest", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		const writers, batches = 4, 8
		var wg sync.WaitGroup
		stop := make(chan struct{})
		var want []string
		var mu sync.Mutex
		for w := range writers {
			wg.Go(func() {
				for i := range batches {
					evs := []audit.Event{event("", fmt.Sprintf("w%d-%02d-a", w, i), 0), event("", fmt.Sprintf("w%d-%02d-b", w, i), 0)}
					_, err := b.store.InsertEventStream(b.ctx, "t1", func(put func([]audit.Event) error) error {
						if err := put(evs[:1]); err != nil {
							return err
						}
						time.Sleep(time.Duration(rand.N(20)) * time.Millisecond)
						return put(evs[1:])
					})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					want = append(want, evs[0].ID, evs[1].ID)
					mu.Unlock()
				}
			})
		}
		go func() { wg.Wait(); close(stop) }()
		seen := map[string]int{}
		cur := audit.FeedCursor{}
		f := audit.Filter{TenantID: "t1"}
		done := false
		deadline := time.After(30 * time.Second)
		for {
			p, err := b.store.FeedPage(b.ctx, f, cur, 3)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range p.Events {
				seen[e.ID]++
			}
			cur = p.Next
			if p.More {
				continue
			}
			mu.Lock()
			all := len(seen) >= len(want)
			mu.Unlock()
			if done && all {
				break // every writer has committed and its events came
			}
			select {
			case <-stop:
				done = true
			case <-deadline:
				t.Fatalf("feed still short of %d events after 30 s (seen %d)", len(want), len(seen))
			case <-time.After(2 * time.Millisecond):
			}
		}
		// A few more pages: nothing is handed out twice.
		for range 3 {
			p, err := b.store.FeedPage(b.ctx, f, cur, 3)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range p.Events {
				seen[e.ID]++
			}
			cur = p.Next
		}
		if t.Failed() {
			return
		}
		for _, id := range want {
			if seen[id] != 1 {
				t.Errorf("event %s handed out %d times, want once", id, seen[id])
			}
		}
		if len(seen) != len(want) {
			t.Errorf("feed handed out %d events, %d were ingested", len(seen), len(want))
		}
	})

	t.Run("ExportReuseIsExact", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		window := base.Add(-time.Hour)
		if _, err := b.store.InsertEvents(b.ctx, "t1", []audit.Event{event("", "a", 0)}); err != nil {
			t.Fatal(err)
		}
		request := func(id string) (audit.Export, bool) {
			t.Helper()
			s, err := b.store.Snapshot(b.ctx)
			if err != nil {
				t.Fatal(err)
			}
			e := newExport("t1", id, "h", base)
			e.AsOf = &audit.AsOf{At: base, Snapshot: s}
			got, created, err := b.store.CreateOrAttachExport(b.ctx, e, window, 0)
			if err != nil {
				t.Fatal(err)
			}
			return got, created
		}
		first, created := request("x1")
		if !created || first.AsOf == nil || first.AsOf.Snapshot.IsZero() || !first.AsOf.At.Equal(base) {
			t.Fatalf("first request: created %v, as of %+v", created, first.AsOf)
		}
		if got, created := request("x2"); created || got.ID != "x1" {
			t.Fatalf("identical request with nothing new = %s (created %v), want x1", got.ID, created)
		}
		other := event("", "o", 0)
		other.EventType = "other" // the request filters on "user"
		if _, err := b.store.InsertEvents(b.ctx, "t1", []audit.Event{other}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.store.InsertEvents(b.ctx, "t2", []audit.Event{event("", "t2", 0)}); err != nil {
			t.Fatal(err)
		}
		if got, created := request("x3"); created || got.ID != "x1" {
			t.Fatalf("after events the request does not match = %s (created %v), want x1", got.ID, created)
		}
		if _, err := b.store.InsertEvents(b.ctx, "t1", []audit.Event{event("", "new", time.Minute)}); err != nil {
			t.Fatal(err)
		}
		// x1 is still queued: the new export must be inserted beside it.
		second, created := request("x4")
		if !created || second.ID != "x4" {
			t.Fatalf("after a matching event = %s (created %v), want a new export x4", second.ID, created)
		}
		if got, created := request("x5"); created || got.ID != "x4" {
			t.Fatalf("then = %s (created %v), want x4", got.ID, created)
		}
		if err := b.store.SupersedeRequest(b.ctx, "t1", "h", base); err != nil {
			t.Fatal(err)
		}
		if got, created := request("x6"); !created || got.ID != "x6" {
			t.Fatalf("after SupersedeRequest = %s (created %v), want a new export x6", got.ID, created)
		}
		// A completed export is reused exactly the same way.
		if err := b.store.CompleteExport(b.ctx, "t1", "x6", audit.ExportResult{Rows: 2}, base, base.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got, created := request("x7"); created || got.ID != "x6" {
			t.Fatalf("completed, nothing new = %s (created %v), want x6", got.ID, created)
		}
		if _, err := b.store.InsertEvents(b.ctx, "t1", []audit.Event{event("", "newer", time.Minute)}); err != nil {
			t.Fatal(err)
		}
		if got, created := request("x8"); !created || got.ID != "x8" {
			t.Fatalf("completed, then a matching event = %s (created %v), want x8", got.ID, created)
		}
	})
}
