package pdfrender

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/render"
	"github.com/auditsentinel/sentinel/internal/render/rendertest"
)

// needTool fails the test (never skips it) when a poppler tool is missing:
// without a real reader the PDF is unchecked.
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found: the PDF tests read PDFs back with poppler-utils; "+
			"install it (apt-get install -y poppler-utils; make test does so): %v", name, err)
	}
	return p
}

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func ptr(t time.Time) *time.Time { return &t }

func baseReport(locale string, loc *time.Location) render.Report {
	return render.Report{
		ExportID: "exp_01HZX", TenantID: "acme-corp",
		Params: audit.ExportParams{FileType: audit.FilePDF, Locale: locale, Timezone: loc.String(),
			Filter: audit.Filter{
				EventTypes: []string{"assessment", "task"},
				Metadata:   map[string][]string{"entity_id": {"497f6eca-6276-4993-bfeb-53cbbbba6f08"}},
				RangeStart: ptr(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)),
				RangeEnd:   ptr(time.Date(2026, 4, 10, 23, 59, 59, 0, time.UTC)),
			}},
		Location:    loc,
		GeneratedAt: time.Date(2026, 4, 11, 9, 30, 0, 0, time.UTC),
		EventCount:  -1,
	}
}

// renderPDF renders events into a PDF in a temp dir and returns its path.
func renderPDF(t testing.TB, rep render.Report, events []audit.Event) string {
	t.Helper()
	var buf bytes.Buffer
	r, err := New(&buf, rep, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rendertest.Render(t, r, events)
	path := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// pdfText returns the text of each page, read by pdftotext -layout.
func pdfText(t testing.TB, path string) []string {
	t.Helper()
	out, err := exec.Command(needTool(t, "pdftotext"), "-layout", "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	// Readers differ on whether a no-break space (fr digit groups and
	// colons) comes out as U+00A0 or a space; compare with spaces.
	pages := strings.Split(strings.ReplaceAll(string(out), "\u00a0", " "), "\f")
	if n := len(pages); n > 0 && strings.TrimSpace(pages[n-1]) == "" {
		pages = pages[:n-1]
	}
	return pages
}

// pdfPages returns the page count pdfinfo reports.
func pdfPages(t testing.TB, path string) int {
	t.Helper()
	out, err := exec.Command(needTool(t, "pdfinfo"), path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("pdfinfo gave no page count:\n%s", out)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

func pdfInfo(t testing.TB, path string) string {
	t.Helper()
	out, err := exec.Command(needTool(t, "pdfinfo"), path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v\n%s", err, out)
	}
	return string(out)
}

// toPNG renders page 1 at 60 dpi into dir and returns the file.
func toPNG(t testing.TB, pdf, dir string) string {
	t.Helper()
	prefix := filepath.Join(dir, "page")
	out, err := exec.Command(needTool(t, "pdftoppm"), "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", pdf, prefix).CombinedOutput()
	if err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	return prefix + ".png"
}

func events(n int, start time.Time, step time.Duration) []audit.Event {
	out := make([]audit.Event, n)
	types := []string{"assessment", "task", "screening", "workflow"}
	subs := []string{"created", "updated", "approved", "deleted"}
	for i := range out {
		out[i] = audit.Event{
			ID:           fmt.Sprintf("evt-%05d-3f2a9c", i),
			OccurredAt:   start.Add(time.Duration(i) * step),
			EventType:    types[i%len(types)],
			SubType:      subs[i/2%len(subs)],
			SystemSource: "assessment_service",
			AuditeeID:    fmt.Sprintf("user_%03d", i%17),
			Description:  fmt.Sprintf("Status changed from draft to submitted for review (step %d).", i),
			Metadata: map[string]string{
				"entity_id":     "497f6eca-6276-4993-bfeb-53cbbbba6f08",
				"assessment_id": fmt.Sprintf("asm_%d", 1000+i),
			},
		}
		if i%5 == 0 {
			out[i].AuditeeID = ""
			out[i].Metadata["ip_address"] = "10.1.2.3"
		}
	}
	return out
}

// TestSample renders the sample report, converts page 1 to PNG (kept in
// testdata when UPDATE_SAMPLES=1) for a person to look at.
func TestSample(t *testing.T) {
	path := renderPDF(t, sampleReport(t), sampleEvents())
	png := toPNG(t, path, t.TempDir())
	if st, err := os.Stat(png); err != nil || st.Size() == 0 {
		t.Fatalf("no PNG: %v", err)
	}
	if os.Getenv("UPDATE_SAMPLES") == "1" {
		b, err := os.ReadFile(png)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", "sample-page1.png"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func sampleReport(t testing.TB) render.Report {
	return baseReport("en", mustLoc(t, "America/New_York"))
}

func sampleEvents() []audit.Event {
	evs := events(60, time.Date(2026, 3, 7, 20, 0, 0, 0, time.UTC), 17*time.Minute)
	uuids := []string{"0190f4c2-7b1e-7c3a-9f10-4be2d1a0c001", "0190f4c2-7b1e-7c3a-9f10-4be2d1a0c002"}
	evs[0].ID, evs[1].ID = uuids[0], uuids[1]
	evs[1].AuditeeID = "5d8e9a4b-1f2c-4e7d-8a9b-0c1d2e3f4a5b"
	evs[3].Description = strings.Repeat("A long description that must wrap inside its column and never be cut. ", 12)
	evs[4].Description = "Ελληνικά: Καλημέρα κόσμε — Русский: Привет, мир — Ünïcödé ç ñ ø ß"
	evs[2].Metadata["workflow_step"] = "four_eyes_review"
	evs[2].Metadata["tag"] = "=HYPERLINK(\"x\")"
	return evs
}

var idRE = regexp.MustCompile(`evt-\d{5}-3f2a9c`)

// TestEventsAndPages checks, through a real PDF reader, that every event is
// there exactly once and in order, that each page has the header row and a
// correct "page X of Y" footer, and that pdfinfo agrees on the page count.
func TestEventsAndPages(t *testing.T) {
	const n = 400
	evs := events(n, time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), time.Minute)
	path := renderPDF(t, baseReport("en", time.UTC), evs)
	pages := pdfText(t, path)
	if got := pdfPages(t, path); got != len(pages) || got < 5 {
		t.Fatalf("pdfinfo says %d pages, pdftotext found %d", got, len(pages))
	}
	var ids []string
	for i, p := range pages {
		for _, h := range []string{"No.", "Occurred at", "Event ID", "System source", "Auditee ID", "Description", "Metadata"} {
			if !strings.Contains(p, h) {
				t.Errorf("page %d has no header %q", i+1, h)
			}
		}
		if want := fmt.Sprintf("Page %d of %d", i+1, len(pages)); !strings.Contains(p, want) {
			t.Errorf("page %d has no footer %q", i+1, want)
		}
		if !strings.Contains(p, "Audit event report · Tenant acme-corp · Export ID exp_01HZX") {
			t.Errorf("page %d footer does not name the report", i+1)
		}
		ids = append(ids, idRE.FindAllString(p, -1)...)
	}
	if len(ids) != n {
		t.Fatalf("found %d event ids, want %d", len(ids), n)
	}
	for i, id := range ids {
		if id != evs[i].ID {
			t.Fatalf("event %d is %s, want %s (out of order or repeated)", i, id, evs[i].ID)
		}
	}
	if info := pdfInfo(t, path); !strings.Contains(info, "(A4)") || !strings.Contains(info, "841.89 x 595.28") {
		t.Errorf("not landscape A4:\n%s", info)
	}
}

func TestTitleBlock(t *testing.T) {
	rep := baseReport("en", mustLoc(t, "America/New_York"))
	rep.Params.Filter.SubTypes = []string{"created", "deleted", "updated"}
	rep.Params.Filter.AuditeeIDs = []string{"user_1"}
	rep.Params.Filter.SystemSources = []string{"task_platform"}
	rep.Params.Filter.Metadata["workflow_step"] = []string{"review"}
	page1 := pdfText(t, renderPDF(t, rep, events(3, time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC), time.Hour)))[0]
	for _, want := range []string{
		"Audit event report",
		"Tenant", "acme-corp",
		"Export ID", "exp_01HZX",
		"Filters", "Event type: assessment or task",
		"Sub type: created, deleted or updated",
		"System source: task_platform",
		"Auditee ID: user_1",
		"Entity ID: 497f6eca-6276-4993-bfeb-53cbbbba6f08",
		"Workflow step: review",
		"Time range", "From 28 Feb 2026, 19:00:00 EST to 10 Apr 2026, 19:59:59 EDT",
		"Time zone", "America/New_York",
		"Generated at", "11 Apr 2026, 05:30:00 EDT",
		"Events", "3 events",
		"1 Apr 2026", "08:00:00 EDT",
	} {
		if !strings.Contains(page1, want) {
			t.Errorf("page 1 lacks %q:\n%s", want, page1)
		}
	}
}

func TestTitleBlockNoFilters(t *testing.T) {
	tests := []struct {
		name       string
		start, end *time.Time
		want       string
	}{
		{"all time", nil, nil, "All time"},
		{"since", ptr(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), nil, "Since 2 Jan 2026, 03:04:05 UTC"},
		{"until", nil, ptr(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), "Until 2 Jan 2026, 03:04:05 UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := baseReport("en", time.UTC)
			rep.Params.Filter = audit.Filter{RangeStart: tt.start, RangeEnd: tt.end}
			rep.Params.Timezone = ""
			rep.ExportID = ""
			page1 := pdfText(t, renderPDF(t, rep, events(1, time.Unix(0, 0), 0)))[0]
			for _, want := range []string{"All events (no filters applied)", tt.want, "Time zone", "UTC", "1 event"} {
				if !strings.Contains(page1, want) {
					t.Errorf("lacks %q:\n%s", want, page1)
				}
			}
			if strings.Contains(page1, "Export ID") {
				t.Error("an empty export id is still labelled")
			}
		})
	}
}

func TestNoEvents(t *testing.T) {
	path := renderPDF(t, baseReport("en", time.UTC), nil)
	pages := pdfText(t, path)
	if len(pages) != 1 {
		t.Fatalf("%d pages", len(pages))
	}
	for _, want := range []string{"0 events", "No events match the filters.", "Page 1 of 1"} {
		if !strings.Contains(pages[0], want) {
			t.Errorf("lacks %q:\n%s", want, pages[0])
		}
	}
}

func TestLocales(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	tests := []struct {
		locale string
		n      int
		want   []string
	}{
		{"de", 1234, []string{
			"Bericht über Audit-Ereignisse", "Mandant", "Filter", "Ereignistyp: assessment oder task",
			"Entitäts-ID: 497f6eca-6276-4993-bfeb-53cbbbba6f08", "Zeitraum", "Vom 1. März 2026, 01:00:00 CET bis 11. Apr. 2026, 01:59:59 CEST",
			"Zeitzone", "Europe/Berlin", "Erstellt am", "11. Apr. 2026, 11:30:00 CEST", "1.234 Ereignisse",
			"Zeitpunkt", "Ereignis-ID", "Beschreibung", "Metadaten", "Seite 1 von ", "Nr.", "1.234",
		}},
		{"fr", 3, []string{
			"Rapport des événements d’audit", "Locataire", "Filtres", "Type d’événement : assessment ou task",
			"Période", "Du 1 mars 2026, 01:00:00 CET au 11 avr. 2026, 01:59:59 CEST", "Fuseau horaire",
			"Généré le", "3 événements", "Page 1 sur 1", "Métadonnées", "Système",
		}},
		{"es", 1, []string{"Informe de eventos de auditoría", "1 evento", "Página 1 de 1", "Del 1 mar 2026"}},
		{"pt", 2, []string{"Relatório de eventos de auditoria", "2 eventos", "Página 1 de 1", "De 1 de mar. de 2026"}},
		{"it", 2, []string{"Report degli eventi di audit", "2 eventi", "Pagina 1 di 1", "Dal 1 mar 2026"}},
		{"nl", 2, []string{"Rapport van auditgebeurtenissen", "2 gebeurtenissen", "Pagina 1 van 1", "Van 1 mrt 2026"}},
	}
	for _, tt := range tests {
		t.Run(tt.locale, func(t *testing.T) {
			rep := baseReport(tt.locale, berlin)
			pages := pdfText(t, renderPDF(t, rep, events(tt.n, time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), time.Second)))
			all := strings.Join(pages, "\n")
			for _, want := range tt.want {
				if !strings.Contains(all, want) {
					t.Errorf("lacks %q:\n%s", want, pages[0])
				}
			}
			for _, leak := range []string{"report.", "field.", "%!", "{nb}"} {
				if strings.Contains(all, leak) {
					t.Errorf("text contains %q: a catalogue key or format error leaked", leak)
				}
			}
		})
	}
}

func TestTimeZonesAcrossDST(t *testing.T) {
	tests := []struct {
		locale, zone string
		at           []time.Time
		want         []string
	}{
		{"en", "America/New_York",
			[]time.Time{time.Date(2026, 3, 8, 6, 59, 59, 0, time.UTC), time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC)},
			[]string{"8 Mar 2026", "01:59:59 EST", "03:00:00 EDT"}},
		{"de", "Europe/Berlin",
			[]time.Time{time.Date(2026, 3, 29, 0, 59, 59, 0, time.UTC), time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)},
			[]string{"29. März 2026", "01:59:59 CET", "03:00:00 CEST"}},
		{"en", "Asia/Kolkata",
			[]time.Time{time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)},
			[]string{"29 Mar 2026", "05:30:00 IST"}},
		{"en", "Asia/Dubai",
			[]time.Time{time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)},
			[]string{"04:00:00 UTC+04"}},
	}
	for _, tt := range tests {
		t.Run(tt.zone, func(t *testing.T) {
			evs := events(len(tt.at), time.Unix(0, 0), 0)
			for i := range evs {
				evs[i].OccurredAt = tt.at[i]
			}
			page := pdfText(t, renderPDF(t, baseReport(tt.locale, mustLoc(t, tt.zone)), evs))[0]
			for _, want := range tt.want {
				if !strings.Contains(page, want) {
					t.Errorf("lacks %q:\n%s", want, page)
				}
			}
		})
	}
}

