package pdfrender

import (
	"strings"
	"unicode/utf8"
)

// This file is the report's own line layout. fpdf measures and wraps text
// in one font at a time, while a line of the report may need two: the Go
// fonts for Latin, Greek and Cyrillic and the CJK face for the rest. So
// text is measured here, rune by rune in the face that will draw it, and
// broken into lines of segments; drawing splits a segment into runs by
// face (doc.drawSeg).

const ptToMM = 25.4 / 72

// faceOf returns the face that draws r in style st.
func faceOf(st *style, r rune) *face {
	if goHas(r) {
		return st.face
	}
	return faceCJK
}

// measure returns the width of s in st, in millimetres.
func measure(s string, st *style) float64 {
	w := 0
	var m, cjk *faceMetrics
	m = st.face.metrics()
	for _, r := range s {
		if r >= 1<<16 {
			w += 1000
			continue
		}
		if !goHas(r) && cjkRange(r) {
			if cjk == nil {
				cjk = faceCJK.metrics()
			}
			w += int(cjk.width[r])
			continue
		}
		w += int(m.width[r])
	}
	return float64(w) * st.size / 1000 * ptToMM
}

// seg is text in one style at x (from the line's start).
type seg struct {
	x    float64
	text string
	st   *style
}

// line is one line of a cell; w is its width.
type line struct {
	segs []seg
	w    float64
}

// flow breaks text into lines of width.
type flow struct {
	width float64
	lines []line
	cur   line
	open  bool // cur holds something or was started on purpose
}

func newFlow(width float64) *flow { return &flow{width: width} }

// done returns the lines.
func (fl *flow) done() []line {
	if fl.open {
		fl.lines = append(fl.lines, fl.cur)
		fl.cur, fl.open = line{}, false
	}
	return fl.lines
}

// newline ends the current line, if it has anything.
func (fl *flow) newline() {
	if fl.open {
		fl.lines = append(fl.lines, fl.cur)
		fl.cur, fl.open = line{}, false
	}
}

// place appends text of width w at the end of the current line after a
// gap; a space gap joins it to a segment of the same style, so readers
// see a plain space.
func (fl *flow) place(text string, st *style, w, gap float64, space bool) {
	fl.open = true
	if len(fl.cur.segs) == 0 {
		gap, space = 0, false
	}
	n := len(fl.cur.segs)
	if n > 0 && fl.cur.segs[n-1].st == st && (space || gap == 0) {
		if space {
			fl.cur.segs[n-1].text += " " + text
		} else {
			fl.cur.segs[n-1].text += text
		}
	} else {
		fl.cur.segs = append(fl.cur.segs, seg{x: fl.cur.w + gap, text: text, st: st})
	}
	fl.cur.w += gap + w
}

// fits reports whether w more after gap fits on the current line.
func (fl *flow) fits(w, gap float64) bool {
	if len(fl.cur.segs) == 0 {
		return w <= fl.width
	}
	return fl.cur.w+gap+w <= fl.width+1e-9
}

// text flows free text: it breaks at spaces and between CJK characters,
// and inside a word only when the word alone is wider than a line. Line
// breaks in the text are kept.
func (fl *flow) text(s string, st *style) {
	space := measure(" ", st)
	for i, para := range strings.Split(s, "\n") {
		if i > 0 {
			fl.newline()
			fl.open = true // an empty line stays a line
		}
		gapNext := false
		for _, w := range words(para) {
			if w.text == "" {
				continue
			}
			gap, sp := 0.0, false
			if w.spaceBefore || gapNext {
				gap, sp = space, true
			}
			gapNext = false
			ww := measure(w.text, st)
			if fl.fits(ww, gap) {
				fl.place(w.text, st, ww, gap, sp)
				continue
			}
			fl.newline()
			if ww <= fl.width {
				fl.place(w.text, st, ww, 0, false)
				continue
			}
			fl.hardBreak(w.text, st)
		}
	}
}

