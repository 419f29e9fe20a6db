package pdfrender

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// squash removes the spaces pdftotext -layout puts between columns and
// words, so text can be compared whatever the line breaks.
func squash(s string) string {
	return strings.Join(strings.Fields(s), "")
}

// TestScriptRoundTrip: text in Chinese, Japanese, Korean, Greek, Cyrillic
// and a mix of them comes back from pdftotext as it went in, in the
// description, the auditee and metadata, and in the report's name; no
// character is counted as replaced.
func TestScriptRoundTrip(t *testing.T) {
	texts := []string{
		"佐藤 花子 created assessment 3f2a9c for 株式会社サクラ商事",                // Japanese: kanji, kana
		"李娜 批准了客户尽职调查报告，风险等级为中等。",                                      // Chinese, with CJK punctuation
		"김민준 님이 평가를 승인했습니다 (위험도: 보통)",                                  // Korean
		"Ελένη Παπαδοπούλου ενέκρινε την αξιολόγηση",                   // Greek
		"Дмитрий Иванов одобрил проверку документов",                   // Cyrillic
		"Zoë Müller → 佐藤 花子, Дмитрий, Ελένη, 김민준: ÅÆØ ß ŁŚŻ 12,5 € 中文", // all at once
	}
	evs := events(len(texts), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), time.Minute)
	for i, s := range texts {
		evs[i].Description = s
	}
	evs[0].AuditeeID = "山田太郎"
	evs[1].Metadata["tag"] = "高风险客户"
	evs[2].Metadata["reviewer"] = "이서연"
	rep := baseReport("en", time.UTC)
	rep.Name = "週次監査レポート"
	path := renderPDF(t, rep, evs)
	if dir := os.Getenv("PDF_SAMPLES"); dir != "" {
		keep(t, path, dir, "scripts", 1)
	}
	pages := pdfText(t, path)
	all := squash(strings.Join(pages, "\n"))
	for _, want := range append(texts, "山田太郎", "高风险客户", "이서연", "週次監査レポート") {
		if !strings.Contains(all, squash(want)) {
			t.Errorf("pdftotext lacks %q", want)
		}
	}
	if strings.ContainsRune(all, '\uFFFD') || strings.Contains(all, "Characters not drawn") {
		t.Errorf("a character was replaced:\n%s", pages[0])
	}
}

// TestPlaceholders: characters no embedded face has (Arabic and Devanagari,
// which need shaping, and emoji) are each shown as U+FFFD, never dropped
// or garbled, and the title block says how many there were.
func TestPlaceholders(t *testing.T) {
	evs := events(3, time.Unix(0, 0), time.Second)
	evs[0].Description = "Arabic مرحبا end"      // 5 letters
	evs[1].Description = "Devanagari नमस्ते end" // 6 code points
	evs[2].Metadata["note"] = "ok 🙂"             // 1, in metadata
	pages := pdfText(t, renderPDF(t, baseReport("en", time.UTC), evs))
	all := strings.Join(pages, "\n")
	for _, want := range []string{
		"Arabic \uFFFD\uFFFD\uFFFD\uFFFD\uFFFD end",
		"Devanagari \uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD end",
		"ok \uFFFD",
		"Characters not drawn", "12 characters could not be drawn and are shown as \uFFFD",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("lacks %q:\n%s", want, pages[0])
		}
	}
	// In another locale, and with one character.
	evs = events(1, time.Unix(0, 0), 0)
	evs[0].Description = "ا"
	page := pdfText(t, renderPDF(t, baseReport("de", time.UTC), evs))[0]
	if !strings.Contains(page, "1 Zeichen konnte nicht dargestellt werden") {
		t.Errorf("de, one character:\n%s", page)
	}
}

