package schedule

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

func validSchedule() audit.Schedule {
	return audit.Schedule{
		ID:            "sch_1",
		TenantID:      "acme",
		Name:          "Weekly compliance report",
		Cron:          "0 6 * * 1",
		Timezone:      "Europe/Berlin",
		Window:        audit.Window{Kind: audit.PreviousWeek},
		Params:        audit.ExportParams{FileType: audit.FileCSV, Locale: "en", Timezone: "Europe/Berlin"},
		RetentionDays: 90,
		Enabled:       true,
		WebhookURL:    "https://hooks.example.com/sentinel",
		WebhookSecret: "whsec_secret",
		CreatedAt:     utc("2026-03-01T10:00:00Z"),
		UpdatedAt:     utc("2026-03-01T10:00:00Z"),
	}
}

func TestValidate(t *testing.T) {
	if err := Validate(validSchedule()); err != nil {
		t.Fatalf("valid schedule: %v", err)
	}
	ts := utc("2026-01-01T00:00:00Z")
	tests := []struct {
		name   string
		mutate func(*audit.Schedule)
		param  string
	}{
		{"no name", func(s *audit.Schedule) { s.Name = "  " }, "name"},
		{"long name", func(s *audit.Schedule) { s.Name = strings.Repeat("é", 201) }, "name"},
		{"200-character name", func(s *audit.Schedule) { s.Name = strings.Repeat("é", 200) }, ""},
		{"control character in name", func(s *audit.Schedule) { s.Name = "a\x00b" }, "name"},
		{"no cron", func(s *audit.Schedule) { s.Cron = "" }, "cron"},
		{"six fields", func(s *audit.Schedule) { s.Cron = "0 0 6 * * 1" }, "cron"},
		{"descriptor", func(s *audit.Schedule) { s.Cron = "@weekly" }, "cron"},
		{"never fires", func(s *audit.Schedule) { s.Cron = "0 0 31 2 *" }, "cron"},
		{"no timezone", func(s *audit.Schedule) { s.Timezone = "" }, "timezone"},
		{"unknown timezone", func(s *audit.Schedule) { s.Timezone = "Mars/Olympus" }, "timezone"},
		{"Local", func(s *audit.Schedule) { s.Timezone = "Local" }, "timezone"},
		{"path as timezone", func(s *audit.Schedule) { s.Timezone = "../../etc/passwd" }, "timezone"},
		{"UTC", func(s *audit.Schedule) { s.Timezone = "UTC" }, ""},
		{"half-hour zone", func(s *audit.Schedule) { s.Timezone = "Asia/Kolkata" }, ""},
		{"no window", func(s *audit.Schedule) { s.Window = audit.Window{} }, "window.kind"},
		{"hours out of range", func(s *audit.Schedule) { s.Window = audit.Window{Kind: audit.LastHours, Hours: 9000} }, "window.hours"},
		{"zero retention", func(s *audit.Schedule) { s.RetentionDays = 0 }, "retention_days"},
		{"retention too long", func(s *audit.Schedule) { s.RetentionDays = 3651 }, "retention_days"},
		{"retention ten years", func(s *audit.Schedule) { s.RetentionDays = 3650 }, ""},
		{"relative webhook", func(s *audit.Schedule) { s.WebhookURL = "/hook" }, "webhook_url"},
		{"ftp webhook", func(s *audit.Schedule) { s.WebhookURL = "ftp://example.com/x" }, "webhook_url"},
		{"http webhook", func(s *audit.Schedule) { s.WebhookURL = "http://example.com/x" }, ""},
		{"no webhook", func(s *audit.Schedule) { s.WebhookURL = "" }, ""},
		{"fixed range start", func(s *audit.Schedule) { s.Params.Filter.RangeStart = &ts }, "range_start"},
		{"fixed range end", func(s *audit.Schedule) { s.Params.Filter.RangeEnd = &ts }, "range_end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSchedule()
			tt.mutate(&s)
			err := Validate(s)
			if tt.param == "" {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			if e := audit.AsError(err); e == nil || e.Code != audit.EINVALID || e.Param != tt.param {
				t.Fatalf("got %v, want invalid %s", err, tt.param)
			}
		})
	}
}

func TestScheduleJSONHidesSecret(t *testing.T) {
	b, err := json.Marshal(validSchedule())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "whsec_") || strings.Contains(string(b), "acme") {
		t.Fatalf("secret or tenant serialized: %s", b)
	}
	if !strings.Contains(string(b), `"webhook_url":"https://hooks.example.com/sentinel"`) {
		t.Fatalf("webhook_url missing: %s", b)
	}
}

