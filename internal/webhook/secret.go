package webhook

import "time"

// TenantSecret signs the webhooks of a tenant's on-demand exports (those
// whose request carried a webhook_url). Scheduled exports sign with their
// schedule's own secret instead. It is shown once, when it is created or
// rotated; deliveries use whichever secret is current when they are sent.
type TenantSecret struct {
	TenantID  string
	Secret    string
	CreatedAt time.Time
}