func TestScripts(t *testing.T) {
	evs := events(3, time.Unix(0, 0), time.Second)
	evs[0].Description = "Ελληνικά: Καλημέρα κόσμε, ΑΒΓΔ αβγδ ωψ"
	evs[1].Description = "Русский: Съешь же ещё этих булок"
	evs[1].AuditeeID = "пользователь_7"
	evs[2].Description = "Ünïcödé çàéîõ ñ ø ß Ł ő — e\u0301 composed; 中文 🙂 have no glyph"
	evs[2].Metadata["ключ"] = "значение"
	page := pdfText(t, renderPDF(t, baseReport("en", time.UTC), evs))[0]
	for _, want := range []string{
		"Ελληνικά: Καλημέρα κόσμε, ΑΒΓΔ αβγδ ωψ",
		"Русский: Съешь же ещё этих булок",
		"пользователь_7",
		"Ünïcödé çàéîõ ñ ø ß Ł ő — é composed;",
		"\uFFFD\uFFFD \uFFFD have",
		"ключ: значение",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("lacks %q:\n%s", want, page)
		}
	}
}

var wordRE = regexp.MustCompile(`w(\d{5})x`)

// TestLongDescription: a description of thousands of words is wrapped and
// entirely present, in order; one taller than a page continues on the next.
func TestLongDescription(t *testing.T) {
	for _, words := range []int{200, 4000} {
		t.Run(strconv.Itoa(words), func(t *testing.T) {
			var b strings.Builder
			for i := range words {
				fmt.Fprintf(&b, "w%05dx ", i)
			}
			evs := events(4, time.Unix(0, 0), time.Second)
			evs[1].Description = b.String()
			pages := pdfText(t, renderPDF(t, baseReport("en", time.UTC), evs))
			var got []string
			for _, p := range pages {
				for _, m := range wordRE.FindAllStringSubmatch(p, -1) {
					got = append(got, m[1])
				}
			}
			if len(got) != words {
				t.Fatalf("found %d of %d words", len(got), words)
			}
			for i, w := range got {
				if w != fmt.Sprintf("%05d", i) {
					t.Fatalf("word %d is w%sx", i, w)
				}
			}
			all := strings.Join(pages, "")
			if tall := words > 1000; tall != strings.Contains(all, "(continued)") {
				t.Errorf("continued marker present = %v for %d words", !tall, words)
			}
			if ids := idRE.FindAllString(all, -1); len(ids) != 4 {
				t.Errorf("ids %v", ids)
			}
		})
	}
}

