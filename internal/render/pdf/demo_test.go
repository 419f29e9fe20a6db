package pdfrender

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/demo"
	"github.com/auditsentinel/sentinel/internal/render"
	"github.com/auditsentinel/sentinel/internal/render/rendertest"
)

// demoEvents returns the first n events of the demo's data set, the
// realistic mix the density target is stated for (names in six scripts,
// three to five UUIDs an event, some long reviewer notes).
// uuidRE matches a whole UUID: not preceded or followed by more of one.
var uuidRE = regexp.MustCompile(`\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`)

func demoEvents(n int) []audit.Event {
	g := demo.New(demo.Config{Seed: 7, TenantID: "demo", Now: time.Date(2026, 4, 11, 0, 0, 0, 0, time.UTC), Events: n})
	out := make([]audit.Event, 0, n)
	for {
		e, ok := g.Next()
		if !ok {
			return out
		}
		out = append(out, *e)
	}
}

func demoReport(t testing.TB, paper audit.Paper) render.Report {
	return render.Report{
		ExportID: "0190f4c2-7b1e-7c3a-9f10-4be2d1a0cafe", TenantID: "demo",
		Params:      audit.ExportParams{FileType: audit.FilePDF, Locale: "en", Timezone: "Europe/Berlin", Paper: paper},
		Location:    mustLoc(t, "Europe/Berlin"),
		GeneratedAt: time.Date(2026, 4, 11, 9, 30, 0, 0, time.UTC),
		EventCount:  -1,
	}
}

// TestDemoDensity renders 5,000 of the demo's events on both papers: at
// least 25 events a page (so at most 200 pages), and pdftotext gives back
// every id of them — event ids, auditee ids and every id-like metadata
// value — whole, each event id exactly once. With PDF_SAMPLES set to a
// directory, the PDFs and PNGs of their first and a middle page are kept
// there for a person to look at.
func TestDemoDensity(t *testing.T) {
	const n = 5000
	for _, paper := range []audit.Paper{audit.PaperA4, audit.PaperLetter} {
		t.Run(string(paper), func(t *testing.T) {
			evs := demoEvents(n)
			path := renderPDF(t, demoReport(t, paper), evs)
			pages := pdfPages(t, path)
			if per := float64(n) / float64(pages); per < 25 {
				t.Errorf("%d pages for %d events: %.1f a page, want at least 25", pages, n, per)
			}
			t.Logf("%s: %d pages, %.1f events a page", paper, pages, float64(n)/float64(pages))
			text := pdfText(t, path)
			found := map[string]int{}
			for _, p := range text {
				for _, id := range uuidRE.FindAllString(p, -1) {
					found[id]++
				}
			}
			for i := range evs {
				e := &evs[i]
				if c := found[e.ID]; c != 1 {
					t.Fatalf("event %d: id %s found whole %d times", i, e.ID, c)
				}
				if e.AuditeeID != "" && found[e.AuditeeID] == 0 {
					t.Fatalf("event %d: auditee %s not found whole", i, e.AuditeeID)
				}
				for k, v := range e.Metadata {
					if uuidRE.MatchString(v) && found[v] == 0 {
						t.Fatalf("event %d: metadata %s=%s not found whole", i, k, v)
					}
				}
			}
			if !strings.Contains(text[len(text)-1], fmt.Sprintf("End of report — %s events", "5,000")) {
				t.Errorf("last page lacks the end marker:\n%s", text[len(text)-1])
			}
			if dir := os.Getenv("PDF_SAMPLES"); dir != "" {
				keep(t, path, dir, "demo-"+string(paper), pages)
			}
		})
	}
}

// keep copies the PDF into dir with PNGs of page 1, a middle page and the
// last page.
func keep(t *testing.T, pdf, dir, name string, pages int) {
	t.Helper()
	b, err := os.ReadFile(pdf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".pdf"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []int{1, pages / 2, pages} {
		out, err := exec.Command(needTool(t, "pdftoppm"), "-png", "-r", "110", "-f", fmt.Sprint(p), "-l", fmt.Sprint(p),
			"-singlefile", pdf, filepath.Join(dir, fmt.Sprintf("%s-p%d", name, p))).CombinedOutput()
		if err != nil {
			t.Fatalf("pdftoppm: %v\n%s", err, out)
		}
	}
}

// BenchmarkPDF5000Demo renders 5,000 of the demo's events, the data the
// density target is stated for.
func BenchmarkPDF5000Demo(b *testing.B) {
	evs := demoEvents(5000)
	rep := demoReport(b, audit.PaperA4)
	var size int64
	for b.Loop() {
		cw := &render.Counter{}
		r, err := New(cw, rep, Options{})
		if err != nil {
			b.Fatal(err)
		}
		rendertest.Render(b, r, evs)
		size = cw.N
	}
	b.ReportMetric(float64(size), "pdf-bytes")
}
