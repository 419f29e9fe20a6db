package pdfrender

import (
	"bytes"
	"math"
	"slices"
	"strconv"
	"strings"

	"codeberg.org/go-pdf/fpdf"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/i18n"
)

// Page geometry in millimetres and type sizes in points. The table is set
// small and tight so that a page holds some 30 events of the demo's data
// (most rows take two lines) while staying legible printed: 6.5 pt text,
// ids in 6 pt Go Mono, whose zero and letter O, one and l differ.
const (
	marginX    = 8.0
	marginTop  = 7.0
	footerZone = 9.0 // below the last row: footer and white space
	bodySize   = 6.5
	monoSize   = 6.0
	metaSize   = 6.0
	metaIDSize = 5.8
	lineH      = 2.65 // one line of table text
	padX       = 1.0  // inside a cell, left and right
	padY       = 0.45 // inside a cell, top and bottom
	pairGap    = 2.0  // between two metadata pairs on a line
	alias      = "{nb}"
)

type rgb [3]int

var (
	ink      = rgb{33, 37, 41}
	muted    = rgb{108, 117, 125}
	white    = rgb{255, 255, 255}
	headFill = rgb{44, 62, 80}
	zebra    = rgb{242, 244, 247}
	rule     = rgb{206, 212, 218}
)

// style is a face, a size and a colour.
type style struct {
	face  *face
	size  float64
	color rgb
}

// at returns st at another size.
func (st *style) at(size float64) *style {
	s := *st
	s.size = size
	return &s
}

var (
	stBody  = &style{faceRegular, bodySize, ink}
	stBold  = &style{faceBold, bodySize, ink}
	stMono  = &style{faceMono, monoSize, ink}
	stMuted = &style{faceRegular, bodySize, muted}
	stHead  = &style{faceBold, bodySize, white}
	stLabel = &style{faceRegular, metaSize, muted}
	stMeta  = &style{faceRegular, metaSize, ink}
	stMetaM = &style{faceMono, metaIDSize, ink}

	stTitle     = &style{faceBold, 15, ink}
	stSubtitle  = &style{faceRegular, 10, muted}
	stInfoLabel = &style{faceBold, 7.5, muted}
	stInfo      = &style{faceRegular, 7.5, ink}
	stInfoMono  = &style{faceMono, 7, ink}
	stFooter    = &style{faceRegular, 6.5, muted}
	stEnd       = &style{faceBold, 8, ink}
)

// fontKey is the font fpdf has selected: a face and a size.
type fontKey struct {
	face *face
	size float64
}

type column struct {
	width float64
	align string
	cell  func(e *audit.Event, i int, fl *flow) // fills the column for event i
	head  [2]string                             // header lines
}

// doc is one report being laid out.
type doc struct {
	f       *fpdf.Fpdf
	r       *Renderer
	cat     *i18n.Catalog
	clean   cleaner
	title   string
	cols    []column
	head    [][]line
	pageW   float64
	bottom  float64 // rows end above this y
	atTop   bool    // on a page of the table with no row yet
	font    fontKey // fpdf's current font; zero before the first
	faces   map[*face]bool
	pinned  pins
	pinNote []string
	// cjkRunes are the CJK characters the report draws, which its subset
	// of the CJK face holds (found by doc.columns before anything is
	// drawn).
	cjkRunes map[rune]bool
	// footerLeft is the left part of every page's footer, made once.
	footerLeft string
}

// pins says which fields every event of the report has the same value in
// because the filter allows one value only: those are not repeated in the
// rows.
type pins struct {
	eventType, subType, source, auditee bool
	metadata                            map[string]bool
}

