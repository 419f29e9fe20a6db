package pdfrender

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/render/rendertest"
)

// BenchmarkRender5000Held reports, as held-MiB, the heap the renderer holds
// once the report is laid out, just before fpdf writes the file: every
// page's content, the fonts and whatever is left of the events. Unlike a
// peak it does not depend on GC timing, and the peak follows it: with
// GOGC=100 the heap grows to about twice what is live at a collection.
func BenchmarkRender5000Held(b *testing.B) {
	evs := events(5000, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Minute)
	rep := baseReport("en", mustLoc(b, "America/New_York"))
	var held uint64
	b.ReportAllocs()
	for b.Loop() {
		base := liveAfterGC()
		r, err := New(io.Discard, rep, Options{})
		if err != nil {
			b.Fatal(err)
		}
		for i := range evs {
			if err := r.WriteEvent(&evs[i]); err != nil {
				b.Fatal(err)
			}
		}
		doc, err := r.layout()
		if err != nil {
			b.Fatal(err)
		}
		r.events = nil // as Close does
		held = max(held, liveAfterGC()-base)
		if err := doc.Output(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(held)/(1<<20), "held-MiB")
}

func liveAfterGC() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

const peakChildEnv = "PDFRENDER_PEAK_CHILD"

// BenchmarkRender5000Peak renders one 5,000-event report per iteration in a
// freshly started process, as make bench measures the worker, and reports
// the worst iteration's
//
//   - peak-heap-MiB: the largest heap at the end of a GC cycle, where the
//     heap peaks, from the runtime's gctrace, less the heap live before
//     the render;
//   - peak-rss-MiB: the process's peak RSS (VmHWM);
//   - render-rss-MiB: how much of that the render added to what the
//     process held before it.
//
// The peak is measured this way because watching the heap from a goroutine
// in the rendering process changes it: a sampler polling runtime/metrics,
// even once a millisecond, takes the CPU the idle GC worker would have had,
// marking runs longer while fpdf allocates, and the peaks it saw were about
// twice those of the process left alone. ns/op includes starting the
// process; BenchmarkPDF5000 times the render.
func BenchmarkRender5000Peak(b *testing.B) {
	if _, err := os.Stat("/proc/self/clear_refs"); err != nil {
		b.Skip("needs Linux /proc to read a process's peak RSS")
	}
	godebug := "gctrace=1"
	if v := os.Getenv("GODEBUG"); v != "" {
		godebug = v + "," + godebug
	}
	var heap, peak, render float64
	for b.Loop() {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRenderPeakChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), peakChildEnv+"=1", "GODEBUG="+godebug)
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("child: %v\n%s", err, out)
		}
		m := childRE.FindSubmatch(out)
		if m == nil {
			b.Fatalf("child output:\n%s", out)
		}
		base, _ := strconv.ParseFloat(string(m[1]), 64)
		before, _ := strconv.ParseFloat(string(m[2]), 64)
		hwm, _ := strconv.ParseFloat(string(m[3]), 64)
		top := 0.0
		for _, g := range gctraceRE.FindAllSubmatch(out, -1) {
			v, _ := strconv.ParseFloat(string(g[1]), 64)
			top = max(top, v)
		}
		heap, peak, render = max(heap, top-base), max(peak, hwm), max(render, hwm-before)
	}
	b.ReportMetric(heap, "peak-heap-MiB")
	b.ReportMetric(peak, "peak-rss-MiB")
	b.ReportMetric(render, "render-rss-MiB")
}

var (
	childRE = regexp.MustCompile(`heap-before ([0-9.]+) rss-before ([0-9.]+) hwm ([0-9.]+)`)
	// The heap at the end of each cycle: "gc 7 @0.1s 3%: ..., 18->21->12 MB, ...".
	gctraceRE = regexp.MustCompile(`(?m)^gc \d+ @.* \d+->(\d+)->\d+ MB`)
)

// TestRenderPeakChild is the process BenchmarkRender5000Peak starts.
func TestRenderPeakChild(t *testing.T) {
	if os.Getenv(peakChildEnv) == "" {
		t.Skip("run by BenchmarkRender5000Peak")
	}
	evs := events(5000, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Minute)
	rep := baseReport("en", mustLoc(t, "America/New_York"))
	heap := liveAfterGC()
	// Writing 5 resets VmHWM to the current RSS: the peak is then the
	// render's, not that of building the events.
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Fatal(err)
	}
	before := procStatusMiB(t, "VmRSS")
	r, err := New(io.Discard, rep, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rendertest.Render(t, r, evs)
	fmt.Printf("heap-before %.1f rss-before %.1f hwm %.1f\n", float64(heap)/(1<<20), before, procStatusMiB(t, "VmHWM"))
}

func procStatusMiB(t testing.TB, field string) float64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb / 1024
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}
