//go:build linux || darwin || freebsd

package offheap

import "syscall"

// Alloc returns size bytes outside the Go heap, in an anonymous private
// mapping that is never unmapped, or on the heap when the mapping fails
// (out of address space or mappings).
func Alloc(size int) []byte {
	buf, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]byte, size)
	}
	return buf
}
