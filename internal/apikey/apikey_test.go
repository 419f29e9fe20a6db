package apikey_test

import (
	"strings"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/apikey"
	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/sqlstore/sqlite/sqlitetest"
)

// Bug 4: tenants "." and ".." were accepted; the objects of their exports
// would have keys that are not the tenant's own folder, and every export
// then failed. They are refused when the key is made.
func TestTenantMustBeACleanPathSegment(t *testing.T) {
	db := sqlitetest.Open(t)
	for _, tenant := range []string{".", "..", "", "a/b", strings.Repeat("x", 65)} {
		_, _, err := apikey.Create(t.Context(), db, tenant, "k", time.Now())
		if e := audit.AsError(err); e == nil || e.Code != audit.EINVALID || e.Param != "tenant" {
			t.Errorf("tenant %q: %v, want EINVALID on tenant", tenant, err)
		}
	}
	for _, tenant := range []string{"acme", "a.b", "...", ".hidden", "A-1_b"} {
		if _, _, err := apikey.Create(t.Context(), db, tenant, "k", time.Now()); err != nil {
			t.Errorf("tenant %q refused: %v", tenant, err)
		}
	}
}
