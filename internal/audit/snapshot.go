package audit

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Snapshot says which ingest transactions had committed at one moment: every
// transaction below Xmin, none at or above Xmax, and between the two all but
// those listed in Xip (still in progress then). It is PostgreSQL's MVCC
// snapshot (pg_current_snapshot) over the ingest_tx an event records; on
// SQLite, whose writers are serialised, Xip is always empty and Xmin = Xmax.
//
// A snapshot never changes its mind: a transaction in Xip that commits later
// stays invisible to it. That is what makes an export of a snapshot exact
// and repeatable while ingest goes on.
type Snapshot struct {
	Xmin int64
	Xmax int64
	Xip  []int64
}

// AsOf is a snapshot and the time it was taken: what an export, a feed page
// or a schedule run is "as of".
type AsOf struct {
	At       time.Time
	Snapshot Snapshot
}

// Position is the single number that stands for s in messages and headers:
// its Xmax, above every transaction it can see.
func (s Snapshot) Position() int64 { return s.Xmax }

// IsZero reports whether s is the zero snapshot (none recorded).
func (s Snapshot) IsZero() bool { return s.Xmin == 0 && s.Xmax == 0 && len(s.Xip) == 0 }

// Visible reports whether events of ingest transaction tx are in s.
func (s Snapshot) Visible(tx int64) bool {
	if tx < s.Xmin {
		return true
	}
	if tx >= s.Xmax {
		return false
	}
	return !slices.Contains(s.Xip, tx)
}

// String is pg_snapshot's text form, "xmin:xmax:xip1,xip2".
func (s Snapshot) String() string {
	var b strings.Builder
	b.WriteString(strconv.FormatInt(s.Xmin, 10))
	b.WriteByte(':')
	b.WriteString(strconv.FormatInt(s.Xmax, 10))
	b.WriteByte(':')
	for i, x := range s.Xip {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(x, 10))
	}
	return b.String()
}

// ParseSnapshot reads String's form. It refuses what no snapshot can be:
// negative numbers, Xmax below Xmin, in-progress ids outside [Xmin, Xmax).
func ParseSnapshot(text string) (Snapshot, error) {
	parts := strings.Split(text, ":")
	if len(parts) != 3 {
		return Snapshot{}, fmt.Errorf("audit: snapshot %q is not xmin:xmax:xip", text)
	}
	num := func(p string) (int64, error) {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("audit: snapshot %q: %q is not a transaction id", text, p)
		}
		return n, nil
	}
	var s Snapshot
	var err error
	if s.Xmin, err = num(parts[0]); err != nil {
		return Snapshot{}, err
	}
	if s.Xmax, err = num(parts[1]); err != nil {
		return Snapshot{}, err
	}
	if s.Xmax < s.Xmin {
		return Snapshot{}, fmt.Errorf("audit: snapshot %q: xmax below xmin", text)
	}
	if parts[2] != "" {
		for _, p := range strings.Split(parts[2], ",") {
			x, err := num(p)
			if err != nil {
				return Snapshot{}, err
			}
			if x < s.Xmin || x >= s.Xmax {
				return Snapshot{}, fmt.Errorf("audit: snapshot %q: %d is outside [xmin, xmax)", text, x)
			}
			s.Xip = append(s.Xip, x)
		}
		slices.Sort(s.Xip)
		s.Xip = slices.Compact(s.Xip)
	}
	return s, nil
}

// Contains reports whether every transaction visible in o is visible in s:
// s was taken at or after o. Snapshots of one database taken one after the
// other always contain their predecessors.
func (s Snapshot) Contains(o Snapshot) bool {
	if o.Xmax <= s.Xmin {
		return true
	}
	if o.Xmax > s.Xmax {
		return false
	}
	// Every transaction in [s.Xmin, o.Xmax) visible in o must be visible in s.
	for _, x := range s.Xip {
		if x < o.Xmax && o.Visible(x) {
			return false
		}
	}
	return true
}
