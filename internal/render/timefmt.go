package render

import "time"

// AppendTime appends t in loc as RFC 3339 with the zone's offset at t and
// fractional seconds only when they are non-zero (microseconds at most,
// trailing zeros trimmed): occurred_at in the CSV and NDJSON files.
func AppendTime(b []byte, t time.Time, loc *time.Location) []byte {
	t = t.In(loc)
	if t.Nanosecond()/1000 == 0 {
		return t.AppendFormat(b, "2006-01-02T15:04:05Z07:00")
	}
	return t.Truncate(time.Microsecond).AppendFormat(b, "2006-01-02T15:04:05.999999Z07:00")
}

// TimeFormatter writes AppendTime's text for instants in unix microseconds
// without time.Time.AppendFormat, which parses its layout anew for every
// call and was a tenth of a CSV export's CPU (and of an NDJSON export's). Events come in time order, so
// the zone offset found for one is almost always good for the next: it is
// kept with the interval it holds for.
type TimeFormatter struct {
	loc *time.Location
	// [from, to) in unix seconds is where offset (seconds east of UTC)
	// holds; to <= from means nothing is cached yet.
	from, to int64
	offset   int64
}

// NewTimeFormatter returns a TimeFormatter for loc (UTC when nil).
func NewTimeFormatter(loc *time.Location) *TimeFormatter {
	if loc == nil {
		loc = time.UTC
	}
	return &TimeFormatter{loc: loc}
}

// Append appends the instant us (microseconds since the Unix epoch) as
// AppendTime(b, time.UnixMicro(us), loc) does.
func (f *TimeFormatter) Append(b []byte, us int64) []byte {
	sec, frac := us/1e6, us%1e6
	if frac < 0 {
		sec, frac = sec-1, frac+1e6
	}
	if sec < f.from || sec >= f.to {
		t := time.Unix(sec, 0).In(f.loc)
		_, off := t.Zone()
		start, end := t.ZoneBounds()
		f.offset, f.from, f.to = int64(off), minInt64, maxInt64
		if !start.IsZero() {
			f.from = start.Unix()
		}
		if !end.IsZero() {
			f.to = end.Unix()
		}
	}
	local := sec + f.offset
	days := local / 86400
	secOfDay := local % 86400
	if secOfDay < 0 {
		days, secOfDay = days-1, secOfDay+86400
	}
	y, m, d := civil(days)
	if y < 0 || y > 9999 { // outside RFC 3339: let the time package decide
		return AppendTime(b, time.UnixMicro(us), f.loc)
	}
	b = append4(b, y)
	b = append(b, '-')
	b = append2(b, m)
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, 'T')
	b = append2(b, secOfDay/3600)
	b = append(b, ':')
	b = append2(b, secOfDay/60%60)
	b = append(b, ':')
	b = append2(b, secOfDay%60)
	if frac != 0 {
		var digits [6]byte
		n := len(digits)
		for i := n - 1; i >= 0; i-- {
			digits[i] = byte('0' + frac%10)
			frac /= 10
		}
		for digits[n-1] == '0' {
			n--
		}
		b = append(b, '.')
		b = append(b, digits[:n]...)
	}
	off := f.offset
	if off == 0 {
		return append(b, 'Z')
	}
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	b = append(b, sign)
	b = append2(b, off/3600)
	b = append(b, ':')
	return append2(b, off/60%60)
}

const (
	minInt64 = -1 << 63
	maxInt64 = 1<<63 - 1
)

// civil returns the proleptic Gregorian date of days since 1970-01-01
// (Howard Hinnant's days_from_civil, inverted).
func civil(days int64) (y, m, d int64) {
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func append2(b []byte, v int64) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

func append4(b []byte, v int64) []byte {
	return append(b, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}
