package pdfrender

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
)

// The CJK face has 49,531 glyphs in 3.9 MB. fpdf parses a font it is given
// into maps over all its glyphs, twice (when it is added and when it is
// cut down for the file), which cost a render some 16 MiB for a report with
// a few Japanese names. So a report gets a font of just the CJK glyphs it
// uses, cut here, and fpdf parses that. This is a plain TrueType subsetter:
// glyphs keep their outlines and hinting byte for byte, composite glyphs
// bring their components, and the tables are those fpdf reads.

// ttf is a parsed TrueType font, read-only and shared by every render.
type ttf struct {
	tables     map[string][]byte
	upem       int
	numGlyphs  int
	numMetrics int
	locaLong   bool
	gid        [1 << 16]uint16 // BMP rune → glyph, from the format 4 cmap
}

func be16(b []byte, off int) int { return int(binary.BigEndian.Uint16(b[off:])) }
func be32(b []byte, off int) int { return int(binary.BigEndian.Uint32(b[off:])) }

var errFont = errors.New("malformed font")

func parseTTF(b []byte) (*ttf, error) {
	if len(b) < 12 || be32(b, 0) != 0x00010000 {
		return nil, fmt.Errorf("%w: not a TrueType font", errFont)
	}
	t := &ttf{tables: map[string][]byte{}}
	n := be16(b, 4)
	for i := range n {
		rec := 12 + 16*i
		if rec+16 > len(b) {
			return nil, errFont
		}
		off, ln := be32(b, rec+8), be32(b, rec+12)
		if off+ln > len(b) {
			return nil, fmt.Errorf("%w: table %q out of bounds", errFont, b[rec:rec+4])
		}
		t.tables[string(b[rec:rec+4])] = b[off : off+ln]
	}
	for _, need := range []string{"head", "hhea", "maxp", "hmtx", "loca", "glyf", "cmap", "name", "OS/2", "post"} {
		if t.tables[need] == nil {
			return nil, fmt.Errorf("%w: no %s table", errFont, need)
		}
	}
	t.upem = be16(t.tables["head"], 18)
	t.locaLong = be16(t.tables["head"], 50) == 1
	t.numGlyphs = be16(t.tables["maxp"], 4)
	t.numMetrics = be16(t.tables["hhea"], 34)
	if err := t.readCmap(); err != nil {
		return nil, err
	}
	return t, nil
}

// readCmap reads the Windows Unicode BMP (3, 1) format 4 subtable.
func (t *ttf) readCmap() error {
	c := t.tables["cmap"]
	for i := range be16(c, 2) {
		rec := 4 + 8*i
		if be16(c, rec) != 3 || be16(c, rec+2) != 1 {
			continue
		}
		s := c[be32(c, rec+4):]
		if be16(s, 0) != 4 {
			continue
		}
		segs := be16(s, 6) / 2
		ends, starts, deltas, ranges := 14, 16+2*segs, 16+4*segs, 16+6*segs
		for k := range segs {
			end, start := be16(s, ends+2*k), be16(s, starts+2*k)
			delta, ro := be16(s, deltas+2*k), be16(s, ranges+2*k)
			for r := start; r <= end && r < 0xFFFF; r++ {
				g := 0
				if ro == 0 {
					g = (r + delta) & 0xFFFF
				} else {
					at := ranges + 2*k + ro + 2*(r-start)
					if at+2 > len(s) {
						continue
					}
					if g = be16(s, at); g != 0 {
						g = (g + delta) & 0xFFFF
					}
				}
				if g < t.numGlyphs {
					t.gid[r] = uint16(g)
				}
			}
		}
		return nil
	}
	return fmt.Errorf("%w: no Unicode BMP cmap", errFont)
}

// advance returns glyph g's advance width in font units.
func (t *ttf) advance(g int) int {
	h := t.tables["hmtx"]
	if g >= t.numMetrics {
		g = t.numMetrics - 1
	}
	return be16(h, 4*g)
}

