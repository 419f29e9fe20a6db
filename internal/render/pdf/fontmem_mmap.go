//go:build linux || darwin || freebsd

package pdfrender

import "syscall"

// newFontBuffer allocates size bytes outside the Go heap, in an anonymous
// private mapping that is never unmapped: a font is kept for the life of
// the process anyway. Live heap costs twice its size in RSS (GOGC=100); a
// mapping costs its size.
func newFontBuffer(size int) []byte {
	buf, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		// Out of address space or mappings: the heap will do.
		return make([]byte, size)
	}
	return buf
}
