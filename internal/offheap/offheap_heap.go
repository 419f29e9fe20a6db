//go:build !(linux || darwin || freebsd)

package offheap

// Alloc returns size bytes on the heap where mappings are not available
// through package syscall (see offheap_mmap.go).
func Alloc(size int) []byte { return make([]byte, size) }
