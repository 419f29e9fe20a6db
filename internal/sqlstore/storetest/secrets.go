package storetest

import (
	"errors"
	"reflect"
	"testing"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/secretbox"
)

// The suite cannot read columns behind the store's back; it shows that a
// secret is sealed at rest by taking the box away (a handle on the same
// pools, the same rows): a sealed secret must then refuse to read, while
// with the box it reads as it was written.
func runSealedSecrets(t *testing.T, open Open) {
	t.Run("SealedSecrets", func(t *testing.T) {
		t.Parallel()
		b := setup(t, open)
		unsealed := b.store
		var st Store = unsealed
		key := secretbox.GenerateKey()
		box, err := secretbox.New(key)
		if err != nil {
			t.Fatal(err)
		}

		// Written before a key was configured: stored as they are.
		legacy := audit.TenantWebhookSecret{TenantID: "t1", Secret: "whsec_legacy", CreatedAt: base}
		if err := st.PutTenantWebhookSecret(b.ctx, legacy); err != nil {
			t.Fatal(err)
		}
		legacySched := newSchedule("t1", "s-legacy", base)
		if err := st.CreateSchedule(b.ctx, legacySched); err != nil {
			t.Fatal(err)
		}

		// With the key, old rows still read, and new ones are sealed.
		st = unsealed.WithSecretBox(box)
		if got, err := st.GetTenantWebhookSecret(b.ctx, "t1"); err != nil || got.Secret != legacy.Secret {
			t.Fatalf("legacy secret with a key = %+v, %v", got, err)
		}
		fresh := audit.TenantWebhookSecret{TenantID: "t2", Secret: "whsec_fresh", CreatedAt: base}
		if err := st.PutTenantWebhookSecret(b.ctx, fresh); err != nil {
			t.Fatal(err)
		}
		sched := newSchedule("t2", "s-fresh", base)
		if err := st.CreateSchedule(b.ctx, sched); err != nil {
			t.Fatal(err)
		}
		if got, err := st.GetTenantWebhookSecret(b.ctx, "t2"); err != nil || !reflect.DeepEqual(got, fresh) {
			t.Fatalf("sealed secret = %+v, %v; want %+v", got, err, fresh)
		}
		if got, err := st.GetSchedule(b.ctx, "t2", "s-fresh"); err != nil || got.WebhookSecret != sched.WebhookSecret {
			t.Fatalf("sealed schedule secret = %q, %v", got.WebhookSecret, err)
		}

		// Sealing what was stored before: both legacy rows, once.
		if n, u, err := st.SealStoredSecrets(b.ctx); err != nil || n != 2 || u != 0 {
			t.Fatalf("SealStoredSecrets = %d, %d, %v; want the 2 legacy rows sealed", n, u, err)
		}
		if n, u, err := st.SealStoredSecrets(b.ctx); err != nil || n != 0 || u != 0 {
			t.Fatalf("second SealStoredSecrets = %d, %d, %v; want 0", n, u, err)
		}
		if got, err := st.GetSchedule(b.ctx, "t1", "s-legacy"); err != nil || got.WebhookSecret != legacySched.WebhookSecret {
			t.Fatalf("legacy schedule secret after sealing = %q, %v", got.WebhookSecret, err)
		}

		// Without the key nothing sealed reads: every row is sealed at rest.
		st = unsealed.WithSecretBox(nil)
		for _, tenant := range []string{"t1", "t2"} {
			if got, err := st.GetTenantWebhookSecret(b.ctx, tenant); err == nil {
				t.Errorf("tenant %s's secret read without the key: %q (stored unsealed)", tenant, got.Secret)
			}
		}
		for _, s := range [][2]string{{"t1", "s-legacy"}, {"t2", "s-fresh"}} {
			if got, err := st.GetSchedule(b.ctx, s[0], s[1]); err == nil {
				t.Errorf("schedule %s's secret read without the key: %q (stored unsealed)", s[1], got.WebhookSecret)
			}
		}
		// Nor under another key, which the error names.
		other, _ := secretbox.New(secretbox.GenerateKey())
		st = unsealed.WithSecretBox(other)
		if _, err := st.GetTenantWebhookSecret(b.ctx, "t2"); !errors.Is(err, secretbox.ErrWrongKey) {
			t.Errorf("read under another key: %v; want ErrWrongKey", err)
		}

		// Rotation. A start with only the new key cannot open what the old
		// one sealed: it leaves those rows as they are and says how many.
		// With the old key retired it reads everything and seals every row
		// under the new key, after which the new key alone reads them.
		newKey := secretbox.GenerateKey()
		onlyNew, _ := secretbox.New(newKey)
		st = unsealed.WithSecretBox(onlyNew)
		if n, u, err := st.SealStoredSecrets(b.ctx); err != nil || n != 0 || u != 4 {
			t.Fatalf("SealStoredSecrets without the old key = %d sealed, %d unopened, %v; want 0, 4", n, u, err)
		}
		rotated, err := secretbox.New(newKey, key)
		if err != nil {
			t.Fatal(err)
		}
		st = unsealed.WithSecretBox(rotated)
		if got, err := st.GetTenantWebhookSecret(b.ctx, "t1"); err != nil || got.Secret != legacy.Secret {
			t.Fatalf("with the old key retired: %+v, %v", got, err)
		}
		if n, u, err := st.SealStoredSecrets(b.ctx); err != nil || n != 4 || u != 0 {
			t.Fatalf("SealStoredSecrets after a rotation = %d, %d, %v; want all 4 rows", n, u, err)
		}
		if n, u, err := st.SealStoredSecrets(b.ctx); err != nil || n != 0 || u != 0 {
			t.Fatalf("second SealStoredSecrets after a rotation = %d, %d, %v; want 0", n, u, err)
		}
		alone, _ := secretbox.New(newKey)
		st = unsealed.WithSecretBox(alone)
		if got, err := st.GetTenantWebhookSecret(b.ctx, "t2"); err != nil || got.Secret != fresh.Secret {
			t.Fatalf("the new key alone after re-sealing: %+v, %v", got, err)
		}
		if got, err := st.GetSchedule(b.ctx, "t1", "s-legacy"); err != nil || got.WebhookSecret != legacySched.WebhookSecret {
			t.Fatalf("schedule secret, the new key alone: %q, %v", got.WebhookSecret, err)
		}
	})
}
