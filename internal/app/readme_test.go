package app_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/auditsentinel/sentinel/internal/app/apptest"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

// TestREADMEFirstDay: what a newcomer reads first is true. The README
// names the reference document, states the Go version go.mod asks for,
// says how long the first demo start takes, and its example ingest and
// schedule bodies, sent as written, are accepted.
func TestREADMEFirstDay(t *testing.T) {
	t.Parallel()
	root := testenv.ModuleRoot(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+(?:\.\d+)?)$`).FindSubmatch(gomod)
	if goVersion == nil {
		t.Fatal("no go line in go.mod")
	}
	for _, want := range []string{"export-audit-events.txt", "Go " + minor(string(goVersion[1])),
		string(goVersion[1]), "about a minute", "within a second"} {
		if !bytes.Contains(readme, []byte(want)) {
			t.Errorf("README.md does not say %q", want)
		}
	}

	// Benchmark internals live in bench/README.md; the README keeps the
	// figures.
	bench, err := os.ReadFile(filepath.Join(root, "bench", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(readme, []byte("| measurement | result | target |")) {
		t.Error("README.md lost the benchmark figures table")
	}
	for _, moved := range []string{"Where the CPU goes", "Why (a) trails (b)", "What changed this round"} {
		if bytes.Contains(readme, []byte(moved)) || !bytes.Contains(bench, []byte(moved)) {
			t.Errorf("%q belongs in bench/README.md, not README.md", moved)
		}
	}

	// The bodies of the README's curl --data '…' examples, by path.
	bodies := map[string]string{}
	for _, m := range regexp.MustCompile(`(?s)curl -X POST http://localhost:8080(\S+) .*?--data '\n(.*?)'\n`).FindAllSubmatch(readme, -1) {
		bodies[string(m[1])] = string(m[2])
	}
	env := apptest.Boot(t, apptest.Options{Database: "sqlite", Storage: "file", NoWorker: true})
	key := env.Key("acme")
	for path, status := range map[string]int{
		"/v5/audit-sentinel/events":           http.StatusOK,
		"/v5/audit-sentinel/export-schedules": http.StatusCreated,
	} {
		body, ok := bodies[path]
		if !ok {
			t.Errorf("README.md has no curl -X POST example for %s (found %d examples)", path, len(bodies))
			continue
		}
		res, got := env.Do(http.MethodPost, path, key, strings.NewReader(body), "Content-Type", "application/json")
		if res.StatusCode != status {
			t.Errorf("README's example for %s: %d %s\nbody:\n%s", path, res.StatusCode, got, body)
		}
	}
}

// minor is "1.26" of "1.26.8".
func minor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}