// hardBreak places a word wider than a line, character by character.
func (fl *flow) hardBreak(s string, st *style) {
	for s != "" {
		n, w := fitPrefix(s, st, fl.width-fl.cur.w)
		if n == 0 {
			if len(fl.cur.segs) > 0 {
				fl.newline()
				continue
			}
			_, n = utf8.DecodeRuneInString(s) // one character, even too wide
			w = measure(s[:n], st)
		}
		fl.place(s[:n], st, w, 0, false)
		s = s[n:]
		if s != "" {
			fl.newline()
		}
	}
}

// fitPrefix returns the longest prefix of s (in bytes) no wider than avail,
// and its width.
func fitPrefix(s string, st *style, avail float64) (int, float64) {
	n, w := 0, 0.0
	for i, r := range s {
		rw := measure(string(r), st)
		if w+rw > avail+1e-9 {
			return n, w
		}
		n, w = i+utf8.RuneLen(r), w+rw
	}
	return n, w
}

type word struct {
	text        string
	spaceBefore bool
}

// words splits a paragraph into the units a line may break between:
// space-separated words, with each CJK character a unit of its own.
func words(s string) []word {
	var out []word
	start, space := 0, false
	for i, r := range s {
		switch {
		case r == ' ':
			if i > start {
				out = append(out, word{s[start:i], space})
			}
			start, space = i+1, true
		case wide(r):
			if i > start {
				out = append(out, word{s[start:i], space})
				space = false
			}
			out = append(out, word{s[i : i+utf8.RuneLen(r)], space})
			start, space = i+utf8.RuneLen(r), false
		}
	}
	if start < len(s) {
		out = append(out, word{s[start:], space})
	}
	return out
}

// minIdentSize is the smallest size an identifier is shrunk to so that it
// stays on one line.
const minIdentSize = 4.2

// ident places an identifier on a line of its own, whole: at st's size
// when it fits, at a smaller size down to minIdentSize when it does not,
// and broken after its separators only beyond that (an id of some 60
// characters in the id column).
func (fl *flow) ident(s string, st *style) {
	fl.newline()
	w := measure(s, st)
	if w <= fl.width {
		fl.place(s, st, w, 0, false)
		fl.newline()
		return
	}
	if size := st.size * fl.width / w * 0.999; size >= minIdentSize {
		small := st.at(size)
		fl.place(s, small, measure(s, small), 0, false)
		fl.newline()
		return
	}
	small := st.at(minIdentSize)
	for _, part := range identParts(s) {
		pw := measure(part, small)
		if !fl.fits(pw, 0) {
			fl.newline()
		}
		if pw > fl.width {
			fl.hardBreak(part, small)
			continue
		}
		fl.place(part, small, pw, 0, false)
	}
	fl.newline()
}

// identParts splits an identifier after each separator.
func identParts(s string) []string {
	var parts []string
	start := 0
	for i, r := range s {
		if strings.ContainsRune("-_./:@ ", r) {
			parts = append(parts, s[start:i+utf8.RuneLen(r)])
			start = i + utf8.RuneLen(r)
		}
	}
	if start < len(s) {
		parts = append(parts, s[start:])
	}
	return parts
}

// pair places "label: value" as one unit after gap: on the current line
// when it fits there, else on the next; a pair wider than a whole line
// starts a line and its value flows as text. Values without spaces (ids)
// are kept whole.
func (fl *flow) pair(label string, lst *style, value string, vst *style, gap float64) {
	lw, vw := measure(label, lst), measure(value, vst)
	if !fl.fits(lw+vw, gap) {
		fl.newline()
		gap = 0
	}
	if fl.fits(lw+vw, gap) {
		fl.place(label, lst, lw, gap, false)
		fl.place(value, vst, vw, 0, false)
		return
	}
	fl.place(label, lst, lw, 0, false)
	if !strings.Contains(value, " ") && vw <= fl.width {
		fl.newline()
		fl.place(value, vst, vw, 0, false)
		return
	}
	fl.text(value, vst)
}
