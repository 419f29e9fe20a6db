package i18n

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

func TestSupported(t *testing.T) {
	want := []string{"de", "en", "es", "fr", "it", "nl", "pt"}
	if got := Supported(); !slices.Equal(got, want) {
		t.Fatalf("Supported() = %v, want %v", got, want)
	}
	Supported()[0] = "xx" // a copy: callers cannot corrupt it
	if Supported()[0] != "de" {
		t.Fatal("Supported returned the package's own slice")
	}
	for _, c := range want {
		if !IsSupported(c) {
			t.Errorf("IsSupported(%q) = false", c)
		}
		cat, ok := Lookup(c)
		if !ok || cat.Code() != c {
			t.Errorf("Lookup(%q) = %v, %v", c, cat, ok)
		}
	}
	for _, c := range []string{"", "EN", "en-US", "en_US", "xx", "eng", " en"} {
		if IsSupported(c) {
			t.Errorf("IsSupported(%q) = true", c)
		}
		if _, ok := Lookup(c); ok {
			t.Errorf("Lookup(%q) ok", c)
		}
	}
}

// TestCatalogsComplete fails when a locale lacks a key English has, or has
// one English lacks: every word must exist in every language.
func TestCatalogsComplete(t *testing.T) {
	en := localeEN
	for _, l := range locales {
		for k := range en.texts {
			if v, ok := l.texts[k]; !ok || strings.TrimSpace(v) == "" {
				t.Errorf("%s: missing or empty text %q", l.code, k)
			}
		}
		for k := range l.texts {
			if _, ok := en.texts[k]; !ok {
				t.Errorf("%s: text %q is not in en", l.code, k)
			}
		}
		for k := range en.plurals {
			p, ok := l.plurals[k]
			if !ok || p.One == "" || p.Other == "" {
				t.Errorf("%s: missing or incomplete plural %q", l.code, k)
			}
		}
		for k := range l.plurals {
			if _, ok := en.plurals[k]; !ok {
				t.Errorf("%s: plural %q is not in en", l.code, k)
			}
		}
		for i, m := range l.months {
			if m == "" {
				t.Errorf("%s: month %d has no name", l.code, i+1)
			}
		}
		// Formats must take the same verbs as English, or a translation
		// would print %!s(MISSING) or drop a value.
		for k, v := range en.texts {
			if got, want := verbs(l.texts[k]), verbs(v); got != want {
				t.Errorf("%s: %q has verbs %q, en has %q", l.code, k, got, want)
			}
		}
		if l.paper != "A4" && l.paper != "Letter" {
			t.Errorf("%s: paper %q", l.code, l.paper)
		}
	}
	for _, k := range audit.MetadataKeys {
		if _, ok := en.texts["field.metadata."+k]; !ok {
			t.Errorf("en: no column name for metadata key %q", k)
		}
	}
}

func verbs(s string) string {
	var b strings.Builder
	for i := 0; i < len(s)-1; i++ {
		if s[i] == '%' {
			b.WriteByte(s[i+1])
			i++
		}
	}
	return b.String()
}

func TestFormatInt(t *testing.T) {
	tests := []struct {
		code string
		n    int64
		want string
	}{
		{"en", 1234, "1,234"},
		{"en", 5000, "5,000"},
		{"en", -1234567, "-1,234,567"},
		{"en", 12, "12"},
		{"de", 1234, "1.234"},
		{"fr", 1234, "1\u00a0234"},
		{"es", 1234567, "1.234.567"},
		{"nl", 1234, "1.234"},
		{"it", 1234, "1.234"},
		{"pt", 1234, "1.234"},
	}
	for _, tt := range tests {
		c, _ := Lookup(tt.code)
		if got := c.FormatInt(tt.n); got != tt.want {
			t.Errorf("%s FormatInt(%d) = %q, want %q", tt.code, tt.n, got, tt.want)
		}
	}
}

func TestPlural(t *testing.T) {
	tests := []struct {
		code string
		n    int
		want string
	}{
		{"en", 0, "0 events"},
		{"en", 1, "1 event"},
		{"en", 2, "2 events"},
		{"en", 1234, "1,234 events"},
		{"de", 1, "1 Ereignis"},
		{"de", 5000, "5.000 Ereignisse"},
		{"fr", 0, "0 événement"}, // CLDR: 0 is "one" in French
		{"fr", 1, "1 événement"},
		{"fr", 2, "2 événements"},
		{"fr", 1234, "1\u00a0234 événements"},
		{"nl", 3, "3 gebeurtenissen"},
	}
	for _, tt := range tests {
		c, _ := Lookup(tt.code)
		if got := c.T("report.event_count", tt.n); got != tt.want {
			t.Errorf("%s T(event_count, %d) = %q, want %q", tt.code, tt.n, got, tt.want)
		}
	}
}

