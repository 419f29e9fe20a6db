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

// Page geometry in millimetres and type sizes in points.
const (
	marginX    = 10.0
	marginTop  = 10.0
	footerZone = 14.0 // below the last row: footer and white space
	bodySize   = 7.5
	monoSize   = 6.5
	lineH      = 3.3 // one line of table text
	padX       = 1.2 // inside a cell, left and right
	padY       = 1.0 // inside a cell, top and bottom
	alias      = "{nb}"
)

type rgb [3]int

var (
	ink      = rgb{33, 37, 41}
	muted    = rgb{108, 117, 125}
	white    = rgb{255, 255, 255}
	headFill = rgb{44, 62, 80}
	zebra    = rgb{244, 246, 248}
	rule     = rgb{206, 212, 218}
)

// style is a font and a colour.
type style struct {
	family, face string
	size         float64
	color        rgb
}

var (
	stBody  = &style{"go", "", bodySize, ink}
	stBold  = &style{"go", "B", bodySize, ink}
	stMono  = &style{"gomono", "", monoSize, ink}
	stMuted = &style{"go", "", bodySize, muted}
	stHead  = &style{"go", "B", bodySize, white}
)

// fontKey is the font fpdf has selected: a family, a face and a size.
type fontKey struct {
	family, face string
	size         float64
}

// para is a paragraph of a cell; line is one wrapped line of it.
type para struct {
	text string
	st   *style
	// ident marks identifiers (ids, types, sources): they wrap after a
	// -, _, ., /, : or @ rather than at an arbitrary character, so a UUID
	// splits into readable halves.
	ident bool
}

type line struct {
	text string
	st   *style
}

type column struct {
	label string
	width float64
	align string
}

// doc is one report being laid out.
type doc struct {
	f      *fpdf.Fpdf
	r      *Renderer
	cat    *i18n.Catalog
	title  string
	cols   []column
	head   [][]line
	pageW  float64
	bottom float64 // rows end above this y
	atTop  bool    // on a page of the table with no row yet
	font   fontKey // fpdf's current font; zero before the first
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
	for _, ff := range fontFiles {
		// fpdf writes into the font bytes it is given while subsetting, so
		// concurrent renders (a worker runs several exports) must not share
		// the package-level TTF slices: each gets its own copy.
		f.AddUTF8FontFromBytes(ff.family, ff.style, bytes.Clone(ff.ttf))
	}
	if err := f.Error(); err != nil {
		return nil, err
	}
	d := &doc{f: f, r: r, cat: cat, title: cat.T("report.title")}
	pageW, pageH := f.GetPageSize()
	d.pageW, d.bottom = pageW, pageH-footerZone
	f.SetMargins(marginX, marginTop, marginX)
	f.SetCellMargin(padX)
	f.SetAutoPageBreak(true, footerZone)
	f.SetCompression(true)
	// The file's dates are the report's, not the wall clock's, and its
	// catalogues are sorted. (fpdf still writes subsetted font tables in map
	// order, so two renderings need not be byte-identical.)
	f.SetCatalogSort(true)
	if !r.rep.GeneratedAt.IsZero() {
		f.SetCreationDate(r.rep.GeneratedAt)
		f.SetModificationDate(r.rep.GeneratedAt)
	}
	f.SetTitle(d.title, true)
	f.SetSubject(cat.T("report.label_value", cat.T("report.tenant"), r.rep.TenantID), true)
	f.SetAuthor("Audit Sentinel", true)
	f.SetCreator("Audit Sentinel", true)
	f.SetProducer("Audit Sentinel", true)
	f.SetLang(cat.Code())
	f.SetFooterFunc(d.footer)

	f.AddPage()
	d.titleBlock()
	if len(r.events) == 0 {
		d.useAt(stMuted, 10)
		f.CellFormat(0, 8, cat.T("report.no_events"), "", 1, "L", false, 0, "")
	} else {
		d.table()
	}
	return f, f.Error()
}

// use selects st.
func (d *doc) use(st *style) { d.useAt(st, st.size) }

