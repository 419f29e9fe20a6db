package main

import (
	"bytes"
	"runtime/debug"
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

// TestLinksNoEmbeddedRedis: a worker always reaches a Redis of its own
// (REDIS_URL), so it links no in-process one: miniredis and its Lua
// interpreter only added megabytes to every worker's RSS (issue 12). The
// test binary links what the worker does (package app), so its build
// information lists the same modules.
func TestLinksNoEmbeddedRedis(t *testing.T) {
	bi, ok := debug.ReadBuildInfo()
	if !ok || len(bi.Deps) == 0 {
		t.Fatal("no build information with modules in the test binary")
	}
	for _, m := range bi.Deps {
		if m.Path == "github.com/alicebob/miniredis/v2" || m.Path == "github.com/yuin/gopher-lua" {
			t.Errorf("the worker links %s (embedded mode's Redis); only cmd/api should", m.Path)
		}
	}
}
