package schedule

import (
	"fmt"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// MaxWindowHours bounds last_hours: 366 days.
const MaxWindowHours = 8784

// ValidateWindow checks w. Errors name "window.kind" or "window.hours".
func ValidateWindow(w audit.Window) error {
	switch w.Kind {
	case audit.PreviousDay, audit.PreviousWeek, audit.PreviousMonth, audit.PreviousQuarter:
		if w.Hours != 0 {
			return audit.Invalid("window.hours", "window.hours is only used with window.kind last_hours")
		}
	case audit.LastHours:
		if w.Hours < 1 || w.Hours > MaxWindowHours {
			return audit.Invalid("window.hours", "window.hours must be between 1 and %d, got %d", MaxWindowHours, w.Hours)
		}
	case "":
		return &audit.Error{Code: audit.EINVALID, Param: "window.kind", Allowed: audit.WindowKinds,
			Message: "window.kind is required"}
	default:
		return &audit.Error{Code: audit.EINVALID, Param: "window.kind", Allowed: audit.WindowKinds,
			Message: fmt.Sprintf("window.kind %q is not supported", w.Kind)}
	}
	return nil
}

// WindowRange returns the events range of an export fired at occurrence, with the
// calendar computed in loc (the schedule's zone): previous_day is yesterday
// from local midnight to local midnight, previous_week the previous ISO week
// (Monday 00:00 to Monday 00:00), previous_month and previous_quarter the
// previous calendar month and quarter, last_hours the hours before
// occurrence.
//
// start is inclusive. The window's boundary is exclusive, but the export
// filter's range_end is inclusive, so end is the last microsecond
// (audit.TimePrecision) before the boundary: an event stamped exactly at
// local midnight belongs to the next day's report, never to both. Both are
// UTC. A local midnight that does not exist (zones that change clocks at
// 00:00) is replaced by the first instant of that date.
func WindowRange(w audit.Window, occurrence time.Time, loc *time.Location) (start, end time.Time) {
	if loc == nil {
		loc = time.UTC
	}
	occ := occurrence.Truncate(audit.TimePrecision)
	today := civilDate(occ.In(loc))
	var from, to time.Time // civil dates, UTC midnights
	switch w.Kind {
	case audit.PreviousDay:
		from, to = today.AddDate(0, 0, -1), today
	case audit.PreviousWeek:
		monday := today.AddDate(0, 0, -((int(today.Weekday()) + 6) % 7))
		from, to = monday.AddDate(0, 0, -7), monday
	case audit.PreviousMonth:
		first := today.AddDate(0, 0, 1-today.Day())
		from, to = first.AddDate(0, -1, 0), first
	case audit.PreviousQuarter:
		qm := (today.Month()-1)/3*3 + 1
		first := time.Date(today.Year(), qm, 1, 0, 0, 0, 0, time.UTC)
		from, to = first.AddDate(0, -3, 0), first
	default: // audit.LastHours; Validate refuses other kinds
		return occ.Add(-time.Duration(w.Hours) * time.Hour).UTC(), occ.Add(-audit.TimePrecision).UTC()
	}
	return wallInstant(from, loc).UTC(), wallInstant(to, loc).Add(-audit.TimePrecision).UTC()
}