// metrics returns the coverage and widths as fpdf computes them from the
// font (thousandths of an em, rounded).
func (t *ttf) metrics() *faceMetrics {
	m := new(faceMetrics)
	scale := 1000 / float64(t.upem)
	for r := 0x20; r < 1<<16; r++ {
		if g := t.gid[r]; g != 0 {
			w := int(math.Round(scale * float64(t.advance(int(g)))))
			m.width[r] = uint16(max(1, min(w, 65534)))
		}
	}
	return m
}

func (t *ttf) glyph(g int) []byte {
	loca, glyf := t.tables["loca"], t.tables["glyf"]
	var a, b int
	if t.locaLong {
		a, b = be32(loca, 4*g), be32(loca, 4*g+4)
	} else {
		a, b = 2*be16(loca, 2*g), 2*be16(loca, 2*g+2)
	}
	if a > b || b > len(glyf) {
		return nil
	}
	return glyf[a:b]
}

// Composite glyph flags.
const (
	argWords    = 0x0001
	haveScale   = 0x0008
	moreComps   = 0x0020
	haveXYScale = 0x0040
	have2x2     = 0x0080
)

// components calls fn with the offset of each component's glyph index in
// a composite glyph; it does nothing for a simple one.
func components(data []byte, fn func(off int)) {
	if len(data) < 10 || int16(be16(data, 0)) >= 0 {
		return
	}
	off := 10
	for off+4 <= len(data) {
		flags := be16(data, off)
		fn(off + 2)
		off += 4
		if flags&argWords != 0 {
			off += 4
		} else {
			off += 2
		}
		switch {
		case flags&haveScale != 0:
			off += 2
		case flags&haveXYScale != 0:
			off += 4
		case flags&have2x2 != 0:
			off += 8
		}
		if flags&moreComps == 0 {
			return
		}
	}
}

// subset returns a TrueType font holding .notdef and the glyphs of runes
// (with their components), each rune mapped to its glyph.
func (t *ttf) subset(runes []rune) []byte {
	runes = slices.Clone(runes)
	slices.Sort(runes)
	runes = slices.Compact(runes)
	// Old glyph ids in the new order, and the way back.
	order := []int{0}
	newID := map[int]int{0: 0}
	var add func(g int)
	add = func(g int) {
		if _, ok := newID[g]; ok || g >= t.numGlyphs {
			return
		}
		newID[g] = len(order)
		order = append(order, g)
		components(t.glyph(g), func(off int) { add(be16(t.glyph(g), off)) })
	}
	var mapped []rune
	for _, r := range runes {
		if r >= 0 && r < 0xFFFF && t.gid[r] != 0 {
			add(int(t.gid[r]))
			mapped = append(mapped, r)
		}
	}

	var glyf, loca, hmtx []byte
	for _, g := range order {
		loca = binary.BigEndian.AppendUint32(loca, uint32(len(glyf)))
		data := slices.Clone(t.glyph(g))
		components(data, func(off int) {
			binary.BigEndian.PutUint16(data[off:], uint16(newID[be16(data, off)]))
		})
		glyf = append(glyf, data...)
		for len(glyf)%4 != 0 {
			glyf = append(glyf, 0)
		}
		hmtx = binary.BigEndian.AppendUint16(hmtx, uint16(t.advance(g)))
		hmtx = binary.BigEndian.AppendUint16(hmtx, uint16(t.lsb(g)))
	}
	loca = binary.BigEndian.AppendUint32(loca, uint32(len(glyf)))

	head := slices.Clone(t.tables["head"])
	binary.BigEndian.PutUint32(head[8:], 0)  // checksumAdjustment, set below
	binary.BigEndian.PutUint16(head[50:], 1) // long loca
	hhea := slices.Clone(t.tables["hhea"])
	binary.BigEndian.PutUint16(hhea[34:], uint16(len(order)))
	maxp := slices.Clone(t.tables["maxp"])
	binary.BigEndian.PutUint16(maxp[4:], uint16(len(order)))
	post := slices.Clone(t.tables["post"][:32])
	binary.BigEndian.PutUint32(post, 0x00030000)

	tables := map[string][]byte{
		"head": head, "hhea": hhea, "maxp": maxp, "post": post,
		"OS/2": t.tables["OS/2"], "name": t.tables["name"],
		"cmap": cmap4(mapped, func(r rune) int { return newID[int(t.gid[r])] }),
		"hmtx": hmtx, "loca": loca, "glyf": glyf,
	}
	for _, opt := range []string{"cvt ", "fpgm", "prep", "gasp"} {
		if b := t.tables[opt]; b != nil {
			tables[opt] = b
		}
	}
	return assemble(tables)
}

