// Package schedule runs tenants' recurring exports. The rules are pure and
// read no clock (time is always passed in): when a schedule fires (cron in
// an IANA zone, across daylight-saving transitions; cron.go), which events
// an occurrence covers (window.go), which occurrence is due after downtime,
// and the task id that makes replicas enqueue an occurrence once. On top of
// them, the Service is what the API does with schedules (service.go) and the
// Dispatcher fires due occurrences as ordinary exports (dispatcher.go). The
// records themselves (audit.Schedule, audit.Window) belong to the domain.
package schedule

import (
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // zones must not depend on the host's tz database
	"unicode/utf8"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/webhook"
)

// Limits of a schedule's fields.
const (
	MaxNameLength    = 200 // characters
	MaxRetentionDays = 3650
)

// Validate checks the schedule's own fields; errors are audit.Invalid naming
// the field. It does not validate Params (export.Validate does, with the
// export endpoint's rules) beyond refusing a fixed range, and it checks the
// webhook URL's form only: resolving its host (webhook.CheckURL) needs the
// network and belongs to the API handler.
func Validate(s audit.Schedule) error {
	if strings.TrimSpace(s.Name) == "" {
		return audit.Invalid("name", "name is required")
	}
	if utf8.RuneCountInString(s.Name) > MaxNameLength {
		return audit.Invalid("name", "name is at most %d characters", MaxNameLength)
	}
	if !utf8.ValidString(s.Name) || strings.ContainsFunc(s.Name, isControl) {
		return audit.Invalid("name", "name must be valid UTF-8 without control characters")
	}
	loc, err := LoadLocation(s.Timezone)
	if err != nil {
		return err
	}
	if _, err := ParseCron(s.Cron, loc); err != nil {
		return err
	}
	if err := ValidateWindow(s.Window); err != nil {
		return err
	}
	if s.Params.Filter.RangeStart != nil {
		return audit.Invalid("range_start", "a schedule's range comes from its window; range_start cannot be set")
	}
	if s.Params.Filter.RangeEnd != nil {
		return audit.Invalid("range_end", "a schedule's range comes from its window; range_end cannot be set")
	}
	if s.RetentionDays < 1 || s.RetentionDays > MaxRetentionDays {
		return audit.Invalid("retention_days", "retention_days must be between 1 and %d, got %d",
			MaxRetentionDays, s.RetentionDays)
	}
	if s.MinRetentionDays < 0 || s.MinRetentionDays > audit.MaxRetentionDays {
		return audit.Invalid("min_retention_days", "min_retention_days must be from 0 to %d, got %d",
			audit.MaxRetentionDays, s.MinRetentionDays)
	}
	if s.WebhookURL != "" {
		if _, err := webhook.ParseURL(s.WebhookURL); err != nil {
			return err
		}
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// LoadLocation resolves an IANA zone name with the embedded tz database.
// It is required ("UTC" is a valid choice); "Local" is refused because it
// would mean the server's zone. Errors name "timezone".
func LoadLocation(name string) (*time.Location, error) {
	switch {
	case name == "":
		return nil, audit.Invalid("timezone", "timezone is required, e.g. Europe/Berlin or UTC")
	case name == "UTC":
		return time.UTC, nil
	case name == "Local" || strings.HasPrefix(name, "/") || strings.Contains(name, ".."):
		return nil, audit.Invalid("timezone", "timezone %q is not an IANA time zone identifier such as Europe/Berlin", name)
	}
	if loc, ok := locations.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, audit.Invalid("timezone", "timezone %q is not an IANA time zone identifier such as Europe/Berlin", name)
	}
	locations.Store(name, loc)
	return loc, nil
}

// locations caches loaded zones: a dispatcher evaluates every schedule every
// tick, and a *time.Location is immutable.
var locations sync.Map

// Compile parses the schedule's zone and cron expression.
func Compile(s audit.Schedule) (*Cron, error) {
	loc, err := LoadLocation(s.Timezone)
	if err != nil {
		return nil, err
	}
	return ParseCron(s.Cron, loc)
}

// Next returns the first occurrence strictly after after, evaluated in the
// schedule's zone (see Cron for daylight-saving rules). It returns the zero
// time for a schedule that does not Validate.
func Next(s audit.Schedule, after time.Time) time.Time {
	c, err := Compile(s)
	if err != nil {
		return time.Time{}
	}
	return c.Next(after)
}

// Range returns the inclusive events range of the occurrence (see
// WindowRange).
func Range(s audit.Schedule, occurrence time.Time) (start, end time.Time, err error) {
	loc, err := LoadLocation(s.Timezone)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	start, end = WindowRange(s.Window, occurrence, loc)
	return start, end, nil
}

// ExportParams returns the parameters of the export fired at occurrence:
// the schedule's Params with the window's range.
func ExportParams(s audit.Schedule, occurrence time.Time) (audit.ExportParams, error) {
	start, end, err := Range(s, occurrence)
	if err != nil {
		return audit.ExportParams{}, err
	}
	p := s.Params
	p.Filter.TenantID = s.TenantID
	p.Filter.RangeStart, p.Filter.RangeEnd = &start, &end
	return p.Canonical(), nil
}

// Due returns the occurrence s should fire now, if any: the latest
// occurrence at or before now that is later than both LastFiredAt and
// CreatedAt. Occurrences missed while no worker ran are therefore caught up
// once (only the latest fires) rather than once per missed tick, and a new
// schedule does not fire for times before it existed. A disabled or invalid
// schedule is never due.
//
// After firing, the caller records the returned occurrence as LastFiredAt.
// Re-enabling a paused schedule or changing its cron does not reset the
// base: the latest occurrence missed meanwhile fires once, like after
// downtime. A caller that wants otherwise advances LastFiredAt to now.
func Due(s audit.Schedule, now time.Time) (occurrence time.Time, ok bool) {
	if !s.Enabled {
		return time.Time{}, false
	}
	c, err := Compile(s)
	if err != nil {
		return time.Time{}, false
	}
	base := s.CreatedAt
	if s.LastFiredAt != nil && s.LastFiredAt.After(base) {
		base = *s.LastFiredAt
	}
	occ := c.Prev(now, base)
	if occ.IsZero() {
		return time.Time{}, false
	}
	return occ, true
}

// TaskID returns the queue task id of one occurrence of a schedule. It
// depends only on the schedule id and the occurrence instant (in UTC, to the
// second; occurrences are whole minutes), so every replica that enqueues the
// same occurrence computes the same id and the queue keeps one task.
func TaskID(scheduleID string, occurrence time.Time) string {
	return "schedule:" + scheduleID + ":" + occurrence.UTC().Format("2006-01-02T15:04:05Z")
}
