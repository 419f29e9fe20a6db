package app_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/auditsentinel/sentinel/internal/app"
	"github.com/auditsentinel/sentinel/internal/config"
	"github.com/auditsentinel/sentinel/internal/testenv"
)

// TestEnvHelpListsEveryVariable: api -h and worker -h print app.EnvHelp,
// so it must name every variable the binaries read — each one config.FromEnv
// asks for, and each literal os.Getenv/os.LookupEnv (or cmd's getenv) in
// the code they are built from.
func TestEnvHelpListsEveryVariable(t *testing.T) {
	t.Parallel()
	read := map[string]string{} // variable -> who reads it
	if _, err := config.FromEnv(func(k string) string {
		read[k] = "config.FromEnv"
		return ""
	}); err != nil {
		t.Fatalf("config on an empty environment: %v", err)
	}
	if len(read) < 20 {
		t.Fatalf("config.FromEnv read only %d variables; the recording getenv is not seeing them", len(read))
	}
	root := testenv.ModuleRoot(t)
	call := regexp.MustCompile(`(?:os\.Getenv|os\.LookupEnv|\bgetenv)\("([A-Z][A-Z0-9_]*)"\)`)
	found := 0
	for _, dir := range []string{"cmd/api", "cmd/worker", "internal"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			if d.IsDir() {
				// Test helpers read TEST_* variables the binaries never see.
				if rel == filepath.Join("internal", "testenv") || d.Name() == "testdata" {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range call.FindAllStringSubmatch(string(src), -1) {
				found++
				read[m[1]] = rel
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if found == 0 {
		t.Fatal("no os.Getenv call found in the source; the scan is broken")
	}
	for k, who := range read {
		if !regexp.MustCompile(`\b` + k + `\b`).MatchString(app.EnvHelp) {
			t.Errorf("%s (read by %s) is missing from app.EnvHelp", k, who)
		}
	}
}

// TestDeployReadmeListsEveryVariable: deploy/README.md's variable table is
// the long version of EnvHelp (defaults, accepted values, which binary),
// so every variable config.FromEnv reads has a row there, or is named in
// one (the AWS SDK's under AWS_*). METRICS_ADDR had none until a reader
// went looking for it.
func TestDeployReadmeListsEveryVariable(t *testing.T) {
	t.Parallel()
	read := map[string]bool{}
	if _, err := config.FromEnv(func(k string) string {
		read[k] = true
		return ""
	}); err != nil {
		t.Fatalf("config on an empty environment: %v", err)
	}
	doc, err := os.ReadFile(filepath.Join(testenv.ModuleRoot(t), "deploy", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var rows strings.Builder
	for line := range strings.Lines(string(doc)) {
		if strings.HasPrefix(line, "| `") {
			rows.WriteString(line)
		}
	}
	if rows.Len() == 0 {
		t.Fatal("deploy/README.md has no variable table rows (| `NAME` | …)")
	}
	for k := range read {
		if !strings.Contains(rows.String(), "`"+k+"`") {
			t.Errorf("%s (read by config.FromEnv) has no row in deploy/README.md's variable table", k)
		}
	}
}
