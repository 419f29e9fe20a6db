package pdfrender

import (
	"math"
	"slices"
	"strings"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// Widest a data-sized column may get; its ids shrink to fit beyond that.
const (
	maxIDWidth   = 50.0
	maxTypeWidth = 40.0
	minDetails   = 90.0 // description and metadata never get less
)

// columns sizes the table to its data: the number, time, id and type
// columns take what their widest value needs (ids whole on one line), and
// description with metadata take the rest of the page. A field the filter
// fixes is left out (see pins). The pass also counts the characters that
// will be replaced, which the title block reports before the rows.
func (d *doc) columns() {
	cat, p := d.cat, d.pinned
	inner := func(w float64) float64 { return w + 2*padX }
	pre := cleaner{cjk: map[rune]bool{}}
	numW := measure(cat.FormatInt(int64(len(d.r.events))), stMuted)
	whenW, idW, typeW := 0.0, 0.0, 0.0
	if !p.auditee {
		idW = measure(cat.T("report.system_actor"), stMuted)
	}
	for i := range d.r.events {
		e := &d.r.events[i]
		date, clock := cat.FormatTimeParts(e.OccurredAt, d.r.loc)
		whenW = max(whenW, measure(date, stBody), measure(clock, stBody))
		idW = max(idW, measure(pre.printable(e.ID), stMono))
		if !p.auditee {
			idW = max(idW, measure(pre.printable(e.AuditeeID), stMono))
		}
		if l := d.typeLine(&pre, e); len(l.segs) > 0 {
			typeW = max(typeW, l.w)
		}
		if !p.source {
			typeW = max(typeW, measure(pre.printable(e.SystemSource), stMuted))
		}
		pre.printable(e.Description)
		for k, v := range e.Metadata {
			pre.printable(k)
			pre.printable(v)
		}
	}
	rep := d.r.rep
	pre.printable(rep.Name)
	d.clean.replaced = pre.replaced
	// What else is drawn from the request rather than the catalogue: only
	// its CJK characters matter here (its replacements are not events').
	for _, s := range []string{rep.TenantID, rep.ExportID, rep.ScheduleID, rep.AsOfPosition, d.filtersInWords()} {
		pre.printable(s)
	}
	d.cjkRunes = pre.cjk

	d.cols = []column{{
		width: inner(max(numW, measure(cat.T("report.row_number"), stHead))), align: "R",
		head: [2]string{cat.T("report.row_number")},
		cell: func(_ *audit.Event, i int, fl *flow) {
			fl.ident(cat.FormatInt(int64(i+1)), stMuted)
		},
	}, {
		width: inner(max(whenW, 14)), align: "L",
		head: [2]string{cat.T("field.occurred_at")},
		cell: func(e *audit.Event, _ int, fl *flow) {
			date, clock := cat.FormatTimeParts(e.OccurredAt, d.r.loc)
			fl.ident(date, stBody)
			fl.ident(clock, stBody)
		},
	}}
	idHead := [2]string{cat.T("field.event_id"), cat.T("field.auditee_id")}
	if p.auditee {
		idHead[1] = ""
	}
	d.cols = append(d.cols, column{
		width: inner(min(idW, maxIDWidth)), align: "L", head: idHead,
		cell: func(e *audit.Event, _ int, fl *flow) {
			fl.ident(d.clean.printable(e.ID), stMono)
			switch {
			case p.auditee:
			case e.AuditeeID == "":
				fl.ident(cat.T("report.system_actor"), stMuted)
			default:
				fl.ident(d.clean.printable(e.AuditeeID), stMono)
			}
		},
	})
	if !p.eventType || !p.subType || !p.source {
		var h [2]string
		switch {
		case p.eventType && p.subType:
		case p.eventType:
			h[0] = cat.T("field.sub_type")
		case p.subType:
			h[0] = cat.T("field.event_type")
		default:
			h[0] = cat.T("field.event_type") + " · " + cat.T("field.sub_type")
		}
		if !p.source {
			h[1] = cat.T("field.system_source")
		}
		d.cols = append(d.cols, column{
			width: inner(min(typeW, maxTypeWidth)), align: "L", head: h,
			cell: func(e *audit.Event, _ int, fl *flow) {
				if l := d.typeLine(&d.clean, e); len(l.segs) > 0 {
					if l.w <= fl.width {
						fl.lines = append(fl.lines, l)
					} else {
						// Too wide: each part whole on a line of its own.
						for _, s := range l.segs {
							if s.text != " · " {
								fl.ident(s.text, s.st)
							}
						}
					}
				}
				if !p.source {
					fl.ident(d.clean.printable(e.SystemSource), stMuted)
				}
			},
		})
	}
	d.cols = append(d.cols, column{
		align: "L", head: [2]string{cat.T("field.description"), cat.T("field.metadata")},
		cell: d.details,
	})

	used := 0.0
	for _, c := range d.cols[:len(d.cols)-1] {
		used += c.width
	}
	d.cols[len(d.cols)-1].width = max(minDetails, d.pageW-2*marginX-used)
	if over := used + d.cols[len(d.cols)-1].width - (d.pageW - 2*marginX); over > 0 {
		// Only with ids and types at their widest on Letter: take it from
		// the id column, whose ids then shrink.
		d.cols[2].width -= over
	}

	d.head = make([][]line, len(d.cols))
	for i, c := range d.cols {
		fl := newFlow(c.width - 2*padX)
		for _, h := range c.head {
			if h != "" {
				fl.ident(h, stHead)
			}
		}
		d.head[i] = fl.done()
	}
}

// typeLine is "type · sub type" of e, the parts the filter fixes left out.
func (d *doc) typeLine(c *cleaner, e *audit.Event) line {
	fl := newFlow(math.Inf(1))
	p := d.pinned
	sep := false
	if !p.eventType && e.EventType != "" {
		fl.place(c.printable(e.EventType), stBold, measure(c.printable(e.EventType), stBold), 0, false)
		sep = true
	}
	if !p.subType && e.SubType != "" {
		if sep {
			fl.place(" · ", stBody, measure(" · ", stBody), 0, false)
		}
		fl.place(c.printable(e.SubType), stBody, measure(c.printable(e.SubType), stBody), 0, false)
	}
	ls := fl.done()
	if len(ls) == 0 {
		return line{}
	}
	return ls[0]
}

// details fills the description and, below it, the metadata: only the keys
// the event has, the filterable ones in their documented order and then
// the others sorted, as label–value pairs that flow across the column, a
// pair never split (so an id in it stays whole). A key the filter fixes is
// left out.
func (d *doc) details(e *audit.Event, _ int, fl *flow) {
	cat := d.cat
	fl.text(d.clean.printable(e.Description), stBody)
	fl.newline()
	gap := 0.0
	put := func(label, value string) {
		// The locale's "label: value" with the value cut off, so the
		// label can be set muted.
		full := cat.T("report.label_value", label, "\x00")
		lab := full[:max(0, strings.LastIndex(full, "\x00"))]
		v := d.clean.printable(value)
		st := stMeta
		if isIDLike(v) {
			st = stMetaM
		}
		fl.pair(lab, stLabel, v, st, gap)
		gap = pairGap
	}
	for _, k := range audit.MetadataKeys {
		if v, ok := e.Metadata[k]; ok && !d.pinned.metadata[k] {
			put(cat.T("field.metadata."+k), v)
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
		put(d.clean.printable(k), e.Metadata[k])
	}
}

// isIDLike reports whether a metadata value reads as an identifier (a
// UUID and the like), which the table sets in the monospaced face.
func isIDLike(s string) bool {
	if len(s) < 16 {
		return false
	}
	digits, dashes := 0, 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '-':
			dashes++
		case r >= 'a' && r <= 'f', r >= 'A' && r <= 'F':
		default:
			return false
		}
	}
	return digits > 0 && dashes > 0
}

