// Package formats assembles the renderers of every file format Audit
// Sentinel writes (render/csv, render/pdf) into the one render.Registry the
// worker runs with. It is a package of its own because render is what the
// formats import: render cannot import them back.
package formats

import (
	"io"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/render"
	csvrender "github.com/auditsentinel/sentinel/internal/render/csv"
	pdfrender "github.com/auditsentinel/sentinel/internal/render/pdf"
)

// Registry returns the renderers by file type; a PDF holds at most pdfMax
// events (PDF_MAX_EVENTS).
func Registry(pdfMax int) render.Registry {
	return render.Registry{
		audit.FileCSV: CSV,
		audit.FilePDF: func(rep render.Report, w io.Writer) (render.Renderer, error) {
			r, err := pdfrender.New(w, rep, pdfrender.Options{MaxEvents: pdfMax})
			if err != nil {
				return nil, err // not a typed nil in an interface
			}
			return r, nil
		},
	}
}

// CSV is the CSV renderer as a render.Func.
func CSV(rep render.Report, w io.Writer) (render.Renderer, error) {
	r, err := csvrender.New(w, rep)
	if err != nil {
		return nil, err // not a typed nil in an interface
	}
	return r, nil
}
