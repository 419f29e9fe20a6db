//go:build !(linux || darwin || freebsd)

package s3

// newPartBuffer allocates a part buffer on the heap where mappings are not
// available through package syscall (see partmem_mmap.go).
func newPartBuffer(size int64) []byte { return make([]byte, size) }
