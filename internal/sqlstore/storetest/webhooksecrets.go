package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
)

func runWebhookSecrets(t *testing.T, open Open) {
	t.Run("TenantWebhookSecrets", func(t *testing.T) {
		t.Run("PutGetRotate", func(t *testing.T) {
			t.Parallel()
			b := setup(t, open)
			ws := b.store
			_, err := ws.GetTenantWebhookSecret(b.ctx, "t1")
			requireCode(t, err, audit.ErrNotFound)

			first := audit.TenantWebhookSecret{TenantID: "t1", Secret: "whsec_first", CreatedAt: base}
			if err := ws.PutTenantWebhookSecret(b.ctx, first); err != nil {
				t.Fatal(err)
			}
			if got, err := ws.GetTenantWebhookSecret(b.ctx, "t1"); err != nil || !reflect.DeepEqual(got, first) {
				t.Fatalf("get = %+v, %v; want %+v", got, err, first)
			}
			// Another tenant's secret is its own.
			_, err = ws.GetTenantWebhookSecret(b.ctx, "t2")
			requireCode(t, err, audit.ErrNotFound)
			other := audit.TenantWebhookSecret{TenantID: "t2", Secret: "whsec_other", CreatedAt: base}
			if err := ws.PutTenantWebhookSecret(b.ctx, other); err != nil {
				t.Fatal(err)
			}

			// Rotation replaces the secret and its time.
			rotated := audit.TenantWebhookSecret{TenantID: "t1", Secret: "whsec_second", CreatedAt: base.Add(time.Hour)}
			if err := ws.PutTenantWebhookSecret(b.ctx, rotated); err != nil {
				t.Fatal(err)
			}
			if got, err := ws.GetTenantWebhookSecret(b.ctx, "t1"); err != nil || !reflect.DeepEqual(got, rotated) {
				t.Fatalf("after rotation = %+v, %v; want %+v", got, err, rotated)
			}
			if got, err := ws.GetTenantWebhookSecret(b.ctx, "t2"); err != nil || !reflect.DeepEqual(got, other) {
				t.Fatalf("other tenant after rotation = %+v, %v", got, err)
			}

			requireInvalid(t, ws.PutTenantWebhookSecret(b.ctx, audit.TenantWebhookSecret{TenantID: "t1"}))
			requireInvalid(t, ws.PutTenantWebhookSecret(b.ctx, audit.TenantWebhookSecret{Secret: "whsec_x"}))
		})

		t.Run("AttemptsByExport", func(t *testing.T) {
			t.Parallel()
			b := setup(t, open)
			ss := b.store
			// An on-demand export's attempts have no schedule; a scheduled
			// export's attempts are listed by export too.
			var want []audit.WebhookAttempt
			for i, a := range []audit.WebhookAttempt{
				{DeliveryID: "d1", ExportID: "x1", AttemptNo: 1, StatusCode: 503, Error: "receiver answered 503"},
				{DeliveryID: "d1", ExportID: "x1", AttemptNo: 2, StatusCode: 204},
				{DeliveryID: "d2", ExportID: "x2", AttemptNo: 1, StatusCode: 204},
				{DeliveryID: "d3", ExportID: "x3", ScheduleID: "s1", AttemptNo: 1, StatusCode: 204},
			} {
				a.URL, a.At, a.Duration = "https://hooks.example.com/h", base.Add(time.Duration(i)*time.Second), time.Millisecond
				if err := ss.RecordAttempt(b.ctx, "t1", a); err != nil {
					t.Fatal(err)
				}
				if a.ExportID == "x1" {
					want = append([]audit.WebhookAttempt{a}, want...)
				}
			}
			got, err := ss.ListAttempts(b.ctx, audit.WebhookAttemptFilter{TenantID: "t1", ExportID: "x1"})
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("attempts of x1 =\n%+v, %v\nwant\n%+v", got, err, want)
			}
			f := audit.WebhookAttemptFilter{TenantID: "t1", ExportID: "x1", Limit: 1}
			page, err := ss.ListAttempts(b.ctx, f)
			if err != nil || len(page) != 1 || page[0] != want[0] {
				t.Fatalf("first page = %+v, %v", page, err)
			}
			f.AfterAt, f.AfterDeliveryID, f.AfterAttemptNo = &page[0].At, page[0].DeliveryID, page[0].AttemptNo
			if page, err = ss.ListAttempts(b.ctx, f); err != nil || len(page) != 1 || page[0] != want[1] {
				t.Fatalf("second page = %+v, %v", page, err)
			}
			if got, err := ss.ListAttempts(b.ctx, audit.WebhookAttemptFilter{TenantID: "t1", ExportID: "x3"}); err != nil || len(got) != 1 {
				t.Fatalf("attempts of scheduled x3 = %+v, %v", got, err)
			}
			// The schedule listing is unchanged: on-demand attempts are not a
			// schedule's.
			if got, err := ss.ListAttempts(b.ctx, audit.WebhookAttemptFilter{TenantID: "t1", ScheduleID: "s1"}); err != nil || len(got) != 1 {
				t.Fatalf("attempts of s1 = %+v, %v", got, err)
			}
			if got, err := ss.ListAttempts(b.ctx, audit.WebhookAttemptFilter{TenantID: "t2", ExportID: "x1"}); err != nil || len(got) != 0 {
				t.Fatalf("another tenant's attempts of x1 = %+v, %v", got, err)
			}
		})
	})
}
