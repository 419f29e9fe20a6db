// Package offheap allocates long-lived buffers outside the Go heap.
//
// Why: the garbage collector lets the heap grow to twice what was live at
// its last cycle (GOGC=100). A buffer that stays live for the life of the
// process without ever being garbage (the S3 upload's part buffers, the
// PDF's inflated CJK font) therefore costs twice its size in RSS on the
// heap: its own pages and as much again of headroom for garbage that is not
// there. A mapping costs its size, and only the pages written.
//
// Buffers are never freed: callers keep them for the life of the process
// (a pool, a font loaded once). Nothing else may use this package.
package offheap
