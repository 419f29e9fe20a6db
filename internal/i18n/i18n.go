// Package i18n holds the wording of exported files in every supported
// language: one catalogue per locale (locale_xx.go), with CSV column names,
// PDF labels, filter names, month names and the date-time pattern.
//
// Locale codes are two-letter ISO 639-1 codes in lower case. They name a
// language, not a region, so there is no en-US: every locale prints on A4
// (see Catalog.Paper).
//
// Numbers and plurals are formatted with golang.org/x/text (CLDR data):
// 1,234 in en, 1.234 in de, 1 234 (no-break space) in fr. Messages are
// fmt-style formats; a %d argument is formatted the locale's way.
//
// Times (Catalog.FormatTime) use a per-locale pattern with abbreviated month
// names and a 24-hour clock, followed by the time zone abbreviation of the
// IANA database as Go reports it (EDT, CET, CEST, UTC). Abbreviations are
// not translated (de prints CEST, not MESZ): they are the same in every
// locale, which keeps reports comparable, and match the CSV offsets. Zones
// the database gives no letters for (Asia/Dubai is "+04") print as UTC+04.
package i18n

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // zones resolve without the host's zoneinfo

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
	"golang.org/x/text/number"
)

// Plural is a message whose wording depends on a count. One is used where
// the locale's CLDR rule says "one" (1 in en and de; 0 and 1 in fr and pt),
// Other for every other count. Both hold one %d verb for the count.
type Plural struct {
	One, Other string
}

// locale is the definition of one catalogue, written in locale_xx.go.
type locale struct {
	code  string
	tag   language.Tag
	paper string
	// months are abbreviated month names, January first.
	months [12]string
	// texts maps a key to a fmt-style message. "format.datetime" is the
	// date-time pattern (see compilePattern).
	texts   map[string]string
	plurals map[string]Plural
}

// locales lists every catalogue; add a locale_xx.go and an entry here.
var locales = []*locale{&localeEN, &localeES, &localeFR, &localeDE, &localePT, &localeIT, &localeNL}

// Catalog is the wording of one locale. It is immutable and safe for
// concurrent use.
type Catalog struct {
	def     *locale
	printer *message.Printer
	pattern []token
}

var (
	catalogs  = map[string]*Catalog{}
	supported []string
)

func init() {
	b := catalog.NewBuilder(catalog.Fallback(language.English))
	for _, l := range locales {
		for k, v := range l.texts {
			if err := b.SetString(l.tag, k, v); err != nil {
				panic("i18n: " + l.code + ": " + k + ": " + err.Error())
			}
		}
		for k, p := range l.plurals {
			msg := plural.Selectf(1, "%d", "one", p.One, "other", p.Other)
			if err := b.Set(l.tag, k, msg); err != nil {
				panic("i18n: " + l.code + ": " + k + ": " + err.Error())
			}
		}
	}
	for _, l := range locales {
		pat, err := compilePattern(l.texts["format.datetime"])
		if err != nil {
			panic("i18n: " + l.code + ": format.datetime: " + err.Error())
		}
		catalogs[l.code] = &Catalog{def: l, printer: message.NewPrinter(l.tag, message.Catalog(b)), pattern: pat}
		supported = append(supported, l.code)
	}
	sort.Strings(supported)
}

// Supported returns the supported locale codes, sorted. The slice is a copy.
func Supported() []string { return slices.Clone(supported) }

// IsSupported reports whether code is a supported locale code. Codes are
// exact: "EN" and "en-US" are not supported.
func IsSupported(code string) bool {
	_, ok := catalogs[code]
	return ok
}

// Lookup returns the catalogue of code.
func Lookup(code string) (*Catalog, bool) {
	c, ok := catalogs[code]
	return c, ok
}

// Code returns the locale code of c, such as "de".
func (c *Catalog) Code() string { return c.def.code }

// Paper returns the paper size reports in this locale print on, "A4" or
// "Letter". Every current locale is a language without a region, so all use
// A4, the ISO size; Letter belongs to region variants such as en-US that
// the API does not accept.
func (c *Catalog) Paper() string { return c.def.paper }

