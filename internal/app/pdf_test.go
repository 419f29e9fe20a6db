package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/jobs"
)

// ingestN posts n events of type "bulk" one hour apart from base, in
// batches of 1,000.
func ingestN(t *testing.T, env *apptest.Env, key string, n int, base time.Time) {
	t.Helper()
	for start := 0; start < n; start += 1000 {
		var batch []map[string]any
		for i := start; i < min(start+1000, n); i++ {
			batch = append(batch, map[string]any{
				"id":            fmt.Sprintf("bulk-%05d", i),
				"occurred_at":   base.Add(time.Duration(i) * time.Minute).Format(time.RFC3339),
				"event_type":    "bulk",
				"sub_type":      "created",
				"system_source": "loader",
				"description":   fmt.Sprintf("bulk event %d", i),
			})
		}
		env.Ingest(key, batch)
	}
}

func pdftotext(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext is missing: install poppler-utils (make test does)")
	}
	p := filepath.Join(t.TempDir(), "x.pdf")
	apptest.Must(t, os.WriteFile(p, pdf, 0o644))
	out, err := exec.Command("pdftotext", "-layout", p, "-").Output()
	apptest.Must(t, err)
	return string(out)
}

// TestPDFCap: the reference document's 5,000-event cap. Over it answers 400
// at once, saying how many matched, and queues nothing; exactly 5,000 is a
// PDF with all of them.
func TestPDFCap(t *testing.T) {
	t.Parallel()
	env := apptest.Boot(t, apptest.Options{Database: "postgres", Storage: "s3"})
	key := env.Key("acme")
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	ingestN(t, env, key, 5001, base)

	res, body := env.Do(http.MethodGet, exportPath+"?file_type=pdf&event_type=bulk", key, nil)
	var eb struct {
		Error struct {
			Code, Message, Param string
			Details              map[string]any
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &eb)
	if res.StatusCode != http.StatusBadRequest || eb.Error.Param != "file_type" ||
		!strings.Contains(eb.Error.Message, "5001") || !strings.Contains(eb.Error.Message, "csv") {
		t.Fatalf("5,001 events as PDF: %d %s", res.StatusCode, body)
	}
	list, err := env.Deps.Store.ListExports(t.Context(), audit.ExportListFilter{TenantID: "acme", Limit: 10})
	apptest.Must(t, err)
	if len(list) != 0 {
		t.Fatalf("the refused PDF request queued %d export(s)", len(list))
	}

	// Exactly 5,000: range_end excludes the last event.
	end := base.Add(4999 * time.Minute).Format(time.RFC3339)
	res, pdf := env.Do(http.MethodGet, exportPath+"?file_type=pdf&event_type=bulk&range_end="+end+"&timezone=Europe/Berlin&locale=de",
		key, nil, "Prefer", "wait=60")
	if res.StatusCode != http.StatusOK || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("5,000 events as PDF: %d %.200s", res.StatusCode, pdf)
	}
	text := pdftotext(t, pdf)
	for _, want := range []string{"bulk-00000", "bulk-04999", "5.000", "Europe/Berlin"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
	if strings.Contains(text, "bulk-05000") {
		t.Error("PDF holds the event outside the range")
	}
	if n := strings.Count(text, "bulk event "); n != 5000 {
		t.Errorf("PDF has %d event rows, want 5000", n)
	}
}

// TestWorkerEnforcesPDFCap: data may change between the API's check and the
// run; the worker refuses rather than render a truncated PDF, and the export
// ends visibly failed.
func TestWorkerEnforcesPDFCap(t *testing.T) {
	t.Parallel()
	env := apptest.Boot(t, apptest.Options{Database: "sqlite", Storage: "file", Env: map[string]string{"PDF_MAX_EVENTS": "10"}})
	key := env.Key("acme")
	ingestN(t, env, key, 11, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	// Queue the export behind the API's back, as if the events had arrived
	// after its check.
	p := audit.ExportParams{Filter: audit.Filter{TenantID: "acme"}, FileType: audit.FilePDF, Locale: "en", Timezone: "UTC"}
	e := audit.Export{ID: "pdf-over-cap", TenantID: "acme", Params: p, RequestHash: p.Hash(), Status: audit.StatusQueued,
		RowsTotal: -1, CreatedAt: time.Now().UTC()}
	apptest.Must(t, env.Deps.Store.CreateExport(t.Context(), e))
	q := jobs.NewClient(env.Deps.Redis)
	defer q.Close()
	apptest.Must(t, q.EnqueueExport(t.Context(), "acme", e.ID))
	st := env.WaitExport(key, e.ID)
	if st["status"] != "failed" || !strings.Contains(fmt.Sprint(st["error"]), "at most 10") {
		t.Fatalf("status %v", st)
	}
	res, body := env.Do(http.MethodGet, "/v5/audit-sentinel/exports/"+e.ID+"/file", key, nil)
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("file of a failed export: %d %s", res.StatusCode, body)
	}
}