// TestTitleBlockIdentity: the schedule's name and id, the first and last
// event included (not just the requested range), the snapshot, the export
// id and where its signed manifest is, the fields the filter pins; the
// end marker after the last row and the footer on every page.
func TestTitleBlockIdentity(t *testing.T) {
	rep := baseReport("en", time.UTC)
	rep.Name = "Weekly KYC review"
	rep.ScheduleID = "sch_01J0ABC"
	rep.AsOf = time.Date(2026, 4, 11, 9, 0, 0, 0, time.UTC)
	rep.AsOfPosition = "184467"
	rep.Params.Filter.SystemSources = []string{"assessment_service"}
	evs := events(300, time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC), 7*time.Minute)
	pages := pdfText(t, renderPDF(t, rep, evs))
	page1 := pages[0]
	for _, want := range []string{
		"Weekly KYC review", "Audit event report",
		"Schedule", "Weekly KYC review (sch_01J0ABC)",
		"Tenant", "acme-corp",
		"Filters", "Event type: assessment or task", "System source: assessment_service",
		"Entity ID: 497f6eca-6276-4993-bfeb-53cbbbba6f08",
		"Not in the rows", "System source, Entity ID: the same in every event (fixed by the filters)",
		"Time range", "From 1 Mar 2026, 00:00:00 UTC to 10 Apr 2026, 23:59:59 UTC",
		"First event", "1 Apr 2026, 08:00:00 UTC",
		"Last event", "2 Apr 2026, 18:53:00 UTC",
		"As of", "11 Apr 2026, 09:00:00 UTC, ingest position 184467",
		"Events", "300 events",
		"Export ID", "exp_01HZX",
		"Signed manifest", "GET /v5/audit-sentinel/exports/exp_01HZX/manifest",
	} {
		if !strings.Contains(page1, want) {
			t.Errorf("title block lacks %q:\n%s", want, page1)
		}
	}
	// The pinned values are not repeated in the rows.
	_, rows, ok := strings.Cut(strings.Join(pages, "\n"), "Occurred at")
	if !ok {
		t.Fatal("no table header")
	}
	if strings.Contains(rows, "assessment_service") || strings.Contains(rows, "497f6eca") {
		t.Errorf("a pinned field is repeated in the rows")
	}
	for i, p := range pages {
		if want := fmt.Sprintf("Page %d of %d", i+1, len(pages)); !strings.Contains(p, want) {
			t.Errorf("page %d lacks %q", i+1, want)
		}
		if !strings.Contains(p, "Export ID exp_01HZX") || !strings.Contains(p, "Weekly KYC review · Audit event report") {
			t.Errorf("page %d footer does not name the report and export:\n%s", i+1, p)
		}
		if end := strings.Contains(p, "End of report — 300 events"); end != (i == len(pages)-1) {
			t.Errorf("page %d of %d: end marker present = %v", i+1, len(pages), end)
		}
	}
	last := pages[len(pages)-1]
	if strings.Index(last, "End of report") < strings.Index(last, "evt-00299-3f2a9c") {
		t.Error("the end marker is not after the last event")
	}

	// A report without a snapshot, a name or an export id says nothing of
	// them.
	rep = baseReport("en", time.UTC)
	rep.ExportID = ""
	page1 = pdfText(t, renderPDF(t, rep, events(2, time.Unix(0, 0), time.Second)))[0]
	for _, absent := range []string{"As of", "Schedule", "Signed manifest", "Export ID"} {
		if strings.Contains(page1, absent) {
			t.Errorf("shows %q though the report has none:\n%s", absent, page1)
		}
	}
}

// TestPinnedColumns: when the filter pins the event type, sub type and
// source, their column is left out; a pinned auditee leaves the second
// line of the id column out.
func TestPinnedColumns(t *testing.T) {
	rep := baseReport("en", time.UTC)
	rep.Params.Filter.EventTypes = []string{"assessment"}
	rep.Params.Filter.SubTypes = []string{"created"}
	rep.Params.Filter.SystemSources = []string{"assessment_service"}
	rep.Params.Filter.AuditeeIDs = []string{"user_001"}
	evs := events(4, time.Unix(0, 0), time.Second)
	for i := range evs {
		evs[i].EventType, evs[i].SubType, evs[i].AuditeeID = "assessment", "created", "user_001"
	}
	page := pdfText(t, renderPDF(t, rep, evs))[0]
	_, table, ok := strings.Cut(page, "Occurred at")
	if !ok {
		t.Fatalf("no table header:\n%s", page)
	}
	for _, absent := range []string{"System source", "Auditee ID", "Sub type", "user_001", "assessment_service"} {
		if strings.Contains(table, absent) {
			t.Errorf("table shows pinned %q:\n%s", absent, table)
		}
	}
	if !strings.Contains(page, "Event type, Sub type, System source, Auditee ID, Entity ID: the same in every event") {
		t.Errorf("title block does not say what is left out:\n%s", page)
	}
}

