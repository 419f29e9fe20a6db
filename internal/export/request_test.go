package export

import (
	"testing"

	"github.com/auditsentinel/sentinel/internal/audit"
)

func TestRequestHash(t *testing.T) {
	p := audit.ExportParams{Filter: audit.Filter{TenantID: "acme", EventTypes: []string{"task"}},
		FileType: audit.FileCSV, Locale: "en", Timezone: "UTC"}
	// Without a webhook the hash is the params' own, so exports recorded
	// before webhooks existed still answer identical requests.
	if got := requestHash(p, Options{}); got != p.Hash() {
		t.Fatalf("without webhook: %s, want %s", got, p.Hash())
	}
	a := requestHash(p, Options{WebhookURL: "https://a.example.com/h"})
	b := requestHash(p, Options{WebhookURL: "https://b.example.com/h"})
	if a == p.Hash() || a == b || a != requestHash(p, Options{WebhookURL: "https://a.example.com/h"}) {
		t.Fatalf("hashes: none %s, a %s, b %s", p.Hash(), a, b)
	}
}