func (r *Renderer) layout() (*fpdf.Fpdf, error) {
	cat := r.cat
	size := "A4"
	if r.paper == "Letter" {
		size = "Letter"
	}
	f := fpdf.New("L", "mm", size, "")
	// The alias must be set before fonts are added: it changes how fpdf
	// subsets them.
	f.AliasNbPages(alias)
	d := &doc{f: f, r: r, cat: cat, title: cat.T("report.title"), faces: map[*face]bool{}}
	for _, fc := range goFaces {
		d.addFace(fc)
	}
	if err := f.Error(); err != nil {
		return nil, err
	}
	pageW, pageH := f.GetPageSize()
	d.pageW, d.bottom = pageW, pageH-footerZone
	f.SetMargins(marginX, marginTop, marginX)
	f.SetCellMargin(padX)
	f.SetAutoPageBreak(false, footerZone) // everything places itself
	f.SetCompression(true)
	// The file's dates are the report's, not the wall clock's, and its
	// catalogues are sorted. (fpdf still writes subsetted font tables in map
	// order, so two renderings need not be byte-identical.)
	f.SetCatalogSort(true)
	if !r.rep.GeneratedAt.IsZero() {
		f.SetCreationDate(r.rep.GeneratedAt)
		f.SetModificationDate(r.rep.GeneratedAt)
	}
	docTitle := d.title
	if r.rep.Name != "" {
		docTitle = printable(r.rep.Name) + " · " + d.title
	}
	f.SetTitle(docTitle, true)
	f.SetSubject(cat.T("report.label_value", cat.T("report.tenant"), r.rep.TenantID), true)
	f.SetAuthor("Audit Sentinel", true)
	f.SetCreator("Audit Sentinel", true)
	f.SetProducer("Audit Sentinel", true)
	f.SetLang(cat.Code())
	f.SetFooterFunc(d.footer)

	d.pin()
	d.columns()
	f.AddPage()
	d.titleBlock()
	if len(r.events) == 0 {
		d.drawFlowAt(marginX, f.GetY(), d.oneLine(cat.T("report.no_events"), stMuted.at(9)), 4.5)
		f.SetY(f.GetY() + 7)
	} else {
		d.table()
	}
	d.endMarker()
	return f, f.Error()
}

// addFace makes fc available to fpdf. fpdf writes into the font bytes it
// is given while subsetting, so concurrent renders (a worker runs several
// exports) must not share the package-level TTF slices: each gets its own
// copy.
func (d *doc) addFace(fc *face) {
	if d.faces[fc] {
		return
	}
	d.faces[fc] = true
	if fc == faceCJK {
		runes := make([]rune, 0, len(d.cjkRunes))
		for r := range d.cjkRunes {
			runes = append(runes, r)
		}
		d.f.AddUTF8FontFromBytes(fc.family, fc.style, cjkFont().subset(runes))
		return
	}
	d.f.AddUTF8FontFromBytes(fc.family, fc.style, bytes.Clone(fc.ttf()))
}

// useFont selects fc at size pt. fpdf writes a font selection into the
// page on every SetFont, even of the font in use, and keeps every page's
// content in memory until Close; the table selects a font for each run it
// draws, and those repeats were half of that content. So a selection that
// would change nothing is skipped.
func (d *doc) useFont(fc *face, pt float64) {
	if k := (fontKey{fc, pt}); k != d.font {
		d.addFace(fc)
		d.f.SetFont(fc.family, fc.style, pt)
		d.font = k
	}
}

// fill makes c the fill colour. PDF paints text in the fill colour, so
// fpdf wraps text of any other colour in a save, the colour and a restore;
// on every line of the table that was a fifth of the page content fpdf
// holds until Close. Text is therefore drawn with the fill colour set to
// the text's (and fpdf's text colour too, see drawSeg). fpdf writes the
// colour on every SetFillColor, so an unchanged one is skipped.
func (d *doc) fill(c rgb) {
	if r, g, b := d.f.GetFillColor(); (rgb{r, g, b}) != c {
		d.f.SetFillColor(c[0], c[1], c[2])
	}
	if r, g, b := d.f.GetTextColor(); (rgb{r, g, b}) != c {
		d.f.SetTextColor(c[0], c[1], c[2])
	}
}

// drawSeg draws s with its top-left at (x, top) in a line of height h,
// each run of it in the face that has its characters.
func (d *doc) drawSeg(s seg, x, top, h float64) {
	base := top + h/2 + 0.33*s.st.size*ptToMM
	d.fill(s.st.color)
	text := s.text
	if !d.inSubset(text) {
		// Not seen by the pass that chose the subset: a bug, but a
		// placeholder rather than a missing glyph.
		text = strings.Map(func(r rune) rune {
			if !goHas(r) && !d.cjkRunes[r] {
				return placeholder
			}
			return r
		}, text)
	}
	for text != "" {
		// The run of text drawn by one face.
		var fc *face
		n := 0
		for i, r := range text {
			rf := faceOf(s.st, r)
			if fc == nil {
				fc = rf
			} else if rf != fc {
				break
			}
			n = i + len(string(r))
		}
		run := text[:n]
		d.useFont(fc, s.st.size)
		d.f.Text(x, base, run)
		x += measure(run, s.st)
		text = text[n:]
	}
}

// inSubset reports whether every character of s is drawn by a Go face or
// is in the report's CJK subset.
func (d *doc) inSubset(s string) bool {
	for _, r := range s {
		if r >= 0x80 && !goHas(r) && !d.cjkRunes[r] {
			return false
		}
	}
	return true
}

// drawFlowAt draws lines from (x, y), one every h.
func (d *doc) drawFlowAt(x, y float64, lines []line, h float64) {
	for j, l := range lines {
		for _, s := range l.segs {
			d.drawSeg(s, x+s.x, y+float64(j)*h, h)
		}
	}
}

