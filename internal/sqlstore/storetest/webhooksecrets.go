package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/schedule"
	"github.com/auditsentinel/sentinel/internal/webhook"
)

// webhookSecretStore is what the API and the notifier need for on-demand
// exports' webhooks.
type webhookSecretStore interface {
	PutTenantWebhookSecret(ctx context.Context, s webhook.TenantSecret) error
	GetTenantWebhookSecret(ctx context.Context, tenantID string) (webhook.TenantSecret, error)
}

func runWebhookSecrets(t *testing.T, open Open) {
	t.Run("TenantWebhookSecrets", func(t *testing.T) {
		t.Run("PutGetRotate", func(t *testing.T) {
			t.Parallel()
			b := setup(t, open)
			_, err := b.store.GetTenantWebhookSecret(b.ctx, "t1")
			requireCode(t, err, audit.ErrNotFound)

			first := webhook.TenantSecret{TenantID: "t1", Secret: "whsec_first", CreatedAt: base}
			if err := b.store.PutTenantWebhookSecret(b.ctx, first); err != nil {
				t.Fatal(err)
			}
			if got, err := b.store.GetTenantWebhookSecret(b.ctx, "t1"); err != nil || !reflect.DeepEqual(got, first) {
				t.Fatalf("get = %+v, %v; want %+v", got, err, first)
			}
			// Another tenant's secret is its own.
			_, err = b.store.GetTenantWebhookSecret(b.ctx, "t2")
			requireCode(t, err, audit.ErrNotFound)
			other := webhook.TenantSecret{TenantID: "t2", Secret: "whsec_other", CreatedAt: base}
			if err := b.store.PutTenantWebhookSecret(b.ctx, other); err != nil {
				t.Fatal(err)
			}

			// Rotation replaces the secret and its time.
			rotated := webhook.TenantSecret{TenantID: "t1", Secret: "whsec_second", CreatedAt: base.Add(time.Hour)}
			if err := b.store.PutTenantWebhookSecret(b.ctx, rotated); err != nil {
				t.Fatal(err)
			}
			if got, err := b.store.GetTenantWebhookSecret(b.ctx, "t1"); err != nil || !reflect.DeepEqual(got, rotated) {
				t.Fatalf("after rotation = %+v, %v; want %+v", got, err, rotated)
			}
			if got, err := b.store.GetTenantWebhookSecret(b.ctx, "t2"); err != nil || !reflect.DeepEqual(got, other) {
				t.Fatalf("other tenant after rotation = %+v, %v", got, err)
			}

			requireInvalid(t, b.store.PutTenantWebhookSecret(b.ctx, webhook.TenantSecret{TenantID: "t1"}))
			requireInvalid(t, b.store.PutTenantWebhookSecret(b.ctx, webhook.TenantSecret{Secret: "whsec_x"}))
		})

		t.Run("AttemptsByExport", func(t *testing.T) {
			t.Parallel()
			b := setup(t, open)
			// An on-demand export's attempts have no schedule; a scheduled
			// export's attempts are listed by export too.
			var want []webhook.Attempt
			for i, a := range []webhook.Attempt{
				{DeliveryID: "d1", ExportID: "x1", AttemptNo: 1, StatusCode: 503, Error: "receiver answered 503"},
				{DeliveryID: "d1", ExportID: "x1", AttemptNo: 2, StatusCode: 204},
				{DeliveryID: "d2", ExportID: "x2", AttemptNo: 1, StatusCode: 204},
				{DeliveryID: "d3", ExportID: "x3", ScheduleID: "s1", AttemptNo: 1, StatusCode: 204},
			} {
				a.URL, a.At, a.Duration = "https://hooks.example.com/h", base.Add(time.Duration(i)*time.Second), time.Millisecond
				if err := b.store.RecordAttempt(b.ctx, "t1", a); err != nil {
					t.Fatal(err)
				}
				if a.ExportID == "x1" {
					want = append([]webhook.Attempt{a}, want...)
				}
			}
			got, err := b.store.ListAttempts(b.ctx, schedule.AttemptFilter{TenantID: "t1", ExportID: "x1"})
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("attempts of x1 =\n%+v, %v\nwant\n%+v", got, err, want)
			}
			f := schedule.AttemptFilter{TenantID: "t1", ExportID: "x1", Limit: 1}
			page, err := b.store.ListAttempts(b.ctx, f)
			if err != nil || len(page) != 1 || page[0] != want[0] {
				t.Fatalf("first page = %+v, %v", page, err)
			}
			f.AfterAt, f.AfterDeliveryID, f.AfterAttemptNo = &page[0].At, page[0].DeliveryID, page[0].AttemptNo
			if page, err = b.store.ListAttempts(b.ctx, f); err != nil || len(page) != 1 || page[0] != want[1] {
				t.Fatalf("second page = %+v, %v", page, err)
			}
			if got, err := b.store.ListAttempts(b.ctx, schedule.AttemptFilter{TenantID: "t1", ExportID: "x3"}); err != nil || len(got) != 1 {
				t.Fatalf("attempts of scheduled x3 = %+v, %v", got, err)
			}
			// The schedule listing is unchanged: on-demand attempts are not a
			// schedule's.
			if got, err := b.store.ListAttempts(b.ctx, schedule.AttemptFilter{TenantID: "t1", ScheduleID: "s1"}); err != nil || len(got) != 1 {
				t.Fatalf("attempts of s1 = %+v, %v", got, err)
			}
			if got, err := b.store.ListAttempts(b.ctx, schedule.AttemptFilter{TenantID: "t2", ExportID: "x1"}); err != nil || len(got) != 0 {
				t.Fatalf("another tenant's attempts of x1 = %+v, %v", got, err)
			}
		})
	})
}
