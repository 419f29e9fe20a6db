//go:build linux || darwin || freebsd

package s3

import "syscall"

// newPartBuffer allocates a part buffer outside the Go heap, in an
// anonymous private mapping that is never unmapped: the pool keeps its
// buffers for the life of the process anyway.
//
// Why not make([]byte, size): the garbage collector lets the heap grow to
// twice what was live at its last cycle (GOGC=100), and part buffers are
// live all along without ever being garbage, so every 5 MiB buffer on the
// heap added another 5 MiB of headroom for garbage that is not there. A
// worker's part buffers are most of its live heap (10 MiB of 20 for one
// export; 30 of 70 for four), so on the heap they cost twice their size in
// RSS. A mapping costs its size, and only the pages written.
func newPartBuffer(size int64) []byte {
	buf, err := syscall.Mmap(-1, 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		// Out of address space or mappings: the heap will do.
		return make([]byte, size)
	}
	return buf
}