// oneLine lays s out as a single line, however long.
func (d *doc) oneLine(s string, st *style) []line {
	fl := newFlow(math.Inf(1))
	fl.text(s, st)
	return fl.done()
}

func (d *doc) footer() {
	// AddPage selects on the new page the font that was in use before the
	// footer, so that is the current one again afterwards.
	defer func(k fontKey) { d.font = k }(d.font)
	f := d.f
	_, pageH := f.GetPageSize()
	y := pageH - 6.5
	// The alias is replaced by the page count when the file is written; it
	// is as wide as a count of up to four digits, so right alignment holds.
	page := d.cat.T("report.page", strconv.Itoa(f.PageNo()), alias)
	w := measure(page, stFooter)
	if d.footerLeft == "" {
		d.footerLeft = d.footerText(d.pageW - 2*marginX - measure(d.cat.T("report.page", "9999", "9999"), stFooter) - 6)
	}
	d.drawFlowAt(marginX, y, d.oneLine(d.footerLeft, stFooter), 4)
	d.drawFlowAt(d.pageW-marginX-w, y, d.oneLine(page, stFooter), 4)
}

// footerText names the report, the tenant and the export in avail
// millimetres; a long schedule name is shortened so that the export id
// always fits (the title block has the name whole).
func (d *doc) footerText(avail float64) string {
	rep := d.r.rep
	rest := d.title + " · " + d.cat.T("report.tenant") + " " + printable(rep.TenantID)
	if rep.ExportID != "" {
		rest += " · " + d.cat.T("report.export_id") + " " + printable(rep.ExportID)
	}
	if rep.Name == "" {
		return rest
	}
	name := []rune(printable(rep.Name))
	room := avail - measure(rest+" · ", stFooter)
	if measure(string(name), stFooter) <= room {
		return string(name) + " · " + rest
	}
	for len(name) > 0 && measure(string(name)+"…", stFooter) > room {
		name = name[:len(name)-1]
	}
	if len(name) == 0 {
		return rest
	}
	return string(name) + "… · " + rest
}

// pin finds the fields the filter fixes to one value.
func (d *doc) pin() {
	fl, cat := d.r.rep.Params.Filter, d.cat
	p := pins{
		eventType: len(fl.EventTypes) == 1,
		subType:   len(fl.SubTypes) == 1,
		source:    len(fl.SystemSources) == 1,
		auditee:   len(fl.AuditeeIDs) == 1,
		metadata:  map[string]bool{},
	}
	add := func(on bool, label string) {
		if on {
			d.pinNote = append(d.pinNote, label)
		}
	}
	add(p.eventType, cat.T("field.event_type"))
	add(p.subType, cat.T("field.sub_type"))
	add(p.source, cat.T("field.system_source"))
	add(p.auditee, cat.T("field.auditee_id"))
	for _, k := range audit.MetadataKeys {
		if len(fl.Metadata[k]) == 1 {
			p.metadata[k] = true
			add(true, cat.T("field.metadata."+k))
		}
	}
	d.pinned = p
}