func TestT(t *testing.T) {
	en, _ := Lookup("en")
	de, _ := Lookup("de")
	if got := en.T("report.page", "3", "7"); got != "Page 3 of 7" {
		t.Errorf("en page = %q", got)
	}
	if got := de.T("report.page", "3", "7"); got != "Seite 3 von 7" {
		t.Errorf("de page = %q", got)
	}
	if got := de.T("field.metadata.tag"); got != "Schlagwort" {
		t.Errorf("de tag = %q", got)
	}
	if got := de.T("no.such.key"); got != "no.such.key" {
		t.Errorf("unknown key = %q", got)
	}
}

func TestFormatTime(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	dubai, _ := time.LoadLocation("Asia/Dubai")
	stJohns, _ := time.LoadLocation("America/St_Johns")
	at := time.Date(2026, 4, 10, 12, 0, 0, 500_000_000, time.UTC)
	tests := []struct {
		code string
		t    time.Time
		loc  *time.Location
		want string
	}{
		{"en", at, ny, "10 Apr 2026, 08:00:00 EDT"},
		{"en", at, nil, "10 Apr 2026, 12:00:00 UTC"},
		{"en", at, time.UTC, "10 Apr 2026, 12:00:00 UTC"},
		{"de", at, berlin, "10. Apr. 2026, 14:00:00 CEST"},
		{"fr", at, berlin, "10 avr. 2026, 14:00:00 CEST"},
		{"es", at, ny, "10 abr 2026, 08:00:00 EDT"},
		{"pt", at, ny, "10 de abr. de 2026, 08:00:00 EDT"},
		{"it", at, ny, "10 apr 2026, 08:00:00 EDT"},
		{"nl", at, ny, "10 apr 2026, 08:00:00 EDT"},
		{"de", time.Date(2026, 3, 1, 9, 5, 7, 0, time.UTC), berlin, "1. März 2026, 10:05:07 CET"},
		// DST: New York springs forward at 2026-03-08 07:00 UTC.
		{"en", time.Date(2026, 3, 8, 6, 59, 59, 0, time.UTC), ny, "8 Mar 2026, 01:59:59 EST"},
		{"en", time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC), ny, "8 Mar 2026, 03:00:00 EDT"},
		// Berlin at 2026-03-29 01:00 UTC.
		{"de", time.Date(2026, 3, 29, 0, 59, 59, 0, time.UTC), berlin, "29. März 2026, 01:59:59 CET"},
		{"de", time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC), berlin, "29. März 2026, 03:00:00 CEST"},
		// Zones without letters in the database.
		{"en", at, dubai, "10 Apr 2026, 16:00:00 UTC+04"},
		{"en", at, stJohns, "10 Apr 2026, 09:30:00 NDT"},
		{"en", at, time.FixedZone("", -(3*3600 + 30*60)), "10 Apr 2026, 08:30:00 UTC\u221203:30"},
	}
	for _, tt := range tests {
		c, _ := Lookup(tt.code)
		if got := c.FormatTime(tt.t, tt.loc); got != tt.want {
			t.Errorf("%s FormatTime(%s, %v) = %q, want %q", tt.code, tt.t, tt.loc, got, tt.want)
		}
	}
}

func TestCompilePatternErrors(t *testing.T) {
	for _, p := range []string{"", "{d", "{x}", "{yyyy} {MMMM}"} {
		if _, err := compilePattern(p); err == nil {
			t.Errorf("compilePattern(%q) succeeded", p)
		}
	}
}

// Catalogues are shared by concurrent exports.
func TestConcurrentUse(t *testing.T) {
	var wg sync.WaitGroup
	for _, code := range Supported() {
		c, _ := Lookup(code)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 200 {
					_ = c.T("report.event_count", i)
					_ = c.FormatInt(int64(i * 1000))
					_ = c.FormatTime(time.Unix(int64(i)*86400, 0), time.UTC)
				}
			}()
		}
	}
	wg.Wait()
}

func TestFormatTimeParts(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	at := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	want := map[string][2]string{
		"en": {"10 Apr 2026", "08:00:00 EDT"},
		"de": {"10. Apr. 2026", "08:00:00 EDT"},
		"pt": {"10 de abr. de 2026", "08:00:00 EDT"},
	}
	for code, w := range want {
		c, _ := Lookup(code)
		d, clk := c.FormatTimeParts(at, ny)
		if d != w[0] || clk != w[1] {
			t.Errorf("%s FormatTimeParts = %q, %q; want %q, %q", code, d, clk, w[0], w[1])
		}
	}
}
