//go:build ignore

// mkfont writes wqy-microhei.ttf.gz, the CJK face the PDF report embeds,
// from Debian's fonts-wqy-microhei package:
//
//	apt-get install fonts-wqy-microhei
//	go run ./internal/render/pdf/fonts/mkfont.go
//
// The package ships a TrueType collection (Micro Hei and Micro Hei Mono);
// fpdf reads single fonts only, so this takes the first face out of it and
// leaves behind what a PDF renderer never reads: the glyph names of the
// post table (540 KB; kept as a version 3 header), the OpenType layout
// tables (GDEF, GPOS, GSUB: fpdf does no shaping), vertical metrics (vhea,
// vmtx: the report sets text horizontally) and FontForge's FFTM stamp.
// Outlines, metrics, cmap and hinting are copied byte for byte. The result
// is gzipped because the binary carries it; the renderer inflates it once,
// the first time a report needs a character of it.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"log"
	"os"
	"sort"
)

const (
	src = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
	dst = "internal/render/pdf/fonts/wqy-microhei.ttf.gz"
)

var drop = map[string]bool{"FFTM": true, "GDEF": true, "GPOS": true, "GSUB": true, "vhea": true, "vmtx": true}

type table struct {
	tag  string
	data []byte
}

func main() {
	b, err := os.ReadFile(src)
	if err != nil {
		log.Fatal(err)
	}
	if string(b[:4]) != "ttcf" {
		log.Fatalf("%s is not a TrueType collection", src)
	}
	face := int(binary.BigEndian.Uint32(b[12:])) // offset of face 0
	n := int(binary.BigEndian.Uint16(b[face+4:]))
	var tabs []table
	for i := range n {
		rec := b[face+12+16*i:]
		tag := string(rec[:4])
		off, ln := binary.BigEndian.Uint32(rec[8:]), binary.BigEndian.Uint32(rec[12:])
		if drop[tag] {
			continue
		}
		data := bytes.Clone(b[off : off+ln])
		if tag == "post" {
			// Version 3: the 32-byte header without glyph names.
			data = data[:32]
			binary.BigEndian.PutUint32(data, 0x00030000)
		}
		if tag == "head" {
			binary.BigEndian.PutUint32(data[8:], 0) // checksumAdjustment, set below
		}
		tabs = append(tabs, table{tag, data})
	}
	sort.Slice(tabs, func(i, j int) bool { return tabs[i].tag < tabs[j].tag })

	var out bytes.Buffer
	num := len(tabs)
	es := 0
	for 1<<(es+1) <= num {
		es++
	}
	hdr := make([]byte, 12)
	binary.BigEndian.PutUint32(hdr, 0x00010000)
	binary.BigEndian.PutUint16(hdr[4:], uint16(num))
	binary.BigEndian.PutUint16(hdr[6:], uint16(16<<es))
	binary.BigEndian.PutUint16(hdr[8:], uint16(es))
	binary.BigEndian.PutUint16(hdr[10:], uint16(num*16-16<<es))
	out.Write(hdr)
	pos := 12 + 16*num
	var body bytes.Buffer
	headAt := 0
	for _, t := range tabs {
		rec := make([]byte, 16)
		copy(rec, t.tag)
		binary.BigEndian.PutUint32(rec[4:], checksum(t.data))
		binary.BigEndian.PutUint32(rec[8:], uint32(pos+body.Len()))
		binary.BigEndian.PutUint32(rec[12:], uint32(len(t.data)))
		out.Write(rec)
		if t.tag == "head" {
			headAt = pos + body.Len()
		}
		body.Write(t.data)
		for body.Len()%4 != 0 {
			body.WriteByte(0)
		}
	}
	out.Write(body.Bytes())
	ttf := out.Bytes()
	binary.BigEndian.PutUint32(ttf[headAt+8:], 0xB1B0AFBA-checksum(ttf))

	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(ttf)
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(dst, gz.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("%s: %d tables, %d bytes, %d gzipped", dst, num, len(ttf), gz.Len())
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