// T returns the message of key formatted with args. A %d argument is
// formatted as a localized number, and a Plural picks its form by the first
// argument. A key the catalogue lacks (which the catalogue tests forbid)
// falls back to English, then to the key itself.
func (c *Catalog) T(key string, args ...any) string {
	_, text := c.def.texts[key]
	_, plur := c.def.plurals[key]
	if !text && !plur && c.def != &localeEN {
		return catalogs["en"].T(key, args...)
	}
	if !text && !plur {
		return key
	}
	return c.printer.Sprintf(key, args...)
}

// FormatInt formats n with the locale's digit grouping: 1,234 in en, 1.234
// in de.
func (c *Catalog) FormatInt(n int64) string {
	return c.printer.Sprint(number.Decimal(n))
}

// Month returns the abbreviated name of month m.
func (c *Catalog) Month(m time.Month) string { return c.def.months[m-1] }

// FormatTime formats t in loc as a human date-time with the zone
// abbreviation, in the locale's pattern: "10 Apr 2026, 08:00:00 EDT" in en,
// "10. Apr. 2026, 08:00:00 EDT" in de. Seconds are the finest unit shown. A
// nil loc means UTC.
func (c *Catalog) FormatTime(t time.Time, loc *time.Location) string {
	return string(c.appendTokens(nil, c.pattern, t, loc))
}

// FormatTimeParts formats t like FormatTime but returns the date and the
// clock part ("10 Apr 2026" and "08:00:00 EDT") separately, so a narrow
// table column can show them on two lines. The clock part starts at the
// hour field; the words between the two parts are left out.
func (c *Catalog) FormatTimeParts(t time.Time, loc *time.Location) (date, clock string) {
	hour := slices.IndexFunc(c.pattern, func(tok token) bool { return tok.kind == tokHour })
	if hour <= 0 {
		return "", c.FormatTime(t, loc)
	}
	end := hour
	if c.pattern[end-1].kind == tokLiteral {
		end--
	}
	return string(c.appendTokens(nil, c.pattern[:end], t, loc)), string(c.appendTokens(nil, c.pattern[hour:], t, loc))
}

func (c *Catalog) appendTokens(b []byte, pattern []token, t time.Time, loc *time.Location) []byte {
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	for _, tok := range pattern {
		switch tok.kind {
		case tokLiteral:
			b = append(b, tok.lit...)
		case tokDay:
			b = strconv.AppendInt(b, int64(t.Day()), 10)
		case tokDay2:
			b = append2(b, t.Day())
		case tokMonthName:
			b = append(b, c.Month(t.Month())...)
		case tokMonth2:
			b = append2(b, int(t.Month()))
		case tokYear:
			b = strconv.AppendInt(b, int64(t.Year()), 10)
		case tokHour:
			b = append2(b, t.Hour())
		case tokMinute:
			b = append2(b, t.Minute())
		case tokSecond:
			b = append2(b, t.Second())
		case tokZone:
			b = append(b, ZoneAbbrev(t)...)
		}
	}
	return b
}

// ZoneAbbrev returns the abbreviation of t's zone at t (EDT, CET, UTC). When
// the time zone database has no letters for it, it returns the offset as
// UTC+04 or UTC−03:30 (with a minus sign, U+2212).
func ZoneAbbrev(t time.Time) string {
	name, off := t.Zone()
	if name != "" && name[0] != '+' && name[0] != '-' {
		return name
	}
	var b strings.Builder
	b.WriteString("UTC")
	if off < 0 {
		b.WriteString("\u2212")
		off = -off
	} else {
		b.WriteByte('+')
	}
	b.Write(append2(nil, off/3600))
	if m := off % 3600 / 60; m != 0 {
		b.WriteByte(':')
		b.Write(append2(nil, m))
	}
	return b.String()
}

func append2(b []byte, n int) []byte {
	return append(b, byte('0'+n/10%10), byte('0'+n%10))
}
