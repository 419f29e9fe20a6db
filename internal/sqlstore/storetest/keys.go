package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

func runKeys(t *testing.T, open Open) {
	t.Run("APIKeys", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		admin := []audit.Scope{audit.ScopeAdmin}
		expires := base.Add(24 * time.Hour)
		k1 := audit.APIKey{ID: "k1", TenantID: "t1", Name: "ci", Prefix: "sk_abc", CreatedAt: base, Scopes: admin}
		k2 := audit.APIKey{ID: "k2", TenantID: "t1", Name: "ops", Prefix: "sk_def", CreatedAt: base.Add(time.Second),
			Scopes: []audit.Scope{audit.ScopeEventsRead, audit.ScopeSchedulesRead}, ExpiresAt: &expires,
			Window: &audit.TimeWindow{Start: base.Add(-48 * time.Hour), End: base}}
		k3 := audit.APIKey{ID: "k3", TenantID: "t2", Name: "other", Prefix: "sk_ghi", CreatedAt: base.Add(-time.Second),
			Scopes: []audit.Scope{audit.ScopeEventsWrite}}
		for i, k := range []audit.APIKey{k1, k2, k3} {
			if err := b.store.CreateAPIKey(b.ctx, k, "hash"+k.ID); err != nil {
				t.Fatalf("create %d: %v", i, err)
			}
		}
		requireCode(t, b.store.CreateAPIKey(b.ctx, audit.APIKey{ID: "k4", TenantID: "t1", CreatedAt: base, Scopes: admin}, "hashk1"), audit.ErrConflict)
		requireCode(t, b.store.CreateAPIKey(b.ctx, audit.APIKey{ID: "k1", TenantID: "t1", CreatedAt: base, Scopes: admin}, "fresh"), audit.ErrConflict)
		// A key without scopes could never be used: refused, not stored.
		requireInvalid(t, b.store.CreateAPIKey(b.ctx, audit.APIKey{ID: "k5", TenantID: "t1", CreatedAt: base}, "hashk5"))

		got, err := b.store.APIKeyByHash(b.ctx, "hashk2")
		if err != nil || !reflect.DeepEqual(got, k2) {
			t.Fatalf("APIKeyByHash = %+v, %v; want %+v", got, err, k2)
		}
		_, err = b.store.APIKeyByHash(b.ctx, "nope")
		requireCode(t, err, audit.ErrNotFound)

		list, err := b.store.ListAPIKeys(b.ctx, "t1")
		if err != nil || !reflect.DeepEqual(list, []audit.APIKey{k1, k2}) {
			t.Fatalf("ListAPIKeys(t1) = %+v, %v", list, err)
		}
		list, err = b.store.ListAPIKeys(b.ctx, "")
		if err != nil || !reflect.DeepEqual(list, []audit.APIKey{k3, k1, k2}) {
			t.Fatalf("ListAPIKeys(all) = %+v, %v", list, err)
		}
		if list, err := b.store.ListAPIKeys(b.ctx, "none"); err != nil || len(list) != 0 {
			t.Fatalf("ListAPIKeys(none) = %+v, %v", list, err)
		}

		revoked := base.Add(time.Hour)
		if err := b.store.RevokeAPIKey(b.ctx, "k1", revoked); err != nil {
			t.Fatal(err)
		}
		if err := b.store.RevokeAPIKey(b.ctx, "k1", revoked.Add(time.Hour)); err != nil {
			t.Fatalf("revoke twice: %v", err)
		}
		got, err = b.store.APIKeyByHash(b.ctx, "hashk1") // revoked keys are still found
		if err != nil || got.RevokedAt == nil || !got.RevokedAt.Equal(revoked) {
			t.Fatalf("revoked key = %+v, %v; want RevokedAt %v (the first revocation)", got, err, revoked)
		}
		requireCode(t, b.store.RevokeAPIKey(b.ctx, "nope", revoked), audit.ErrNotFound)

		// A tenant revokes its own keys only.
		requireCode(t, b.store.RevokeTenantAPIKey(b.ctx, "t1", "k3", revoked), audit.ErrNotFound)
		if got, _ := b.store.APIKeyByHash(b.ctx, "hashk3"); got.RevokedAt != nil {
			t.Fatalf("t1 revoked t2's key: %+v", got)
		}
		if err := b.store.RevokeTenantAPIKey(b.ctx, "t2", "k3", revoked); err != nil {
			t.Fatal(err)
		}
		if got, _ := b.store.APIKeyByHash(b.ctx, "hashk3"); got.RevokedAt == nil || !got.RevokedAt.Equal(revoked) {
			t.Fatalf("RevokeTenantAPIKey left %+v", got)
		}
	})
}