// TestRowsNotSplit: a row that fits on a page is never cut by a page break:
// its id and all of its description are on the same page.
func TestRowsNotSplit(t *testing.T) {
	evs := events(120, time.Unix(0, 0), time.Second)
	for i := range evs {
		var b strings.Builder
		for j := range 20 + i%7*25 {
			fmt.Fprintf(&b, "r%03dw%03d ", i, j)
		}
		evs[i].Description = b.String()
	}
	pages := pdfText(t, renderPDF(t, baseReport("en", time.UTC), evs))
	if len(pages) < 5 {
		t.Fatalf("only %d pages", len(pages))
	}
	for i := range evs {
		var on []int
		for p, text := range pages {
			if strings.Contains(text, evs[i].ID) {
				on = append(on, p)
			}
		}
		if len(on) != 1 {
			t.Fatalf("event %d on pages %v", i, on)
		}
		text := pages[on[0]]
		want := 20 + i%7*25
		if got := len(regexp.MustCompile(fmt.Sprintf(`r%03dw\d{3}`, i)).FindAllString(text, -1)); got != want {
			t.Errorf("event %d: %d of %d description words on its page", i, got, want)
		}
	}
}

func TestUUIDsWrapAtHyphens(t *testing.T) {
	evs := events(1, time.Unix(0, 0), 0)
	evs[0].ID = "0190f4c2-7b1e-7c3a-9f10-4be2d1a0c001"
	evs[0].AuditeeID = "5d8e9a4b-1f2c-4e7d-8a9b-0c1d2e3f4a5b"
	page := pdfText(t, renderPDF(t, baseReport("en", time.UTC), evs))[0]
	for _, want := range []string{"0190f4c2-7b1e-7c3a-", "9f10-4be2d1a0c001", "5d8e9a4b-"} {
		if !strings.Contains(page, want) {
			t.Errorf("lacks %q:\n%s", want, page)
		}
	}
}

