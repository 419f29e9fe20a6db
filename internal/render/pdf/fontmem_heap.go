//go:build !(linux || darwin || freebsd)

package pdfrender

// newFontBuffer allocates a font's bytes on the heap where mappings are
// not available through package syscall (see fontmem_mmap.go).
func newFontBuffer(size int) []byte { return make([]byte, size) }