func (t *ttf) lsb(g int) int {
	h := t.tables["hmtx"]
	if g < t.numMetrics {
		return be16(h, 4*g+2)
	}
	return be16(h, 4*t.numMetrics+2*(g-t.numMetrics))
}

// cmap4 writes a cmap with one (3, 1) format 4 subtable mapping the sorted
// runes, a segment for each run of consecutive runes with consecutive
// glyphs.
func cmap4(runes []rune, gid func(rune) int) []byte {
	type seg struct{ start, end, delta int }
	var segs []seg
	for _, r := range runes {
		g := gid(r)
		if n := len(segs); n > 0 && segs[n-1].end == int(r)-1 && (segs[n-1].delta+int(r))&0xFFFF == g {
			segs[n-1].end = int(r)
			continue
		}
		segs = append(segs, seg{int(r), int(r), (g - int(r)) & 0xFFFF})
	}
	segs = append(segs, seg{0xFFFF, 0xFFFF, 1})
	n := len(segs)
	es := 0
	for 1<<(es+1) <= n {
		es++
	}
	var s []byte
	u16 := func(v int) { s = binary.BigEndian.AppendUint16(s, uint16(v)) }
	u16(4)
	u16(16 + 8*n) // length
	u16(0)        // language
	u16(2 * n)
	u16(2 << es)
	u16(es)
	u16(2*n - 2<<es)
	for _, sg := range segs {
		u16(sg.end)
	}
	u16(0)
	for _, sg := range segs {
		u16(sg.start)
	}
	for _, sg := range segs {
		u16(sg.delta)
	}
	for range segs {
		u16(0) // idRangeOffset
	}
	hdr := []byte{0, 0, 0, 1, 0, 3, 0, 1, 0, 0, 0, 12}
	return append(hdr, s...)
}

// assemble writes the tables as a font file, sorted by tag, with their
// checksums and the head's checksum adjustment.
func assemble(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	for tag := range tables {
		tags = append(tags, tag)
	}
	sort.Strings(tags)
	n := len(tags)
	es := 0
	for 1<<(es+1) <= n {
		es++
	}
	out := make([]byte, 12, 12+16*n)
	binary.BigEndian.PutUint32(out, 0x00010000)
	binary.BigEndian.PutUint16(out[4:], uint16(n))
	binary.BigEndian.PutUint16(out[6:], uint16(16<<es))
	binary.BigEndian.PutUint16(out[8:], uint16(es))
	binary.BigEndian.PutUint16(out[10:], uint16(16*n-16<<es))
	pos := 12 + 16*n
	var body []byte
	headAt := 0
	for _, tag := range tags {
		b := tables[tag]
		rec := make([]byte, 16)
		copy(rec, tag)
		binary.BigEndian.PutUint32(rec[4:], checksum(b))
		binary.BigEndian.PutUint32(rec[8:], uint32(pos+len(body)))
		binary.BigEndian.PutUint32(rec[12:], uint32(len(b)))
		out = append(out, rec...)
		if tag == "head" {
			headAt = pos + len(body)
		}
		body = append(body, b...)
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
	}
	out = append(out, body...)
	binary.BigEndian.PutUint32(out[headAt+8:], 0xB1B0AFBA-checksum(out))
	return out
}

func checksum(b []byte) uint32 {
	var sum uint32
	for i := 0; i < len(b); i += 4 {
		var w [4]byte
		copy(w[:], b[i:])
		sum += binary.BigEndian.Uint32(w[:])
	}
	return sum
}