// useAt selects st's font at size pt, and its colour. fpdf writes a font
// selection into the page on every SetFont, even of the font in use, and
// keeps every page's content in memory until Close; the table selects a
// font for each line it measures or draws, and those repeats were half of
// that content. So a selection that would change nothing is skipped.
func (d *doc) useAt(st *style, pt float64) {
	if k := (fontKey{st.family, st.face, pt}); k != d.font {
		d.f.SetFont(st.family, st.face, pt)
		d.font = k
	}
	d.f.SetTextColor(st.color[0], st.color[1], st.color[2])
}

func (d *doc) footer() {
	// AddPage selects on the new page the font that was in use before the
	// footer, so that is the current one again afterwards.
	defer func(k fontKey) { d.font = k }(d.font)
	f := d.f
	f.SetY(-10)
	d.useAt(stMuted, 7)
	half := (d.pageW - 2*marginX) / 2
	left := d.title + " · " + d.cat.T("report.tenant") + " " + printable(d.r.rep.TenantID)
	if d.r.rep.ExportID != "" {
		left += " · " + d.cat.T("report.export_id") + " " + printable(d.r.rep.ExportID)
	}
	f.CellFormat(half, 4, left, "", 0, "L", false, 0, "")
	// The alias is replaced by the page count when the file is written; it
	// is as wide as a count of up to four digits, so right alignment holds.
	f.CellFormat(half, 4, d.cat.T("report.page", strconv.Itoa(f.PageNo()), alias), "", 0, "R", false, 0, "")
}

