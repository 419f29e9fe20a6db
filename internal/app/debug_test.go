package app_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/auditsentinel/sentinel/internal/app/apptest"
)

// TestDebugProfiles: with DEBUG_ADDR both the api and a separate worker
// serve Go's profiles there, on a listener of their own; the API's port
// never answers /debug/.
func TestDebugProfiles(t *testing.T) {
	t.Parallel()
	env := apptest.Boot(t, apptest.Options{Database: "sqlite", Storage: "file",
		Env: map[string]string{"DEBUG_ADDR": "127.0.0.1:0"}})
	get := func(url string) (int, []byte) {
		t.Helper()
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, b
	}
	for name, addr := range map[string]string{"api": env.Main.DebugAddr(), "worker": env.WorkerMain.DebugAddr()} {
		if addr == "" || addr == env.Main.Addr() {
			t.Fatalf("%s: debug address %q (the API listens on %s)", name, addr, env.Main.Addr())
		}
		base := "http://" + addr + "/debug/pprof/"
		if code, b := get(base); code != http.StatusOK || !strings.Contains(string(b), "goroutine") {
			t.Errorf("%s: index %d %.200s", name, code, b)
		}
		// A text profile names the process's own code.
		if code, b := get(base + "goroutine?debug=1"); code != http.StatusOK ||
			!strings.Contains(string(b), "github.com/auditsentinel/sentinel/internal/app") {
			t.Errorf("%s: goroutine profile %d %.200s", name, code, b)
		}
		if code, b := get(base + "heap?debug=1"); code != http.StatusOK || !strings.Contains(string(b), "heap profile") {
			t.Errorf("%s: heap profile %d %.200s", name, code, b)
		}
		// A CPU profile is gzipped protobuf, what go tool pprof reads.
		code, b := get(base + "profile?seconds=1")
		if code != http.StatusOK {
			t.Fatalf("%s: CPU profile %d %.200s", name, code, b)
		}
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: CPU profile is not gzip: %v", name, err)
		}
		if raw, err := io.ReadAll(zr); err != nil || len(raw) == 0 {
			t.Errorf("%s: CPU profile: %d bytes, %v", name, len(raw), err)
		}
	}
	for _, p := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/cmdline"} {
		if code, _ := get(env.URL + p); code != http.StatusNotFound {
			t.Errorf("the API's listener answers %s with %d, want 404", p, code)
		}
	}
}