// TestIDsWhole: ids are never broken across lines, whatever their length
// up to what fits the id column at the smallest id size; a UUID is set at
// full size.
func TestIDsWhole(t *testing.T) {
	evs := events(4, time.Unix(0, 0), time.Second)
	ids := []string{
		"0190f4c2-7b1e-7c3a-9f10-4be2d1a0c001",
		"evt_2026-04-10_assessment-service_0190f4c2-7b1e",         // 47: shrunk
		"urn:sentinel:event:0190f4c2-7b1e-7c3a-9f10-4be2d1a0c003", // 55
		"e4",
	}
	for i := range evs {
		evs[i].ID = ids[i]
		evs[i].AuditeeID = "5d8e9a4b-1f2c-4e7d-8a9b-0c1d2e3f4a5" + fmt.Sprint(i)
		evs[i].Metadata["workflow_instance_id"] = "a967396b-b128-4afe-9359-5d64543c3c7" + fmt.Sprint(i)
	}
	page := pdfText(t, renderPDF(t, baseReport("en", time.UTC), evs))[0]
	for i := range evs {
		for _, id := range []string{evs[i].ID, evs[i].AuditeeID, evs[i].Metadata["workflow_instance_id"]} {
			if !strings.Contains(page, id) {
				t.Errorf("id %q is not whole on one line:\n%s", id, page)
			}
		}
	}
}

// TestCJKSubset: the font cut for a report maps each of its characters to
// a glyph with the original's advance, and nothing else; it is a small
// fraction of the face.
func TestCJKSubset(t *testing.T) {
	full := cjkFont()
	runes := []rune("佐藤花子李娜한국어テスト、。")
	b := full.subset(runes)
	if len(b) > 20_000 {
		t.Errorf("subset of %d characters is %d bytes", len(runes), len(b))
	}
	sub, err := parseTTF(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runes {
		g := sub.gid[r]
		if g == 0 {
			t.Errorf("%c is not in the subset", r)
			continue
		}
		if got, want := sub.advance(int(g)), full.advance(int(full.gid[r])); got != want {
			t.Errorf("%c: advance %d, want %d", r, got, want)
		}
		if got, want := len(sub.glyph(int(g))), len(full.glyph(int(full.gid[r]))); got < want {
			t.Errorf("%c: outline of %d bytes, want %d", r, got, want)
		}
	}
	// Composite glyphs (the Hangul syllables are built of jamo) bring
	// their components along, renumbered.
	if sub.gid['中'] != 0 || sub.numGlyphs < len(runes)+1 || sub.numGlyphs > 4*len(runes) {
		t.Errorf("subset has %d glyphs for %d characters (and .notdef)", sub.numGlyphs, len(runes))
	}
	composites := 0
	for g := range sub.numGlyphs {
		components(sub.glyph(g), func(off int) {
			composites++
			if c := be16(sub.glyph(g), off); c <= 0 || c >= sub.numGlyphs {
				t.Errorf("glyph %d has component %d, not in the subset", g, c)
			}
		})
	}
	if composites == 0 {
		t.Error("no composite glyph: the renumbering is untested")
	}
}

// TestLongName: a schedule name of the longest allowed length wraps in the
// title block and is shortened in the footer, which keeps the export id
// and the page number.
func TestLongName(t *testing.T) {
	rep := baseReport("en", time.UTC)
	rep.Name = strings.Repeat("Quarterly review of onboarding decisions ", 5) // 205 characters
	rep.ScheduleID = "sch_1"
	pages := pdfText(t, renderPDF(t, rep, events(80, time.Unix(0, 0), time.Second)))
	if !strings.Contains(squash(pages[0]), squash(rep.Name)) {
		t.Errorf("title block lacks the whole name:\n%s", pages[0])
	}
	for i, p := range pages {
		if !strings.Contains(p, "… · Audit event report · Tenant acme-corp · Export ID exp_01HZX") ||
			!strings.Contains(p, fmt.Sprintf("Page %d of %d", i+1, len(pages))) {
			t.Errorf("page %d footer:\n%s", i+1, p)
		}
	}
}