// titleBlock writes what the report is about: the title, the tenant, the
// export, the filters in words, the time range, the time zone, when it was
// generated and how many events it holds.
func (d *doc) titleBlock() {
	f, cat, rep := d.f, d.cat, d.r.rep
	d.useAt(stBold, 16)
	f.CellFormat(0, 9, d.title, "", 1, "L", false, 0, "")
	f.Ln(2)

	// The zone the times are in, which is Params.Timezone resolved.
	tz := d.r.loc.String()
	rows := []struct{ label, value string }{
		{cat.T("report.tenant"), rep.TenantID},
		{cat.T("report.export_id"), rep.ExportID},
		{cat.T("report.filters"), d.filtersInWords()},
		{cat.T("report.time_range"), d.timeRange()},
		{cat.T("report.time_zone"), tz},
		{cat.T("report.generated_at"), cat.FormatTime(rep.GeneratedAt, d.r.loc)},
		{cat.T("report.events"), cat.T("report.event_count", len(d.r.events))},
	}
	if rep.AsOf != nil {
		// What the report holds: every matching event ingested by then.
		rows = append(rows[:6], append([]struct{ label, value string }{{cat.T("report.as_of"),
			cat.FormatTime(rep.AsOf.At, d.r.loc) + " · " + cat.T("report.as_of_position", rep.AsOf.Snapshot.Position())}}, rows[6:]...)...)
	}
	labelW := 0.0
	d.useAt(stBold, 9)
	for _, row := range rows {
		labelW = max(labelW, f.GetStringWidth(row.label)+2*padX+2)
	}
	for _, row := range rows {
		if row.value == "" {
			continue
		}
		d.useAt(stBold, 9)
		f.SetTextColor(muted[0], muted[1], muted[2])
		f.CellFormat(labelW, 4.8, row.label, "", 0, "L", false, 0, "")
		d.useAt(stBody, 9)
		f.MultiCell(0, 4.8, printable(row.value), "", "L", false)
	}
	f.Ln(3)
	f.SetDrawColor(rule[0], rule[1], rule[2])
	f.SetLineWidth(0.3)
	f.Line(marginX, f.GetY(), d.pageW-marginX, f.GetY())
	f.Ln(4)
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

// table writes the events, one row each, in the order they came
// (ascending occurred at, then id).
func (d *doc) table() {
	f, cat := d.f, d.cat
	f.SetAutoPageBreak(false, footerZone) // rows place themselves
	d.cols = []column{
		{cat.T("report.row_number"), 10, "R"},
		{cat.T("field.occurred_at"), 27, "L"},
		{cat.T("field.event_id"), 32, "L"},
		{cat.T("field.event_type") + " / " + cat.T("field.sub_type"), 25, "L"},
		{cat.T("field.system_source"), 28, "L"},
		{cat.T("field.auditee_id"), 27, "L"},
		{cat.T("field.description"), 0, "L"},
		{cat.T("field.metadata"), 56, "L"},
	}
	used := 0.0
	for _, c := range d.cols {
		used += c.width
	}
	for i := range d.cols {
		if d.cols[i].width == 0 {
			d.cols[i].width = d.pageW - 2*marginX - used
		}
	}
	d.head = make([][]line, len(d.cols))
	for i, c := range d.cols {
		d.head[i] = d.wrap([]para{{text: c.label, st: stHead}}, c.width)
	}
	d.headerRow()

	var cells [][]para
	for i := range d.r.events {
		cells = d.eventCells(cells[:0], i)
		lines := make([][]line, len(cells))
		for c := range cells {
			lines[c] = d.wrap(cells[c], d.cols[c].width)
		}
		d.row(lines, i%2 == 1, cells[0][0].text)
		// The page holds the event now. Letting its copy go as the pages
		// fill keeps the events and the pages from peaking together.
		d.r.events[i] = audit.Event{}
	}
}

// eventCells returns the paragraphs of each column for event i.
func (d *doc) eventCells(cells [][]para, i int) [][]para {
	cat, e := d.cat, &d.r.events[i]
	date, clock := cat.FormatTimeParts(e.OccurredAt, d.r.loc)
	auditee := para{printable(e.AuditeeID), stBody, true}
	if e.AuditeeID == "" {
		auditee = para{text: cat.T("report.system_actor"), st: stMuted}
	}
	var meta []para
	for _, k := range audit.MetadataKeys {
		if v, ok := e.Metadata[k]; ok {
			meta = append(meta, para{text: cat.T("report.label_value", cat.T("field.metadata."+k), printable(v)), st: stBody})
		}
	}
	var other []string
	for k := range e.Metadata {
		if !audit.IsMetadataKey(k) {
			other = append(other, k)
		}
	}
	slices.Sort(other)
	for _, k := range other {
		meta = append(meta, para{text: cat.T("report.label_value", printable(k), printable(e.Metadata[k])), st: stBody})
	}
	return append(cells,
		[]para{{text: cat.FormatInt(int64(i + 1)), st: stMuted}},
		[]para{{text: date, st: stBody}, {text: clock, st: stBody}},
		[]para{{printable(e.ID), stMono, true}},
		[]para{{printable(e.EventType), stBold, true}, {printable(e.SubType), stBody, true}},
		[]para{{printable(e.SystemSource), stBody, true}},
		[]para{auditee},
		[]para{{text: printable(e.Description), st: stBody}},
		meta,
	)
}

// wrap breaks paragraphs into lines that fit width.
func (d *doc) wrap(ps []para, width float64) []line {
	var out []line
	for _, p := range ps {
		if p.text == "" {
			continue
		}
		d.use(p.st)
		var ls []string
		if p.ident {
			ls = d.splitIdent(p.text, width)
		} else {
			ls = d.f.SplitText(p.text, width)
		}
		for _, l := range ls {
			out = append(out, line{l, p.st})
		}
	}
	return out
}

// splitIdent wraps an identifier after separator characters, and inside a
// part only when that part alone is wider than the column.
func (d *doc) splitIdent(s string, width float64) []string {
	avail := width - 2*padX
	f := d.f
	if strings.ContainsRune(s, '\n') || strings.ContainsRune(s, ' ') {
		return f.SplitText(s, width)
	}
	if f.GetStringWidth(s) <= avail {
		return []string{s}
	}
	var parts []string
	start := 0
	for i, r := range s {
		if strings.ContainsRune("-_./:@", r) {
			parts = append(parts, s[start:i+len(string(r))])
			start = i + len(string(r))
		}
	}
	if start < len(s) {
		parts = append(parts, s[start:])
	}
	var out []string
	cur := ""
	for _, p := range parts {
		if f.GetStringWidth(cur+p) <= avail {
			cur += p
			continue
		}
		if cur != "" {
			out = append(out, cur)
		}
		cur = p
		for f.GetStringWidth(cur) > avail {
			rs := []rune(cur)
			n := 1
			for n < len(rs) && f.GetStringWidth(string(rs[:n+1])) <= avail {
				n++
			}
			out = append(out, string(rs[:n]))
			cur = string(rs[n:])
		}
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}

func height(cells [][]line) float64 {
	n := 1
	for _, c := range cells {
		n = max(n, len(c))
	}
	return float64(n)*lineH + 2*padY
}

// headerRow draws the column labels at the current y.
func (d *doc) headerRow() {
	f := d.f
	y := f.GetY()
	h := height(d.head)
	d.fill(headFill)
	f.Rect(marginX, y, d.pageW-2*marginX, h, "F")
	d.drawCells(d.head, y)
	f.SetY(y + h)
}

// newPage starts a page with the header row; a row drawn there has the
// whole page.
func (d *doc) newPage() {
	d.f.AddPage()
	d.headerRow()
	d.atTop = true
}

// row draws one event. A row that does not fit goes to the next page; one
// taller than a whole page is split, its later part marked as continued.
func (d *doc) row(cells [][]line, shade bool, num string) {
	f := d.f
	fullPage := d.bottom - marginTop - height(d.head)
	for {
		y := f.GetY()
		h := height(cells)
		if y+h <= d.bottom {
			d.drawRow(cells, y, h, shade)
			return
		}
		fits := int(math.Floor((d.bottom - y - 2*padY) / lineH))
		if !d.atTop && (h <= fullPage || fits < 3) {
			d.newPage()
			continue
		}
		// Taller than a page: fill this one, carry the rest over.
		head := make([][]line, len(cells))
		rest := make([][]line, len(cells))
		for i, c := range cells {
			n := min(fits, len(c))
			head[i], rest[i] = c[:n], c[n:]
		}
		d.drawRow(head, y, d.bottom-y, shade)
		rest[0] = d.wrap([]para{{text: num, st: stMuted}}, d.cols[0].width)
		rest[1] = append(d.wrap([]para{{text: d.cat.T("report.continued"), st: stMuted}}, d.cols[1].width), rest[1]...)
		cells = rest
		d.newPage()
	}
}

func (d *doc) drawRow(cells [][]line, y, h float64, shade bool) {
	f := d.f
	if shade {
		d.fill(zebra)
		f.Rect(marginX, y, d.pageW-2*marginX, h, "F")
	}
	d.drawCells(cells, y)
	f.SetDrawColor(rule[0], rule[1], rule[2])
	f.SetLineWidth(0.1)
	f.Line(marginX, y+h, d.pageW-marginX, y+h)
	f.SetY(y + h)
	d.atTop = false
}

func (d *doc) drawCells(cells [][]line, y float64) {
	f := d.f
	x := marginX
	for i, c := range cells {
		col := d.cols[i]
		for j, l := range c {
			d.use(l.st)
			d.fill(l.st.color)
			f.SetXY(x, y+padY+float64(j)*lineH)
			f.CellFormat(col.width, lineH, l.text, "", 0, col.align, false, 0, "")
		}
		x += col.width
	}
}

// fill makes c the fill colour. PDF paints text in the fill colour, so
// fpdf wraps text of any other colour in a save, the colour and a restore;
// on every line of the table that was a fifth of the page content fpdf
// holds until Close. The table therefore draws its text with the fill
// colour set to the text's. fpdf writes the colour on every SetFillColor,
// so an unchanged one is skipped.
func (d *doc) fill(c rgb) {
	if r, g, b := d.f.GetFillColor(); (rgb{r, g, b}) != c {
		d.f.SetFillColor(c[0], c[1], c[2])
	}
}
