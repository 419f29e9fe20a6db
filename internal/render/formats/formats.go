// Package formats assembles the renderers of every file format Audit
// Sentinel writes (render/csv, render/ndjson, render/parquet, render/pdf) into the one render.Registry the
// worker runs with. It is a package of its own because render is what the
// formats import: render cannot import them back.
package formats

import (
	"io"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/render"
	csvrender "github.com/auditsentinel/sentinel/internal/render/csv"
	"github.com/auditsentinel/sentinel/internal/render/ndjson"
	"github.com/auditsentinel/sentinel/internal/render/parquet"
	pdfrender "github.com/auditsentinel/sentinel/internal/render/pdf"
)

// Registry returns the renderers by file type; a PDF holds at most pdfMax
// events (PDF_MAX_EVENTS).
func Registry(pdfMax int) render.Registry {
	return render.Registry{
		audit.FileCSV:     CSV,
		audit.FileNDJSON:  NDJSON,
		audit.FileParquet: Parquet,
		audit.FilePDF: func(rep render.Report, w io.Writer) (render.Renderer, error) {
			r, err := pdfrender.New(w, rep, pdfrender.Options{MaxEvents: pdfMax})
			if err != nil {
				return nil, err // not a typed nil in an interface
			}
			return r, nil
		},
	}
}

// CSV is the CSV renderer as a render.Func, with the report's spreadsheet
// options (bom, delimiter, columns).
func CSV(rep render.Report, w io.Writer) (render.Renderer, error) {
	var opts []csvrender.Option
	if rep.Params.BOM {
		opts = append(opts, csvrender.WithBOM())
	}
	if d, ok := audit.Delimiters[rep.Params.Delimiter]; ok {
		opts = append(opts, csvrender.WithDelimiter(d))
	}
	if len(rep.Params.Columns) > 0 {
		opts = append(opts, csvrender.WithColumns(rep.Params.SelectedColumns()))
	}
	r, err := csvrender.New(w, rep, opts...)
	if err != nil {
		return nil, err // not a typed nil in an interface
	}
	return r, nil
}

// NDJSON is the NDJSON renderer as a render.Func.
func NDJSON(rep render.Report, w io.Writer) (render.Renderer, error) {
	r, err := ndjson.New(w, rep)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Parquet is the Parquet renderer as a render.Func.
func Parquet(rep render.Report, w io.Writer) (render.Renderer, error) {
	r, err := parquet.New(w, rep, parquet.Options{})
	if err != nil {
		return nil, err
	}
	return r, nil
}
