package pdfrender

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"io"
	"strings"
	"sync"
	"unicode"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/text/unicode/norm"

	"github.com/auditsentinel/sentinel/internal/offheap"
)

// cjkGz is WenQuanYi Micro Hei (Apache-2.0, see fonts/README.md), a
// TrueType face with the CJK ideographs, kana and every Hangul syllable.
// It is gzipped (1.9 MB in the binary; 3.9 MB inflated) and inflated and
// parsed once per process, the first time a report needs one of its
// characters. fpdf is given only the glyphs a report uses (see subset.go).
//
//go:embed fonts/wqy-microhei.ttf.gz
var cjkGz []byte

var cjkFont = sync.OnceValue(func() *ttf {
	t, err := parseTTF(inflateFont(cjkGz))
	if err != nil {
		panic("pdfrender: embedded CJK font: " + err.Error())
	}
	return t
})

// inflateFont inflates a gzipped font into memory outside the Go heap
// (package offheap), which it keeps for the life of the process. On the
// heap, its 3.9 MB were live from the first report on and the garbage
// collector's headroom doubled them: 8 MB of a worker's peak RSS while a
// PDF renders (issue 17).
func inflateFont(gz []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		panic("pdfrender: embedded font: " + err.Error())
	}
	// The gzip trailer has the inflated size.
	buf := offheap.Alloc(int(binary.LittleEndian.Uint32(gz[len(gz)-4:])))
	if _, err := io.ReadFull(zr, buf); err != nil {
		panic("pdfrender: embedded font: " + err.Error())
	}
	return buf
}

// face is one font file fpdf embeds (as a subset of the runes a report
// uses) under an fpdf family and style.
type face struct {
	family, style string
	// ttf is the font file; nil for the CJK face, which each report
	// subsets itself.
	ttf func() []byte
	// metrics are the face's rune coverage and advance widths, read once.
	metrics func() *faceMetrics
}

// faceMetrics holds, for every rune of the Basic Multilingual Plane, its
// advance width in thousandths of an em as fpdf computes it (0: the face
// has no glyph). fpdf's UTF-8 fonts index widths by rune in a 65,536-entry
// table, so runes beyond the BMP never reach fpdf.
type faceMetrics struct {
	width [1 << 16]uint16
}

func newFace(family, style string, ttf func() []byte) *face {
	fc := &face{family: family, style: style, ttf: ttf}
	fc.metrics = sync.OnceValue(func() *faceMetrics { return readMetrics(fc) })
	return fc
}

var (
	faceRegular = newFace("go", "", func() []byte { return goregular.TTF })
	faceBold    = newFace("go", "B", func() []byte { return gobold.TTF })
	faceMono    = newFace("gomono", "", func() []byte { return gomono.TTF })
	// faceCJK draws what the Go fonts cannot: they have Latin, Greek and
	// Cyrillic; it has Chinese, Japanese and Korean. It has one weight, so
	// bold CJK text is drawn regular.
	faceCJK = &face{family: "cjk", metrics: sync.OnceValue(func() *faceMetrics { return cjkFont().metrics() })}
	goFaces = []*face{faceRegular, faceBold, faceMono}
)

// readMetrics reads the face's coverage from its cmap and asks fpdf itself
// for the widths, so that what the layout measures is exactly what fpdf
// places. (A document without pages writes nothing when a font is
// selected.)
func readMetrics(fc *face) *faceMetrics {
	ttf := fc.ttf()
	sf, err := sfnt.Parse(ttf)
	if err != nil {
		panic("pdfrender: parse embedded font " + fc.family + fc.style + ": " + err.Error())
	}
	f := fpdf.New("L", "pt", "A4", "")
	f.AddUTF8FontFromBytes(fc.family, fc.style, bytes.Clone(ttf))
	f.SetFont(fc.family, fc.style, 1000)
	if err := f.Error(); err != nil {
		panic("pdfrender: embedded font " + fc.family + fc.style + ": " + err.Error())
	}
	m := new(faceMetrics)
	var buf sfnt.Buffer
	for r := rune(0x20); r < 1<<16; r++ {
		if g, err := sf.GlyphIndex(&buf, r); err != nil || g == 0 {
			continue
		}
		w := f.GetStringSymbolWidth(string(r))
		m.width[r] = uint16(max(1, min(w, 65534)))
	}
	return m
}

