package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/auditsentinel/sentinel/internal/app"
)

// TestHelp: -h exits 0 and prints every environment variable
// (app.EnvHelp, which its own test keeps complete).
func TestHelp(t *testing.T) {
	var errb bytes.Buffer
	if code := run(t.Context(), []string{"-h"}, func(string) string { return "" }, &errb); code != 0 {
		t.Fatalf("worker -h: exit %d, want 0; stderr:\n%s", code, errb.String())
	}
	if !strings.Contains(errb.String(), app.EnvHelp) {
		t.Errorf("worker -h does not print every variable; it printed:\n%s", errb.String())
	}
}

// TestNeedsRedis: a separate worker on the embedded default would take
// tasks from a Redis nobody else sees; it stops with exit 2 naming
// REDIS_URL instead.
func TestNeedsRedis(t *testing.T) {
	var errb bytes.Buffer
	if code := run(t.Context(), nil, func(string) string { return "" }, &errb); code != 2 ||
		!strings.Contains(errb.String(), "REDIS_URL") {
		t.Errorf("worker without REDIS_URL: exit %d, want 2 naming REDIS_URL; stderr: %s", code, errb.String())
	}
}
