package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/httpapi"
	"github.com/auditsentinel/sentinel/internal/sqlstore"
)

// lostFirstAttempt runs every streamed batch's fill twice, as the store does
// when the first transaction loses a deadlock: the first run's chunks go
// nowhere (rolled back), the second run's are stored.
type lostFirstAttempt struct {
	*sqlstore.DB
	attempts *int
}

func (s lostFirstAttempt) InsertEventStream(ctx context.Context, tenantID string, fill func(put func([]audit.Event) error) error) (int, error) {
	return s.DB.InsertEventStream(ctx, tenantID, func(put func([]audit.Event) error) error {
		*s.attempts++
		if err := fill(func([]audit.Event) error { return nil }); err != nil {
			return err
		}
		*s.attempts++
		return fill(put)
	})
}

// A retried NDJSON transaction must read the spooled body from its first
// line again: read on from where the first attempt stopped, it would store
// nothing and still answer 200.
func TestNDJSONRetryReadsTheBodyAgain(t *testing.T) {
	var attempts int
	b := setup(t, time.Minute, func(db *sqlstore.DB) httpapi.Store { return lostFirstAttempt{db, &attempts} })
	var body strings.Builder
	for i := range 3 {
		fmt.Fprintf(&body, `{"id":"e%d","occurred_at":"2026-01-02T03:04:05Z","event_type":"user","sub_type":"login","system_source":"web"}`+"\n", i)
	}
	req, _ := http.NewRequest(http.MethodPost, b.server.URL+"/v5/audit-sentinel/events", strings.NewReader(body.String()))
	req.Header.Set("apikey", b.key)
	req.Header.Set("Content-Type", "application/x-ndjson")
	res, err := b.server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var got httpapi.IngestResult
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("status %d, %+v, %v", res.StatusCode, got, err)
	}
	if attempts != 2 || got.Received != 3 || got.Accepted != 3 {
		t.Fatalf("after %d attempts: %+v; want 3 received and accepted", attempts, got)
	}
	n, err := b.store.CountEvents(t.Context(), audit.Filter{TenantID: "acme"}, 0)
	if err != nil || n != 3 {
		t.Fatalf("stored %d events, %v; want 3", n, err)
	}
}
