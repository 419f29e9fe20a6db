package httpapi

import (
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

func TestCursorRoundTrip(t *testing.T) {
	c := cursor{CreatedAt: time.Date(2026, 4, 10, 9, 0, 0, 123456000, time.UTC), ID: "exp_01"}
	back, err := decodeCursor(c.encode())
	if err != nil || !back.CreatedAt.Equal(c.CreatedAt) || back.ID != c.ID {
		t.Fatalf("round trip: %+v %v", back, err)
	}
	for _, bad := range []string{"", "!!", "e30", "eyJ0IjoiMjAyNi0wNC0xMFQwOTowMDowMFoifQ"} { // {}, {"t":…} without id
		if _, err := decodeCursor(bad); audit.AsError(err) == nil || audit.AsError(err).Param != "cursor" {
			t.Errorf("decodeCursor(%q) = %v, want an error naming cursor", bad, err)
		}
	}
}

func TestParseListQuery(t *testing.T) {
	f, err := parseListQuery("status=completed&status[]=failed,completed&file_type=PDF&limit=10&schedule_id=s1" +
		"&created_from=2026-01-01T00:00:00Z&created_to=2026-02-01T00:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Status) != 2 || f.FileType != audit.FilePDF || f.Limit != 10 || f.ScheduleID != "s1" ||
		f.CreatedFrom == nil || f.CreatedTo == nil {
		t.Fatalf("%+v", f)
	}
	if f, _ := parseListQuery(""); f.Limit != DefaultListLimit {
		t.Fatalf("default limit %d", f.Limit)
	}
	for q, param := range map[string]string{
		"limit=0": "limit", "limit=501": "limit", "limit=-1": "limit", "status=done": "status", "file_type=xml": "file_type",
		"limit[]=5": "limit[]", "fil_type=csv": "fil_type", "file_type=csv&file_type=pdf": "file_type",
		"created_to=2025-01-01T00:00:00Z&created_from=2026-01-01T00:00:00Z": "created_to",
	} {
		_, err := parseListQuery(q)
		if e := audit.AsError(err); e == nil || e.Code != audit.EINVALID || e.Param != param {
			t.Errorf("%s: %v, want EINVALID naming %s", q, err, param)
		}
	}
}

func TestParseTTL(t *testing.T) {
	for in, want := range map[string]time.Duration{"900": 15 * time.Minute, "1h": time.Hour, "24h": 24 * time.Hour, "60": time.Minute} {
		if got, err := parseTTL(in); err != nil || got != want {
			t.Errorf("parseTTL(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"59s", "25h", "0", "-5m", "soon", "99999999999999999999"} {
		if _, err := parseTTL(in); audit.AsError(err) == nil {
			t.Errorf("parseTTL(%q) accepted", in)
		}
	}
}
