package config

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

const day = 24 * time.Hour

// ParseDuration is time.ParseDuration that also takes whole days, alone or
// leading: "7d", "1d12h". Operators write retention in days; Go has no unit
// for it.
func ParseDuration(s string) (time.Duration, error) {
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil || n < 0 || n > 100_000 {
			return 0, errors.New("days must be a whole number, e.g. 7d")
		}
		d := time.Duration(n) * day
		if rest := s[i+1:]; rest != "" {
			r, err := time.ParseDuration(rest)
			if err != nil || r < 0 {
				return 0, errors.New("not a duration")
			}
			d += r
		}
		return d, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("not a duration")
	}
	return d, nil
}

// FormatDuration writes d the way ParseDuration reads it, using days when d
// is a whole number of them (168h → "7d").
func FormatDuration(d time.Duration) string {
	if d > 0 && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	return d.String()
}
