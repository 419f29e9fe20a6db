package app

import (
	"net/http"
	"net/http/pprof"
)

// newDebugHandler serves Go's runtime profiles under /debug/pprof/, as
// net/http/pprof does: the index, CPU profiles (profile?seconds=N),
// execution traces (trace?seconds=N) and every named profile (heap,
// allocs, goroutine, threadcreate, block and mutex; the last two stay
// empty, as their sampling rates are left at zero to cost nothing). It is
// what an operator reaches for when a worker's CPU or memory is not what
// the metrics lead them to expect, with `go tool pprof URL`.
//
// The handlers are mounted on a mux of their own, served on DEBUG_ADDR
// only: importing net/http/pprof also registers them on
// http.DefaultServeMux, which nothing here serves, and the API's own
// listener never answers /debug/ (profiles show code paths, arguments and
// memory, and cost CPU; they have no authentication of their own).
func newDebugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}
