package export

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // any IANA zone works without the host's zoneinfo
	"unicode/utf8"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/i18n"
)

// Limits on a request's size. They keep one request from turning into a
// query with thousands of bind parameters.
const (
	MaxValuesPerParam = 100
	MaxValueLength    = 256
	MaxMetadataValues = 100
)

// Validate checks canonical-ready params and fills defaults (file type csv,
// locale en, time zone UTC). Every error names the parameter at fault.
func Validate(p audit.ExportParams) (audit.ExportParams, error) {
	switch p.FileType {
	case "":
		p.FileType = audit.FileCSV
	case audit.FileCSV, audit.FilePDF, audit.FileNDJSON, audit.FileParquet:
	default:
		return p, &audit.Error{Code: audit.EINVALID, Param: "file_type", Allowed: audit.FileTypes,
			Message: fmt.Sprintf("file_type %q is not supported; use %s", p.FileType, strings.Join(audit.FileTypes, ", "))}
	}
	if err := validateOptions(p); err != nil {
		return p, err
	}
	if p.Locale == "" {
		p.Locale = "en"
	}
	if !i18n.IsSupported(p.Locale) {
		return p, &audit.Error{Code: audit.EINVALID, Param: "locale", Allowed: i18n.Supported(),
			Message: fmt.Sprintf("locale %q is not supported; supported locales: %s", p.Locale,
				strings.Join(i18n.Supported(), ", "))}
	}
	if p.Timezone == "" {
		p.Timezone = "UTC"
	}
	// A paper size is checked whatever the file type, so a typo is never
	// silently ignored; a CSV has no pages, and its canonical form drops
	// the paper (a CSV request with and without one is the same export).
	switch audit.Paper(strings.ToLower(string(p.Paper))) {
	case "", audit.PaperA4, audit.PaperLetter:
	default:
		return p, &audit.Error{Code: audit.EINVALID, Param: "paper", Allowed: audit.Papers,
			Message: fmt.Sprintf("paper %q is not supported; use a4 (the default) or letter", p.Paper)}
	}
	if _, err := LoadLocation(p.Timezone); err != nil {
		return p, err
	}
	f := p.Filter
	lists := []struct {
		name string
		vals []string
	}{
		{"auditee_id", f.AuditeeIDs}, {"event_type", f.EventTypes},
		{"sub_type", f.SubTypes}, {"system_source", f.SystemSources},
	}
	for _, l := range lists {
		if err := checkValues(l.name, l.vals, MaxValuesPerParam); err != nil {
			return p, err
		}
	}
	total := 0
	for k, vs := range f.Metadata {
		param := "metadata[" + k + "]"
		if !audit.IsMetadataKey(k) {
			return p, &audit.Error{Code: audit.EINVALID, Param: param, Allowed: audit.MetadataKeys,
				Message: fmt.Sprintf("metadata key %q cannot be filtered on; filterable keys: %s", k,
					strings.Join(audit.MetadataKeys, ", "))}
		}
		if len(vs) == 0 {
			return p, audit.Invalid(param, "%s needs a value", param)
		}
		if err := checkValues(param, vs, MaxMetadataValues); err != nil {
			return p, err
		}
		total += len(vs)
	}
	if total > MaxMetadataValues {
		return p, audit.Invalid("metadata", "at most %d metadata values in one request, got %d", MaxMetadataValues, total)
	}
	for _, r := range []struct {
		name string
		t    *time.Time
	}{{"range_start", f.RangeStart}, {"range_end", f.RangeEnd}} {
		if r.t != nil {
			if err := checkYear(r.name, *r.t); err != nil {
				return p, err
			}
		}
	}
	if f.RangeStart != nil && f.RangeEnd != nil && f.RangeStart.After(*f.RangeEnd) {
		return p, audit.Invalid("range_start", "range_start (%s) is later than range_end (%s)",
			f.RangeStart.UTC().Format(time.RFC3339Nano), f.RangeEnd.UTC().Format(time.RFC3339Nano))
	}
	return p.Canonical(), nil
}

