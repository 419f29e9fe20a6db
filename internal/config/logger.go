package config

import (
	"io"
	"log/slog"

	"github.com/mattn/go-isatty"
)

// NewLogger returns a logger writing to w at cfg.LogLevel, as JSON or as
// text per cfg.LogFormat. "auto" picks text when w is a terminal (a person
// is reading) and JSON otherwise (a collector is).
func NewLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if useText(cfg.LogFormat, w) {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func useText(format string, w io.Writer) bool {
	switch format {
	case LogFormatText:
		return true
	case LogFormatJSON:
		return false
	}
	return isTerminal(w)
}

// isTerminal reports whether w is a terminal; anything that is not a file
// (a buffer, a pipe wrapper) is not.
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	if !ok {
		return false
	}
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}
