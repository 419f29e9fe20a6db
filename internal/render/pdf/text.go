package pdfrender

import (
	"strings"
	"sync"
	"unicode"

	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/text/unicode/norm"
)

// fontFiles are the faces the report uses, by fpdf family and style.
var fontFiles = []struct {
	family, style string
	ttf           []byte
}{
	{"go", "", goregular.TTF},
	{"go", "B", gobold.TTF},
	{"gomono", "", gomono.TTF},
}

// coverage has a bit set for every rune of the Basic Multilingual Plane that
// all the report's fonts can draw. fpdf's UTF-8 fonts index glyph widths by
// rune in a 65,536-entry table, so runes beyond it must not reach fpdf.
var coverage = sync.OnceValue(func() *[1 << 16 / 64]uint64 {
	var set [1 << 16 / 64]uint64
	for i := range set {
		set[i] = ^uint64(0)
	}
	var buf sfnt.Buffer
	for _, ff := range fontFiles {
		f, err := sfnt.Parse(ff.ttf)
		if err != nil {
			panic("pdfrender: parse embedded font: " + err.Error())
		}
		for r := rune(0); r < 1<<16; r++ {
			if g, err := f.GlyphIndex(&buf, r); err != nil || g == 0 {
				set[r/64] &^= 1 << (r % 64)
			}
		}
	}
	return &set
})

func drawable(r rune) bool {
	return r >= 0 && r < 1<<16 && coverage()[r/64]&(1<<(r%64)) != 0
}

// printable prepares free text for the PDF: NFC so that a letter and its
// combining accent become the one precomposed glyph the fonts have, line
// breaks as LF, tabs as spaces, other control and format characters
// dropped, and characters the fonts cannot draw replaced by U+FFFD.
func printable(s string) string {
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
		case drawable(r):
			b.WriteRune(r)
		default:
			b.WriteRune(0xFFFD)
		}
	}
	return b.String()
}
