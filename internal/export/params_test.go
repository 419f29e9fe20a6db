package export_test

import (
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/export"
)

// TestParseTimeMessageMatchesWhatIsAccepted: offsets are accepted (and
// converted to UTC), so the message for a bad value must not say "UTC
// only"; it shows both forms.
func TestParseTimeMessageMatchesWhatIsAccepted(t *testing.T) {
	t.Parallel()
	got, err := export.ParseTime("range_start", "2026-04-10T02:00:00+02:00")
	if err != nil {
		t.Fatalf("an offset was refused: %v", err)
	}
	if want := time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("2026-04-10T02:00:00+02:00 = %v, want %v", got, want)
	}
	_, err = export.ParseTime("range_start", "10/04/2026")
	if audit.ErrorCode(err) != audit.EINVALID {
		t.Fatalf("10/04/2026: %v, want an invalid error", err)
	}
	msg := audit.ErrorMessage(err)
	for _, want := range []string{"range_start", "2026-04-10T00:00:00.000Z", "+02:00"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not show %q", msg, want)
		}
	}
	if strings.Contains(msg, "UTC date-time") {
		t.Errorf("message %q says only UTC is accepted", msg)
	}
}
