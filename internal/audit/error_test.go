package audit_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// TestErrorReadsAsASentence: what Error() returns ends up in front of
// people (sentinelctl prints it), so it is the message, not
// "audit error: code=… message=…"; the code stays a field for code.
func TestErrorReadsAsASentence(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want string
		code string
	}{
		{audit.NotFound("api key %s not found", "k1"), "api key k1 not found", audit.ENOTFOUND},
		{audit.Invalid("tenant", "tenant must not be empty"), "tenant must not be empty", audit.EINVALID},
		{fmt.Errorf("revoke k1: %w", audit.ErrNotFound), "revoke k1: not found", audit.ENOTFOUND},
		{audit.ErrTooMany, "too many", audit.ETOOMANY},
	} {
		if got := tc.err.Error(); got != tc.want || strings.Contains(got, "code=") {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
		if audit.ErrorCode(tc.err) != tc.code {
			t.Errorf("%q: code %q, want %q", tc.err, audit.ErrorCode(tc.err), tc.code)
		}
	}
	if !errors.Is(fmt.Errorf("x: %w", audit.NotFound("gone")), audit.ErrNotFound) {
		t.Error("a not-found error no longer matches ErrNotFound")
	}
}
