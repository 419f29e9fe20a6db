package console

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// describeCron says a cron expression in words for the common shapes
// (daily, weekly, monthly, hourly at fixed times); any other is shown as
// it is, with its zone.
func describeCron(p *page, expr, zone string) string {
	f := strings.Fields(expr)
	if len(f) != 5 {
		return p.T("cron.raw", expr, zone)
	}
	num := func(s string, hi int) (int, bool) {
		n, err := strconv.Atoi(s)
		return n, err == nil && n >= 0 && n <= hi
	}
	min, okM := num(f[0], 59)
	hour, okH := num(f[1], 23)
	at := fmt.Sprintf("%02d:%02d", hour, min)
	switch {
	case okM && f[1] == "*" && f[2] == "*" && f[3] == "*" && f[4] == "*":
		return p.T("cron.hourly", min, zone)
	case !okM || !okH || f[3] != "*":
	case f[2] == "*" && f[4] == "*":
		return p.T("cron.daily", at, zone)
	case f[2] == "*" && (f[4] == "1-5" || f[4] == "MON-FRI"):
		return p.T("cron.weekdays", at, zone)
	case f[2] == "*":
		if d, ok := num(f[4], 7); ok {
			return p.T("cron.weekly", p.T(fmt.Sprintf("day.%d", d%7)), at, zone)
		}
	case f[4] == "*":
		if d, ok := num(f[2], 31); ok && d >= 1 {
			return p.T("cron.monthly", d, at, zone)
		}
	}
	return p.T("cron.raw", expr, zone)
}

// describeWindow says what a schedule's window covers.
func describeWindow(p *page, w audit.Window) string {
	if w.Kind == audit.LastHours {
		return p.T("window.last_hours", w.Hours)
	}
	return p.T("window." + string(w.Kind))
}