func TestDue(t *testing.T) {
	ptr := func(s string) *time.Time { v := utc(s); return &v }
	daily := func(mut func(*audit.Schedule)) audit.Schedule {
		s := validSchedule()
		s.Cron = "0 6 * * *" // 05:00Z in March before the 29th
		s.Window = audit.Window{Kind: audit.PreviousDay}
		if mut != nil {
			mut(&s)
		}
		return s
	}
	tests := []struct {
		name string
		s    audit.Schedule
		now  string
		want string // "" = not due
	}{
		{"new schedule, before its first occurrence", daily(nil), "2026-03-01T12:00:00Z", ""},
		{"first occurrence, exactly on time", daily(nil), "2026-03-02T05:00:00Z", "2026-03-02T05:00:00Z"},
		{"one second early", daily(nil), "2026-03-02T04:59:59Z", ""},
		{"late by some minutes", daily(nil), "2026-03-02T05:07:00Z", "2026-03-02T05:00:00Z"},
		{"occurrence before creation never fires", daily(func(s *audit.Schedule) { s.CreatedAt = utc("2026-03-02T05:30:00Z") }),
			"2026-03-02T06:00:00Z", ""},
		{"created at the occurrence instant: not after it", daily(func(s *audit.Schedule) { s.CreatedAt = utc("2026-03-02T05:00:00Z") }),
			"2026-03-02T05:00:00Z", ""},
		{"already fired", daily(func(s *audit.Schedule) { s.LastFiredAt = ptr("2026-03-02T05:00:00Z") }),
			"2026-03-02T23:00:00Z", ""},
		{"next day after firing", daily(func(s *audit.Schedule) { s.LastFiredAt = ptr("2026-03-02T05:00:00Z") }),
			"2026-03-03T05:00:30Z", "2026-03-03T05:00:00Z"},
		{"four days down: only the latest missed occurrence", daily(func(s *audit.Schedule) { s.LastFiredAt = ptr("2026-03-02T05:00:00Z") }),
			"2026-03-06T12:00:00Z", "2026-03-06T05:00:00Z"},
		{"down over spring forward", daily(func(s *audit.Schedule) { s.LastFiredAt = ptr("2026-03-27T05:00:00Z") }),
			"2026-03-30T03:00:00Z", "2026-03-29T04:00:00Z"},
		{"disabled", daily(func(s *audit.Schedule) { s.Enabled = false }), "2026-03-02T05:00:00Z", ""},
		{"invalid cron", daily(func(s *audit.Schedule) { s.Cron = "@daily" }), "2026-03-02T05:00:00Z", ""},
		{"last fired before creation: creation is the base", daily(func(s *audit.Schedule) {
			s.LastFiredAt = ptr("2026-02-01T05:00:00Z")
		}), "2026-03-01T12:00:00Z", ""},
		{"clock behind the last firing", daily(func(s *audit.Schedule) { s.LastFiredAt = ptr("2026-03-05T05:00:00Z") }),
			"2026-03-04T06:00:00Z", ""},
		{"hourly, second 02:00 of the fall-back night", daily(func(s *audit.Schedule) {
			s.Cron = "0 * * * *"
			s.LastFiredAt = ptr("2026-10-25T00:00:00Z") // 02:00 CEST
		}), "2026-10-25T01:00:10Z", "2026-10-25T01:00:00Z"},
		{"02:30 fall-back night: not again at 02:30 CET", daily(func(s *audit.Schedule) {
			s.Cron = "30 2 * * *"
			s.LastFiredAt = ptr("2026-10-25T00:30:00Z") // 02:30 CEST
		}), "2026-10-25T01:45:00Z", ""},
		{"never fired, created long ago", daily(func(s *audit.Schedule) { s.CreatedAt = utc("2020-01-01T00:00:00Z") }),
			"2026-03-06T12:00:00Z", "2026-03-06T05:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Due(tt.s, utc(tt.now))
			if tt.want == "" {
				if ok {
					t.Fatalf("due at %s, want not due", got)
				}
				return
			}
			if !ok || !got.Equal(utc(tt.want)) {
				t.Fatalf("Due = %s, %v; want %s", got, ok, tt.want)
			}
		})
	}
}