// table writes the events, one row each, in the order they came
// (ascending occurred at, then id).
func (d *doc) table() {
	d.headerRow()
	for i := range d.r.events {
		e := &d.r.events[i]
		cells := make([][]line, len(d.cols))
		for c, col := range d.cols {
			fl := newFlow(col.width - 2*padX)
			col.cell(e, i, fl)
			cells[c] = fl.done()
		}
		d.row(cells, i%2 == 1, d.cat.FormatInt(int64(i+1)))
		// The page holds the event now. Letting its copy go as the pages
		// fill keeps the events and the pages from peaking together.
		*e = audit.Event{}
	}
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
	d.f.SetY(marginTop)
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
		numFl := newFlow(d.cols[0].width - 2*padX)
		numFl.ident(num, stMuted)
		rest[0] = numFl.done()
		contFl := newFlow(d.cols[1].width - 2*padX)
		contFl.text(d.cat.T("report.continued"), stMuted)
		rest[1] = append(contFl.done(), rest[1]...)
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
	x := marginX
	for i, c := range cells {
		col := d.cols[i]
		for j, l := range c {
			lx := x + padX
			if col.align == "R" {
				lx = x + col.width - padX - l.w
			}
			for _, s := range l.segs {
				d.drawSeg(s, lx+s.x, y+padY+float64(j)*lineH, lineH)
			}
		}
		x += col.width
	}
}

// endMarker closes the report with "End of report — N events", so a
// printout that lost its last pages cannot pass for a complete one.
func (d *doc) endMarker() {
	f := d.f
	const h = 6
	y := f.GetY() + 2
	if y+h > d.bottom {
		f.AddPage()
		y = marginTop
	}
	d.drawFlowAt(marginX, y, d.oneLine(d.cat.T("report.end", len(d.r.events)), stEnd), h)
	f.SetY(y + h)
}