// drawable reports whether some embedded face has a glyph for r.
func drawable(r rune) bool { return goHas(r) || cjkHas(r) }

// goHas reports whether all three Go faces have r, so text of any style
// that uses only such runes is drawn in its own face.
func goHas(r rune) bool {
	if r < 0 || r >= 1<<16 {
		return false
	}
	return goCoverage()[r/64]&(1<<(r%64)) != 0
}

var goCoverage = sync.OnceValue(func() *[1 << 16 / 64]uint64 {
	var set [1 << 16 / 64]uint64
	for i := range set {
		set[i] = ^uint64(0)
	}
	for _, fc := range goFaces {
		m := fc.metrics()
		for r := range m.width {
			if m.width[r] == 0 {
				set[r/64] &^= 1 << (r % 64)
			}
		}
	}
	return &set
})

// cjkHas reports whether r is drawn by the CJK face: one of the scripts it
// is embedded for, and present in it. Only those ranges are asked for, so
// that the 3.9 MB face is not inflated for a report in Latin letters with
// an emoji.
func cjkHas(r rune) bool {
	if !cjkRange(r) {
		return false
	}
	return faceCJK.metrics().width[r] != 0
}

// cjkRange reports whether r belongs to the blocks the CJK face is for:
// Hangul Jamo, CJK radicals and symbols, kana, Bopomofo, compatibility
// Jamo, CJK strokes and enclosed letters, the unified ideographs and
// Extension A, Hangul syllables, compatibility ideographs, vertical and
// small forms, and the half- and full-width forms.
func cjkRange(r rune) bool {
	switch {
	case r >= 0x1100 && r <= 0x11FF,
		r >= 0x2E80 && r <= 0x2FDF,
		r >= 0x3000 && r <= 0x4DBF,
		r >= 0x4E00 && r <= 0x9FFF,
		r >= 0xA960 && r <= 0xA97F,
		r >= 0xAC00 && r <= 0xD7FF,
		r >= 0xF900 && r <= 0xFAFF,
		r >= 0xFE10 && r <= 0xFE1F,
		r >= 0xFE30 && r <= 0xFE4F,
		r >= 0xFF00 && r <= 0xFFEF:
		return true
	}
	return false
}

// wide reports whether r is a CJK character, between two of which a line
// may break.
func wide(r rune) bool { return r >= 0x2E80 && cjkRange(r) }

// placeholder is drawn for a character no embedded face has.
const placeholder = '\uFFFD'

// cleaner prepares free text for the PDF and counts the characters it had
// to replace; when cjk is set it records the CJK characters it let through.
type cleaner struct {
	replaced int
	cjk      map[rune]bool
}

// printable prepares free text for the PDF: NFC so that a letter and its
// combining accent become the one precomposed glyph the fonts have, line
// breaks as LF, tabs as spaces, other control and format characters
// dropped, and characters no face can draw replaced by U+FFFD, which is
// counted.
func (c *cleaner) printable(s string) string {
	clean := true
	for _, r := range s {
		if r < 0x20 || r >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	s = norm.NFC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch {
		case r == '\n':
			b.WriteByte('\n')
		case r == '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				continue
			}
			b.WriteByte('\n')
		case r == '\t':
			b.WriteByte(' ')
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
		case r == 0xA0 || r == 0x202F:
			b.WriteRune(0xA0) // fr digit grouping; U+202F has no glyph
		case goHas(r):
			b.WriteRune(r)
		case cjkHas(r):
			b.WriteRune(r)
			if c.cjk != nil {
				c.cjk[r] = true
			}
		default:
			b.WriteRune(placeholder)
			c.replaced++
		}
	}
	return b.String()
}

// printable is cleaner.printable for text whose replacements are not
// counted (the report's own wording, which has none).
func printable(s string) string {
	var c cleaner
	return c.printable(s)
}
