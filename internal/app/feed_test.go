package app_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/audit"
)

const feedPath = "/v5/audit-sentinel/events"

type feedPage struct {
	Events     []audit.Event `json:"events"`
	NextCursor string        `json:"next_cursor"`
	HasMore    bool          `json:"has_more"`
}

// poll reads the feed from cursor until it has n events or 20 s passed.
func poll(t *testing.T, env *apptest.Env, key, query, cursor string, n int) ([]audit.Event, string) {
	t.Helper()
	var got []audit.Event
	deadline := time.Now().Add(20 * time.Second)
	for len(got) < n && time.Now().Before(deadline) {
		q := query
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		res, body := env.Do(http.MethodGet, feedPath+"?"+q, key, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("feed: %d %s", res.StatusCode, body)
		}
		var p feedPage
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatalf("feed page: %v: %s", err, body)
		}
		if res.Header.Get("X-Next-Cursor") != p.NextCursor || p.NextCursor == "" {
			t.Fatalf("X-Next-Cursor %q, next_cursor %q", res.Header.Get("X-Next-Cursor"), p.NextCursor)
		}
		if res.Header.Get("X-Has-More") != fmt.Sprint(p.HasMore) {
			t.Fatalf("X-Has-More %q, has_more %v", res.Header.Get("X-Has-More"), p.HasMore)
		}
		got = append(got, p.Events...)
		cursor = p.NextCursor
		if !p.HasMore && len(got) < n {
			time.Sleep(10 * time.Millisecond)
		}
	}
	return got, cursor
}

// TestFeed: a poller following the feed gets every event once, in ingest
// order, with the export's filters, as JSON pages or NDJSON; bad input is a
// 400 naming the parameter; another tenant sees nothing.
func TestFeed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, o apptest.Options) {
		env := apptest.Boot(t, o)
		key := env.Key("acme")
		fx := fixture()
		// Three batches, the later ones occurring earlier: ingest order is
		// not time order.
		env.Ingest(key, fx[40:])
		env.Ingest(key, fx[20:40])
		env.Ingest(key, fx[:20])
		var want []string
		for _, part := range [][]map[string]any{fx[40:], fx[20:40], fx[:20]} {
			var ids []string
			for _, e := range part {
				if e["event_type"] == "assessment" {
					ids = append(ids, e["id"].(string))
				}
			}
			slices.Sort(ids) // within a batch, by id
			want = append(want, ids...)
		}
		got, cursor := poll(t, env, key, "event_type=assessment&limit=7", "", len(want))
		var gotIDs []string
		for _, e := range got {
			gotIDs = append(gotIDs, e.ID)
		}
		if !slices.Equal(gotIDs, want) {
			t.Fatalf("feed = %v, want %v", gotIDs, want)
		}
		if got[0].OccurredAt.IsZero() || got[0].EventType != "assessment" || got[0].Metadata["entity_id"] == "" {
			t.Fatalf("event as fed: %+v", got[0])
		}
		// At the end: an empty page.
		res, body := env.Do(http.MethodGet, feedPath+"?event_type=assessment&cursor="+url.QueryEscape(cursor), key, nil)
		var p feedPage
		if err := json.Unmarshal(body, &p); err != nil || res.StatusCode != http.StatusOK || len(p.Events) != 0 || p.HasMore {
			t.Fatalf("page at the end: %d %s", res.StatusCode, body)
		}

		// NDJSON, by Accept or format=: one event per line.
		for _, h := range [][]string{{"Accept", "application/x-ndjson"}, nil} {
			q := feedPath + "?limit=1000"
			if h == nil {
				q += "&format=ndjson"
			}
			res, body := env.Do(http.MethodGet, q, key, nil, h...)
			if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/x-ndjson") {
				t.Fatalf("ndjson: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), body)
			}
			lines := 0
			sc := bufio.NewScanner(bytes.NewReader(body))
			for sc.Scan() {
				var e audit.Event
				if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.ID == "" {
					t.Fatalf("ndjson line %q: %v", sc.Text(), err)
				}
				lines++
			}
			if lines == 0 || lines > len(fx) || res.Header.Get("X-Next-Cursor") == "" {
				t.Fatalf("ndjson: %d lines, cursor %q", lines, res.Header.Get("X-Next-Cursor"))
			}
		}

		// Another tenant sees none of it.
		other := env.Key("globex")
		res, body = env.Do(http.MethodGet, feedPath, other, nil)
		if err := json.Unmarshal(body, &p); res.StatusCode != http.StatusOK || err != nil || len(p.Events) != 0 {
			t.Fatalf("globex's feed: %s", body)
		}

		for _, c := range []struct{ query, param string }{
			{"limit=0", "limit"}, {"limit=10001", "limit"}, {"limit=ten", "limit"},
			{"cursor=not-a-cursor", "cursor"}, {"cursor=" + url.QueryEscape(cursor[:len(cursor)-2]) + "!!", "cursor"},
			{"format=xml", "format"}, {"file_type=csv", "file_type"}, {"event_typ=a", "event_typ"},
			{"metadata[nope]=1", "metadata[nope]"}, {"range_start=yesterday", "range_start"},
			{"range_start=2026-04-11T00:00:00Z&range_end=2026-04-10T00:00:00Z", "range_start"},
		} {
			res, body := env.Do(http.MethodGet, feedPath+"?"+c.query, key, nil)
			var e struct {
				Error struct{ Param string } `json:"error"`
			}
			if res.StatusCode != http.StatusBadRequest || json.Unmarshal(body, &e) != nil || e.Error.Param != c.param {
				t.Errorf("%s: %d %s; want 400 naming %s", c.query, res.StatusCode, body, c.param)
			}
		}
		if res, _ := env.Do(http.MethodGet, feedPath, "", nil); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("no key: %d, want 401", res.StatusCode)
		}
	})
}

