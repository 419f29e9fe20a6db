package console

import (
	"io/fs"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/i18n"
)

// verbs are a message's fmt verbs in order: a translation that drops,
// adds or reorders one would print %!s(MISSING) or the wrong value.
var verbs = regexp.MustCompile(`%[-+# 0]*[0-9]*(?:\.[0-9]+)?[a-zA-Z%]`)

// TestCatalogsAgree: the console speaks exactly the exports' locales, and
// every language has every English key, no other key, a non-empty text
// and the same verbs in the same order.
func TestCatalogsAgree(t *testing.T) {
	if got, want := slices.Sorted(maps.Keys(catalogs)), i18n.Supported(); !slices.Equal(got, want) {
		t.Fatalf("console languages %v, export locales %v", got, want)
	}
	if got, want := slices.Sorted(maps.Keys(languageNames)), i18n.Supported(); !slices.Equal(got, want) {
		t.Errorf("language names for %v, want %v", got, want)
	}
	for lang, cat := range catalogs {
		for key, msg := range en {
			tr, ok := cat[key]
			switch {
			case !ok:
				t.Errorf("%s: missing %q (en: %q)", lang, key, msg)
			case strings.TrimSpace(tr) == "":
				t.Errorf("%s: %q is empty", lang, key)
			case !slices.Equal(verbs.FindAllString(tr, -1), verbs.FindAllString(msg, -1)):
				t.Errorf("%s: %q has verbs %q, en has %q", lang, key, verbs.FindAllString(tr, -1), verbs.FindAllString(msg, -1))
			}
		}
		for key := range cat {
			if _, ok := en[key]; !ok {
				t.Errorf("%s: %q is not an English key", lang, key)
			}
		}
	}
}

// TestEveryKeyUsedExists reads the templates and the Go code for the keys
// they translate, literal and built (status.%s, window.%s, …), and checks
// English has each: a missing key would show as the key itself.
func TestEveryKeyUsedExists(t *testing.T) {
	used := map[string]bool{}
	literal := regexp.MustCompile(`\.T "([a-z_.0-9]+)"|\bT\("([a-z_.0-9]+)"`)
	built := regexp.MustCompile(`T \(printf "([a-z_.]+)%s" [^)]*\)|T\("([a-z_.]+)" \+`)
	read := func(name string, b []byte) {
		for _, m := range literal.FindAllStringSubmatch(string(b), -1) {
			if key := m[1] + m[2]; !strings.HasSuffix(key, ".") { // a prefix: built below
				used[key] = true
			}
		}
		for _, m := range built.FindAllStringSubmatch(string(b), -1) {
			prefix := m[1] + m[2]
			var family []string
			switch prefix {
			case "status.":
				for _, s := range []audit.ExportStatus{audit.StatusQueued, audit.StatusRunning, audit.StatusCompleted,
					audit.StatusFailed, audit.StatusExpired} {
					family = append(family, string(s))
				}
			case "window.":
				for _, k := range audit.WindowKinds {
					family = append(family, string(k))
				}
			case "export.":
				family = listFields
			case "delimiter.":
				family = []string{"comma", "semicolon", "tab"}
			case "signature.":
				family = []string{string(sigDisabled), string(sigInvalid), string(sigUnchecked)}
			default:
				t.Errorf("%s: key family %q: say in this test which keys it builds", name, prefix)
			}
			for _, f := range family {
				used[prefix+f] = true
			}
		}
	}
	if err := fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templateFS, path)
		read(path, b)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	files, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f.Name(), ".go") && !strings.HasSuffix(f.Name(), "_test.go") {
			b, err := os.ReadFile(f.Name())
			if err != nil {
				t.Fatal(err)
			}
			read(f.Name(), b)
		}
	}
	for d := range 7 {
		used["day."+string(rune('0'+d))] = true
	}
	if len(used) < 50 {
		t.Fatalf("found only %d keys in use: the patterns no longer match the code", len(used))
	}
	for key := range used {
		if _, ok := en[key]; !ok {
			t.Errorf("%q is used but not in the catalogues", key)
		}
	}
}

func TestNegotiate(t *testing.T) {
	for _, c := range []struct{ header, want string }{
		{"", "en"},
		{"de-DE,de;q=0.9,en;q=0.8", "de"},
		{"pt-BR", "pt"},
		{"ja, fr;q=0.5", "fr"},
		{"en;q=0.4, nl;q=0.9", "nl"},
		{"it;q=0, es;q=0.2", "es"},
		{"xx, yy", "en"},
		{"FR-ca", "fr"},
		{"de;q=abc, it", "it"},
	} {
		if got := negotiate(c.header); got != c.want {
			t.Errorf("negotiate(%q) = %q, want %q", c.header, got, c.want)
		}
	}
}