// validateOptions checks the file options (bom, delimiter, columns,
// compression) against the file type. An option a format would ignore is
// refused rather than ignored: two requests that differ only by it would
// otherwise be different exports of the same bytes, and a client would
// believe it had what it asked for.
func validateOptions(p audit.ExportParams) error {
	if p.BOM && p.FileType != audit.FileCSV {
		return audit.Invalid("bom", "bom applies to file_type=csv only, not %s", p.FileType)
	}
	if p.Delimiter != "" {
		if _, ok := audit.Delimiters[p.Delimiter]; !ok {
			return &audit.Error{Code: audit.EINVALID, Param: "delimiter", Allowed: []string{"comma", "semicolon", "tab"},
				Message: fmt.Sprintf("delimiter %q is not supported; use comma, semicolon or tab", p.Delimiter)}
		}
		if p.FileType != audit.FileCSV {
			return audit.Invalid("delimiter", "delimiter applies to file_type=csv only, not %s", p.FileType)
		}
	}
	if len(p.Columns) > 0 {
		if p.FileType == audit.FilePDF {
			return audit.Invalid("columns", "columns does not apply to file_type=pdf: its layout is fixed")
		}
		seen := make(map[string]bool, len(p.Columns))
		for _, c := range p.Columns {
			if audit.ColumnIndex(c) < 0 {
				return &audit.Error{Code: audit.EINVALID, Param: "columns", Allowed: audit.ColumnNames,
					Message: fmt.Sprintf("column %q is not one of: %s", c, strings.Join(audit.ColumnNames, ", "))}
			}
			if seen[c] {
				return audit.Invalid("columns", "column %q is named twice", c)
			}
			seen[c] = true
		}
	}
	switch p.Compression {
	case audit.CompressNone, "none":
	case audit.CompressGzip, audit.CompressZstd:
		if p.FileType != audit.FileCSV && p.FileType != audit.FileNDJSON {
			return audit.Invalid("compression", "compression applies to csv and ndjson; a %s file is compressed inside", p.FileType)
		}
	default:
		return &audit.Error{Code: audit.EINVALID, Param: "compression", Allowed: audit.Compressions,
			Message: fmt.Sprintf("compression %q is not supported; use gzip or zstd", p.Compression)}
	}
	return nil
}

func checkValues(param string, vals []string, max int) error {
	if len(vals) > max {
		return audit.Invalid(param, "at most %d values for %s, got %d", max, param, len(vals))
	}
	for _, v := range vals {
		if v == "" {
			return audit.Invalid(param, "%s values must not be empty (an empty value would match nothing you meant)", param)
		}
		if len(v) > MaxValueLength {
			return audit.Invalid(param, "%s values are at most %d bytes", param, MaxValueLength)
		}
		if !utf8.ValidString(v) {
			// Stored and compared as text, it would be rewritten to U+FFFD
			// and match something other than what was sent.
			return audit.Invalid(param, "%s values must be valid UTF-8 (percent-encode the UTF-8 bytes of the text)", param)
		}
		for _, r := range v {
			if r < 0x20 || r == 0x7f {
				return audit.Invalid(param, "%s values must not contain control characters", param)
			}
		}
	}
	return nil
}

// LoadLocation resolves an IANA zone name with the embedded tz database.
// "Local" is refused: it would mean the server's zone, which no client can
// know.
func LoadLocation(name string) (*time.Location, error) {
	if name == "" || name == "UTC" {
		return time.UTC, nil
	}
	if name == "Local" || strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		return nil, audit.Invalid("timezone", "timezone %q is not an IANA time zone identifier such as America/New_York", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, audit.Invalid("timezone", "timezone %q is not an IANA time zone identifier such as America/New_York", name)
	}
	return loc, nil
}

// ParseTime parses a range bound: an ISO 8601 / RFC 3339 date-time with a
// Z or numeric offset, with or without fractional seconds. It returns UTC.
func ParseTime(param, s string) (time.Time, error) {
	// A '+' offset that was not percent-encoded arrives as a space.
	if i := strings.LastIndexByte(s, ' '); i > 10 {
		s = s[:i] + "+" + s[i+1:]
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, audit.Invalid(param,
			"%s %q is not an ISO 8601 date-time; use e.g. 2026-04-10T00:00:00.000Z, or with an offset "+
				"2026-04-10T02:00:00+02:00 (converted to UTC)", param, s)
	}
	t = t.UTC().Truncate(audit.TimePrecision)
	if err := checkYear(param, t); err != nil {
		return time.Time{}, err
	}
	return t, nil
}

// checkYear refuses a time outside years 1-9999 in UTC. An offset can push a
// date that parsed into year 0 or 10000, which RFC 3339 (and so JSON, the
// manifest and the CSV) cannot write.
func checkYear(param string, t time.Time) error {
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return audit.Invalid(param, "%s falls in year %d in UTC; it must lie within years 1 to 9999", param, y)
	}
	return nil
}
