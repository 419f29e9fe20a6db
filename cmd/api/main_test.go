package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/auditsentinel/sentinel/internal/app"
)

// TestHelp: -h exits 0 and prints the flags and every environment variable
// (app.EnvHelp, which its own test keeps complete).
func TestHelp(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(t.Context(), []string{"-h"}, func(string) string { return "" }, &out, &errb)
	if code != 0 {
		t.Fatalf("api -h: exit %d, want 0; stderr:\n%s", code, errb.String())
	}
	for _, want := range []string{"-demo", "-addr ADDR", app.EnvHelp} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("api -h does not print %q; it printed:\n%s", want, errb.String())
		}
	}
}

// TestBadInvocationExits2: a flag it does not know and a bad variable both
// exit 2 before anything starts, naming what was wrong.
func TestBadInvocationExits2(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"-nope"}, func(string) string { return "" }, &out, &errb); code != 2 {
		t.Errorf("api -nope: exit %d, want 2", code)
	}
	errb.Reset()
	env := map[string]string{"EXPORT_WAIT": "forever"}
	if code := run(t.Context(), nil, func(k string) string { return env[k] }, &out, &errb); code != 2 ||
		!strings.Contains(errb.String(), "EXPORT_WAIT") {
		t.Errorf("EXPORT_WAIT=forever: exit %d, want 2 naming the variable; stderr: %s", code, errb.String())
	}
}
