package render_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/render"
)

// The time formatter must write exactly AppendTime's text, in zones with
// DST, odd offsets and historical local mean time, for instants taken in
// order (so its cached offset is reused across transitions) and at random.
func TestTimeFormatterMatchesAppendTime(t *testing.T) {
	zones := []string{"UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe",
		"Pacific/Chatham", "America/St_Johns", "Europe/Amsterdam", "Africa/Monrovia", "Pacific/Apia", "Asia/Kathmandu"}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, name := range zones {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		f := render.NewTimeFormatter(loc)
		check := func(us int64) {
			t.Helper()
			want := string(render.AppendTime(nil, time.UnixMicro(us), loc))
			if got := string(f.Append(nil, us)); got != want {
				t.Fatalf("%s %d: got %s, want %s", name, us, got, want)
			}
		}
		// In order, a day and a bit at a time, 1890 to 2040.
		start := time.Date(1890, 1, 1, 0, 0, 0, 0, time.UTC)
		end := time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
		for us := start.UnixMicro(); us < end.UnixMicro(); us += 86_407_000_001 {
			check(us)
		}
		// Every transition of the zone in that span: just before, at and
		// after it, in order.
		for at := start; at.Before(end); {
			_, next := at.In(loc).ZoneBounds()
			if next.IsZero() {
				break
			}
			us := next.UnixMicro()
			check(us - 1)
			check(us)
			check(us + 1)
			at = next
		}
		// At random, anywhere in years 0001 to 9999 and beyond either end.
		for range 5000 {
			check(rng.Int64N(2*315537897600000000) - 315537897600000000)
		}
		for _, us := range []int64{0, -1, 1, 999_999, -62135596800000000, 253402300799999999, 253402300800000000, -62135596800000001} {
			check(us)
		}
	}
}