// TestDueDispatcherSimulation drives Due the way a dispatcher does, one
// tick a minute with the occurrence recorded after each firing, and checks
// that exactly the occurrences Next enumerates fire, in order, once each;
// then that a stretch of downtime fires one catch-up.
func TestDueDispatcherSimulation(t *testing.T) {
	specs := []struct{ cron, zone, from string }{
		{"0 6 * * *", "Europe/Berlin", "2026-03-27T00:00:00Z"},
		{"30 2 * * *", "Europe/Berlin", "2026-10-23T00:00:00Z"},
		{"30 2 * * *", "Europe/Berlin", "2026-03-27T00:00:00Z"},
		{"0 * * * *", "Europe/Berlin", "2026-10-24T12:00:00Z"},
		{"*/20 1-3 * * *", "America/New_York", "2026-10-31T00:00:00Z"},
		{"30 2 * * *", "Australia/Sydney", "2026-10-02T00:00:00Z"},
		{"0 0 * * *", "America/Santiago", "2026-09-04T00:00:00Z"},
		{"*/45 * * * *", "Asia/Kolkata", "2026-01-01T00:00:00Z"},
	}
	for _, sp := range specs {
		t.Run(sp.cron+" "+sp.zone, func(t *testing.T) {
			s := validSchedule()
			s.Cron, s.Timezone = sp.cron, sp.zone
			s.CreatedAt = utc(sp.from)
			end := s.CreatedAt.Add(4 * 24 * time.Hour)

			var want []time.Time
			for o := Next(s, s.CreatedAt); o.Before(end); o = Next(s, o) {
				want = append(want, o)
			}
			var got []time.Time
			for now := s.CreatedAt; now.Before(end); now = now.Add(time.Minute) {
				// Two replicas look at the same state in the same tick;
				// both compute the same occurrence and task id.
				occ, ok := Due(s, now)
				occ2, ok2 := Due(s, now)
				if ok != ok2 || !occ.Equal(occ2) || (ok && TaskID(s.ID, occ) != TaskID(s.ID, occ2)) {
					t.Fatalf("replicas disagree at %s", now)
				}
				if ok {
					got = append(got, occ)
					s.LastFiredAt = &occ
				}
			}
			if len(got) != len(want) {
				t.Fatalf("fired %d occurrences, want %d:\n got %v\nwant %v", len(got), len(want), got, want)
			}
			for i := range want {
				if !got[i].Equal(want[i]) {
					t.Fatalf("firing %d at %s, want %s", i, got[i], want[i])
				}
			}

			// Workers down for three days: one catch-up, then on schedule.
			last := *s.LastFiredAt
			back := last.Add(3 * 24 * time.Hour)
			occ, ok := Due(s, back)
			if !ok {
				t.Fatal("no catch-up after downtime")
			}
			if n := Next(s, occ); n.Before(back) || n.Equal(back) {
				t.Fatalf("catch-up %s is not the latest missed occurrence (%s also missed)", occ, n)
			}
			s.LastFiredAt = &occ
			if again, ok := Due(s, back.Add(time.Second)); ok {
				t.Fatalf("caught up twice: %s", again)
			}
		})
	}
}

func TestTaskID(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	a := TaskID("sch_1", time.Date(2026, 3, 30, 6, 0, 0, 0, berlin))
	b := TaskID("sch_1", utc("2026-03-30T04:00:00Z"))
	if a != b || a != "schedule:sch_1:2026-03-30T04:00:00Z" {
		t.Fatalf("same occurrence, different ids: %q %q", a, b)
	}
	if TaskID("sch_1", utc("2026-03-31T04:00:00Z")) == a || TaskID("sch_2", utc("2026-03-30T04:00:00Z")) == a {
		t.Fatal("different occurrences or schedules share an id")
	}
	// The two instances of a repeated hour are different occurrences.
	if TaskID("s", utc("2026-10-25T00:00:00Z")) == TaskID("s", utc("2026-10-25T01:00:00Z")) {
		t.Fatal("fall-back instances share an id")
	}
}

func TestExportParams(t *testing.T) {
	s := validSchedule()
	s.Params.Filter.EventTypes = []string{"b", "a", "b"}
	occ := utc("2026-03-30T04:00:00Z") // Monday 06:00 CEST
	p, err := ExportParams(s, occ)
	if err != nil {
		t.Fatal(err)
	}
	if p.Filter.TenantID != "acme" || len(p.Filter.EventTypes) != 2 {
		t.Fatalf("filter not carried over canonically: %+v", p.Filter)
	}
	if !p.Filter.RangeStart.Equal(utc("2026-03-22T23:00:00Z")) ||
		!p.Filter.RangeEnd.Equal(utc("2026-03-29T21:59:59.999999Z")) {
		t.Fatalf("range [%s, %s]", p.Filter.RangeStart, p.Filter.RangeEnd)
	}
	if s.Params.Filter.RangeStart != nil {
		t.Fatal("ExportParams modified the schedule")
	}
	// Retries of the same occurrence ask for the same export.
	p2, _ := ExportParams(s, occ)
	if p.Hash() != p2.Hash() {
		t.Fatal("same occurrence, different params")
	}
}
