package pdfrender

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/render"
)

// TestConcurrentRenders: a worker renders several PDFs at once, one of them
// long, and each must come out whole. (fpdf writes into the font bytes it
// is handed, which is why each renderer copies them; the race detector saw
// that in the end-to-end suite, where PDF tests run in parallel — this
// smaller test has not reproduced it, so it guards the outcome only.)
func TestConcurrentRenders(t *testing.T) {
	var wg sync.WaitGroup
	out := make([][]byte, 8)
	for i := range out {
		wg.Go(func() {
			time.Sleep(time.Duration(i) * 15 * time.Millisecond) // one closes while another loads its fonts
			var buf bytes.Buffer
			r, err := New(&buf, render.Report{TenantID: "t", Params: audit.ExportParams{Locale: "en", FileType: audit.FilePDF},
				Location: time.UTC, GeneratedAt: time.Now(), EventCount: -1}, Options{})
			if err != nil {
				t.Error(err)
				return
			}
			n := 20
			if i == 0 {
				n = 2000 // a long Close (font subsetting) that the others overlap
			}
			for j := range n {
				ev := &audit.Event{ID: fmt.Sprintf("e-%d-%d", i, j), OccurredAt: time.Now(), EventType: "task",
					SubType: "created", SystemSource: "tests", Description: fmt.Sprintf("event %d, with \"quotes\", commas and ünïcödé — Ελένη Дмитрий Zoë 0123456789", j),
					Metadata: map[string]string{"entity_id": "497f6eca-6276-4993-bfeb-53cbbbba6f08", "ip": "192.0.2.1"}}
				if err := r.WriteEvent(ev); err != nil {
					t.Error(err)
					return
				}
			}
			if err := r.Close(); err != nil {
				t.Error(err)
			}
			out[i] = buf.Bytes()
		})
	}
	wg.Wait()
	for i, b := range out {
		if !bytes.HasPrefix(b, []byte("%PDF-")) {
			t.Errorf("render %d is not a PDF", i)
		}
	}
}
