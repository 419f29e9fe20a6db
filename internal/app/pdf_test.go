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

func pdfinfo(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdfinfo"); err != nil {
		t.Fatal("pdfinfo is missing: install poppler-utils (make test does)")
	}
	p := filepath.Join(t.TempDir(), "x.pdf")
	apptest.Must(t, os.WriteFile(p, pdf, 0o644))
	out, err := exec.Command("pdfinfo", p).Output()
	apptest.Must(t, err)
	return string(out)
}

// TestPDFPaper: paper=a4|letter takes part in the canonical parameters. No
// paper and paper=a4 are one export, paper=letter another, and a CSV
// ignores the paper (with or without it, one export); each PDF is on the
// paper it asked for; any other value is a 400 naming paper.
func TestPDFPaper(t *testing.T) {
	t.Parallel()
	env := apptest.Boot(t, apptest.Options{Database: "sqlite", Storage: "file"})
	key := env.Key("acme")
	ingestN(t, env, key, 40, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	get := func(q string) (string, []byte) {
		t.Helper()
		res, body := env.Do(http.MethodGet, exportPath+"?event_type=bulk&"+q, key, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", q, res.StatusCode, body)
		}
		return res.Header.Get("X-Export-Id"), body
	}
	a4, pdf := get("file_type=pdf")
	if info := pdfinfo(t, pdf); !strings.Contains(info, "841.89 x 595.28") {
		t.Errorf("default paper is not landscape A4:\n%s", info)
	}
	if id, _ := get("file_type=pdf&paper=a4"); id != a4 {
		t.Errorf("paper=a4 made export %s, not the default's %s", id, a4)
	}
	if id, _ := get("file_type=pdf&paper=A4"); id != a4 {
		t.Errorf("paper=A4 made export %s, not the default's %s", id, a4)
	}
	letter, pdf := get("file_type=pdf&paper=letter")
	if letter == a4 {
		t.Error("paper=letter attached to the A4 export")
	}
	if info := pdfinfo(t, pdf); !strings.Contains(info, "792 x 612 pts (letter)") {
		t.Errorf("paper=letter is not landscape Letter:\n%s", info)
	}
	csv, _ := get("file_type=csv")
	if id, _ := get("file_type=csv&paper=letter"); id != csv {
		t.Errorf("a CSV with paper=letter made export %s, not the plain CSV's %s", id, csv)
	}
	for _, q := range []string{"file_type=pdf&paper=b5", "file_type=csv&paper=legal", "paper[]=a4"} {
		res, body := env.Do(http.MethodGet, exportPath+"?"+q, key, nil)
		var eb struct {
			Error struct {
				Param   string
				Allowed []string
			} `json:"error"`
		}
		_ = json.Unmarshal(body, &eb)
		want := "paper"
		if strings.HasPrefix(q, "paper[]") {
			want = "paper[]"
		}
		if res.StatusCode != http.StatusBadRequest || eb.Error.Param != want {
			t.Errorf("%s: %d %s, want 400 naming %s", q, res.StatusCode, body, want)
		}
		if want == "paper" && strings.Join(eb.Error.Allowed, ",") != "a4,letter" {
			t.Errorf("%s: allowed %v, want a4, letter", q, eb.Error.Allowed)
		}
	}
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
