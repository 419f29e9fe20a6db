package config

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNewLogger(t *testing.T) {
	tests := []struct {
		format   string
		level    slog.Level
		wantJSON bool
	}{
		{LogFormatJSON, slog.LevelInfo, true},
		{LogFormatText, slog.LevelInfo, false},
		{LogFormatAuto, slog.LevelInfo, true}, // a buffer is no terminal
		{LogFormatJSON, slog.LevelWarn, true},
	}
	for _, tt := range tests {
		t.Run(tt.format+"/"+tt.level.String(), func(t *testing.T) {
			c := Default()
			c.LogFormat, c.LogLevel = tt.format, tt.level
			var buf bytes.Buffer
			log := NewLogger(c, &buf)
			log.Debug("hidden")
			log.Info("info line", "export_id", "exp_1")
			log.Warn("warn line")

			out := buf.String()
			if strings.Contains(out, "hidden") {
				t.Errorf("debug line logged at %v: %s", tt.level, out)
			}
			if got := strings.Contains(out, "info line"); got != (tt.level <= slog.LevelInfo) {
				t.Errorf("info line present=%v at level %v: %s", got, tt.level, out)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			for _, l := range lines {
				isJSON := json.Valid([]byte(l))
				if isJSON != tt.wantJSON {
					t.Errorf("line %q: JSON=%v, want %v", l, isJSON, tt.wantJSON)
				}
			}
		})
	}
}

func TestNewLoggerAutoOnAFileIsJSON(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := Default()
	NewLogger(c, f).Info("hello")
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(bytes.TrimSpace(b)) {
		t.Errorf("auto on a regular file wrote %q, want JSON", b)
	}
}
