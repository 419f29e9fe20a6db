package main

import (
	"io"
	"os"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
)

// progress shows a bar on a terminal and nothing otherwise, so scripts
// piping our output get clean, machine-readable streams.
type progress struct {
	bar *progressbar.ProgressBar
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// newProgress counts items (rows, events); total < 0 means unknown.
func newProgress(w io.Writer, label string, total int64) *progress {
	if !isTerminal(w) {
		return &progress{}
	}
	return &progress{bar: progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(label),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("rows"),
		progressbar.OptionThrottle(100_000_000),
		progressbar.OptionClearOnFinish(),
	)}
}

// newByteProgress counts bytes of a download.
func newByteProgress(w io.Writer, label string, total int64) *progress {
	if !isTerminal(w) {
		return &progress{}
	}
	return &progress{bar: progressbar.DefaultBytes(total, label)}
}

func (p *progress) set(n int64) {
	if p.bar != nil {
		_ = p.bar.Set64(n)
	}
}

func (p *progress) setTotal(n int64) {
	if p.bar != nil && n > 0 {
		p.bar.ChangeMax64(n)
	}
}

func (p *progress) done() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
