package postgres_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/sqlstore/postgres"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

// A transaction that takes its ingest id first and commits last: the case a
// plain sequence gets wrong (a reader that saw the later, smaller-numbered
// commit first would move past the early id and never return to it).
// "late" is put by a streamed batch that then waits; "early" is inserted and
// committed meanwhile. A snapshot taken while "late" is in progress must
// leave it out for good (an export of it never changes), and the feed must
// not hand out "early" ahead of the horizon "late" holds back, so that after
// "late" commits a poller following its cursor gets both, once each.
func TestLateCommitIsNeverSkipped(t *testing.T) {
	s, err := postgres.Open(t.Context(), testenv.PostgresURL(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	ev := func(id string) audit.Event {
		return audit.Event{ID: id, OccurredAt: time.UnixMicro(1_700_000_000_000_000).UTC(), EventType: "t", SubType: "s", SystemSource: "test"}
	}

	held, release := make(chan struct{}), make(chan struct{})
	lateDone := make(chan error, 1)
	go func() {
		_, err := s.InsertEventStream(ctx, "acme", func(put func([]audit.Event) error) error {
			if err := put([]audit.Event{ev("late")}); err != nil {
				return err
			}
			close(held)
			<-release
			return nil
		})
		lateDone <- err
	}()
	select {
	case <-held:
	case err := <-lateDone:
		t.Fatalf("late batch ended early: %v", err)
	}
	if _, err := s.InsertEvents(ctx, "acme", []audit.Event{ev("early")}); err != nil {
		t.Fatal(err)
	}

	f := audit.Filter{TenantID: "acme"}
	snap, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Xip) == 0 {
		t.Fatalf("snapshot %v lists no transaction in progress while one holds \"late\"", snap)
	}
	exported := func() []string {
		g := f
		g.AsOf = &snap
		var got []string
		if err := s.StreamEvents(ctx, g, func(e *audit.Event) error { got = append(got, e.ID); return nil }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := exported(); !slices.Equal(got, []string{"early"}) {
		t.Fatalf("export as of %v = %v, want [early]", snap, got)
	}

	var fed []string
	cur := audit.FeedCursor{}
	p, err := s.FeedPage(ctx, f, cur, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range p.Events {
		fed = append(fed, e.ID)
	}
	if slices.Contains(fed, "early") {
		t.Fatalf("feed handed out %v while \"late\" (ingested first) was still in progress; its cursor %+v would skip it", fed, p.Next)
	}
	cur = p.Next

	close(release)
	if err := <-lateDone; err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(fed) < 2 && time.Now().Before(deadline) {
		p, err := s.FeedPage(ctx, f, cur, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Events {
			fed = append(fed, e.ID)
		}
		cur = p.Next
		time.Sleep(5 * time.Millisecond)
	}
	if !slices.Equal(fed, []string{"late", "early"}) {
		t.Fatalf("feed = %v, want [late early] (ingest order: late took its id first)", fed)
	}
	// The snapshot does not change its mind now that "late" has committed.
	if got := exported(); !slices.Equal(got, []string{"early"}) {
		t.Fatalf("export as of %v after the late commit = %v, want [early] still", snap, got)
	}
}