// titleBlock writes what the report is: its name, the tenant, the filters
// in words, the requested range and the first and last event included,
// the snapshot it reflects, the zone, when it was generated, how many
// events it holds, the export and where its signed manifest is, and how
// many characters could not be drawn.
func (d *doc) titleBlock() {
	f, cat, rep, loc := d.f, d.cat, d.r.rep, d.r.loc
	y := marginTop
	heading := d.title
	if rep.Name != "" {
		heading = d.clean.printable(rep.Name)
	}
	hf := newFlow(d.pageW - 2*marginX)
	hf.text(heading, stTitle)
	hl := hf.done()
	d.drawFlowAt(marginX, y, hl, 7)
	y += 7 * float64(max(1, len(hl)))
	if rep.Name != "" {
		d.drawFlowAt(marginX, y, d.oneLine(d.title, stSubtitle), 5)
		y += 5
	}
	y += 1.5

	type row struct {
		label, value string
		mono         bool
	}
	var rows []row
	add := func(label, value string, mono bool) {
		if value != "" {
			rows = append(rows, row{label, value, mono})
		}
	}
	add(cat.T("report.tenant"), rep.TenantID, false)
	if rep.Name != "" {
		label := cat.T("report.report_name")
		if rep.ScheduleID != "" {
			label = cat.T("report.schedule")
		}
		v := rep.Name
		if rep.ScheduleID != "" {
			v = cat.T("report.name_id", rep.Name, rep.ScheduleID)
		}
		add(label, v, false)
	}
	add(cat.T("report.filters"), d.filtersInWords(), false)
	if len(d.pinNote) > 0 {
		add(cat.T("report.pinned"), cat.T("report.pinned_text", strings.Join(d.pinNote, ", ")), false)
	}
	add(cat.T("report.time_range"), d.timeRange(), false)
	if n := len(d.r.events); n > 0 {
		add(cat.T("report.first_event"), cat.FormatTime(d.r.events[0].OccurredAt, loc), false)
		add(cat.T("report.last_event"), cat.FormatTime(d.r.events[n-1].OccurredAt, loc), false)
	}
	if !rep.AsOf.IsZero() || rep.AsOfPosition != "" {
		v := ""
		switch {
		case !rep.AsOf.IsZero() && rep.AsOfPosition != "":
			v = cat.T("report.as_of_position", cat.FormatTime(rep.AsOf, loc), rep.AsOfPosition)
		case !rep.AsOf.IsZero():
			v = cat.FormatTime(rep.AsOf, loc)
		default:
			v = cat.T("report.position", rep.AsOfPosition)
		}
		add(cat.T("report.as_of"), v, false)
	}
	add(cat.T("report.events"), cat.T("report.event_count", len(d.r.events)), false)
	add(cat.T("report.time_zone"), loc.String(), false)
	add(cat.T("report.generated_at"), cat.FormatTime(rep.GeneratedAt, loc), false)
	if rep.ExportID != "" {
		add(cat.T("report.export_id"), rep.ExportID, true)
		add(cat.T("report.manifest"), "GET /v5/audit-sentinel/exports/"+rep.ExportID+"/manifest", true)
	}
	if n := d.clean.replaced; n > 0 {
		add(cat.T("report.replaced"), cat.T("report.replaced_count", n), false)
	}

	labelW := 0.0
	for _, r := range rows {
		labelW = max(labelW, measure(r.label, stInfoLabel)+3)
	}
	const rowH = 3.5
	valueW := d.pageW - 2*marginX - labelW
	for _, r := range rows {
		d.drawFlowAt(marginX, y, d.oneLine(r.label, stInfoLabel), rowH)
		fl := newFlow(valueW)
		st := stInfo
		if r.mono {
			st = stInfoMono
		}
		fl.text(d.clean.printable(r.value), st)
		lines := fl.done()
		d.drawFlowAt(marginX+labelW, y, lines, rowH)
		y += float64(max(1, len(lines))) * rowH
	}
	y += 2
	f.SetDrawColor(rule[0], rule[1], rule[2])
	f.SetLineWidth(0.3)
	f.Line(marginX, y, d.pageW-marginX, y)
	f.SetY(y + 2.5)
}

// filtersInWords describes the filter, one line per parameter: "Event
// type: assessment or task". Time range is shown on its own.
func (d *doc) filtersInWords() string {
	cat, fl := d.cat, d.r.rep.Params.Filter
	var lines []string
	add := func(label string, vals []string) {
		if len(vals) > 0 {
			lines = append(lines, d.cat.T("report.label_value", label, d.orList(vals)))
		}
	}
	add(cat.T("field.event_type"), fl.EventTypes)
	add(cat.T("field.sub_type"), fl.SubTypes)
	add(cat.T("field.system_source"), fl.SystemSources)
	add(cat.T("field.auditee_id"), fl.AuditeeIDs)
	for _, k := range audit.MetadataKeys {
		add(cat.T("field.metadata."+k), fl.Metadata[k])
	}
	var other []string
	for k := range fl.Metadata {
		if !audit.IsMetadataKey(k) {
			other = append(other, k)
		}
	}
	slices.Sort(other)
	for _, k := range other {
		add(k, fl.Metadata[k])
	}
	if len(lines) == 0 {
		return cat.T("report.filters.none")
	}
	return strings.Join(lines, "\n")
}

// orList joins values as "a, b or c".
func (d *doc) orList(vals []string) string {
	if len(vals) == 1 {
		return vals[0]
	}
	return strings.Join(vals[:len(vals)-1], ", ") + " " + d.cat.T("report.or") + " " + vals[len(vals)-1]
}

func (d *doc) timeRange() string {
	cat, fl, loc := d.cat, d.r.rep.Params.Filter, d.r.loc
	switch {
	case fl.RangeStart != nil && fl.RangeEnd != nil:
		return cat.T("report.range.between", cat.FormatTime(*fl.RangeStart, loc), cat.FormatTime(*fl.RangeEnd, loc))
	case fl.RangeStart != nil:
		return cat.T("report.range.since", cat.FormatTime(*fl.RangeStart, loc))
	case fl.RangeEnd != nil:
		return cat.T("report.range.until", cat.FormatTime(*fl.RangeEnd, loc))
	}
	return cat.T("report.range.all_time")
}