func TestLetter(t *testing.T) {
	var buf bytes.Buffer
	r, err := New(&buf, baseReport("en", time.UTC), Options{})
	if err != nil {
		t.Fatal(err)
	}
	r.paper = "Letter" // no locale prints on Letter yet
	evs := events(200, time.Unix(0, 0), time.Second)
	rendertest.Render(t, r, evs)
	path := filepath.Join(t.TempDir(), "letter.pdf")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if info := pdfInfo(t, path); !strings.Contains(info, "792 x 612 pts (letter)") {
		t.Errorf("not landscape Letter:\n%s", info)
	}
	if ids := idRE.FindAllString(strings.Join(pdfText(t, path), ""), -1); len(ids) != len(evs) {
		t.Errorf("%d ids of %d", len(ids), len(evs))
	}
}

func TestCap(t *testing.T) {
	r, err := New(new(bytes.Buffer), baseReport("en", time.UTC), Options{MaxEvents: 3})
	if err != nil {
		t.Fatal(err)
	}
	evs := events(4, time.Unix(0, 0), time.Second)
	for i := range 3 {
		if err := r.WriteEvent(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	err = r.WriteEvent(&evs[3])
	if audit.ErrorCode(err) != audit.EINVALID || !strings.Contains(audit.ErrorMessage(err), "at most 3 events") {
		t.Fatalf("4th event: %v", err)
	}
	r2, _ := New(new(bytes.Buffer), baseReport("en", time.UTC), Options{})
	if r2.max != DefaultMaxEvents {
		t.Errorf("default cap %d", r2.max)
	}
}

func TestUnsupportedLocale(t *testing.T) {
	_, err := New(new(bytes.Buffer), baseReport("xx", time.UTC), Options{})
	if audit.ErrorCode(err) != audit.EINVALID {
		t.Fatalf("err = %v", err)
	}
}

// The renderer must not keep the caller's event or map: stores reuse them.
func TestCopiesEvents(t *testing.T) {
	var buf bytes.Buffer
	r, _ := New(&buf, baseReport("en", time.UTC), Options{})
	ev := events(1, time.Unix(0, 0), 0)[0]
	if err := r.WriteEvent(&ev); err != nil {
		t.Fatal(err)
	}
	ev.ID = "evt-99999-3f2a9c"
	ev.Metadata["entity_id"] = "changed"
	if r.events[0].ID == ev.ID || r.events[0].Metadata["entity_id"] == "changed" {
		t.Fatal("renderer aliases the caller's event")
	}
}

// Two renderings of one report read the same. (The bytes may differ: fpdf
// writes the subsetted font tables in map order.)
func TestRepeatable(t *testing.T) {
	a := pdfText(t, renderPDF(t, sampleReport(t), sampleEvents()))
	b := pdfText(t, renderPDF(t, sampleReport(t), sampleEvents()))
	if strings.Join(a, "\f") != strings.Join(b, "\f") {
		t.Fatal("two renderings of the same report read differently")
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain ascii", "plain ascii"},
		{"tab\there", "tab here"},
		{"crlf\r\nlf\ncr\rend", "crlf\nlf\ncr\nend"},
		{"ctl\x00\x07\x1b[0m", "ctl[0m"},
		{"zero\u200bwidth\ufeff", "zerowidth"},
		{"e\u0301", "é"},
		{"中🙂", "\uFFFD\uFFFD"},
		{"1\u202f234", "1\u00a0234"},
		{"Ωмé", "Ωмé"},
	}
	for _, tt := range tests {
		if got := printable(tt.in); got != tt.want {
			t.Errorf("printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if !drawable('\uFFFD') || !drawable('Ж') || !drawable('Ω') || drawable('中') || drawable(0x1F642) {
		t.Error("font coverage is not what the package relies on")
	}
}

// BenchmarkPDF5000 renders a report at the cap: 5,000 events.
func BenchmarkPDF5000(b *testing.B) {
	evs := events(5000, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Minute)
	rep := baseReport("en", mustLoc(b, "America/New_York"))
	var size int64
	b.ReportAllocs()
	for b.Loop() {
		r, err := New(io.Discard, rep, Options{})
		if err != nil {
			b.Fatal(err)
		}
		cw := &render.Counter{}
		r.w = cw
		rendertest.Render(b, r, evs)
		size = cw.N
	}
	b.ReportMetric(float64(size), "pdf-bytes")
}