// TestFeedUnderConcurrentIngest: NDJSON batches ingested through the API
// by four clients at once while a poller follows the feed; the poller gets
// every event exactly once.
func TestFeedUnderConcurrentIngest(t *testing.T) {
	forEachBackend(t, func(t *testing.T, o apptest.Options) {
		env := apptest.Boot(t, o)
		key := env.Key("acme")
		const clients, batches, size = 4, 5, 200
		var wg sync.WaitGroup
		for c := range clients {
			wg.Go(func() {
				for b := range batches {
					var buf bytes.Buffer
					for i := range size {
						fmt.Fprintf(&buf, `{"id":"c%d-b%d-%03d","occurred_at":"2026-04-10T%02d:00:00Z","event_type":"task","sub_type":"created","system_source":"feed-test"}`+"\n",
							c, b, i, i%24)
					}
					req, _ := http.NewRequest(http.MethodPost, env.URL+feedPath, &buf)
					req.Header.Set("apikey", key)
					req.Header.Set("Content-Type", "application/x-ndjson")
					res, err := env.Client.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					res.Body.Close()
					if res.StatusCode != http.StatusOK {
						t.Errorf("ingest: %d", res.StatusCode)
						return
					}
				}
			})
		}
		total := clients * batches * size
		got, cursor := poll(t, env, key, "limit=150", "", total)
		wg.Wait()
		// Anything handed out twice would come now.
		for range 3 {
			res, body := env.Do(http.MethodGet, feedPath+"?limit=150&cursor="+url.QueryEscape(cursor), key, nil)
			var p feedPage
			if err := json.Unmarshal(body, &p); err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("feed: %d %s", res.StatusCode, body)
			}
			if len(p.Events) != 0 {
				t.Fatalf("%d events after the poller had them all", len(p.Events))
			}
			cursor = p.NextCursor
		}
		seen := map[string]bool{}
		for _, e := range got {
			if seen[e.ID] {
				t.Fatalf("event %s handed out twice", e.ID)
			}
			seen[e.ID] = true
		}
		if len(seen) != total {
			t.Fatalf("the poller got %d events, %d were ingested", len(seen), total)
		}
	})
}
