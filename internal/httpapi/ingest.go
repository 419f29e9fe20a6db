package httpapi

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"

	"github.com/labstack/echo/v4"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/ingest"
)

// IngestResult answers an accepted batch.
type IngestResult struct {
	Received   int `json:"received"`
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}

// ingestEvents is POST /events: {"events":[…]} (up to 1,000 events) or
// application/x-ndjson (up to 100,000 events, streamed). A batch is all or
// nothing; ids already stored for the tenant are counted as duplicates and
// not stored again, so a client may safely re-send a batch.
func (s *Server) ingestEvents(c echo.Context) error {
	ctx := c.Request().Context()
	tenant := tenantOf(c)
	mt, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	var res IngestResult
	switch mt {
	case "application/json", "":
		events, err := ingest.DecodeJSON(c.Request().Body, ingest.Limits{Now: s.cfg.Now})
		if err != nil {
			return err
		}
		n, err := s.cfg.Store.InsertEvents(ctx, tenant, events)
		if err != nil {
			return err
		}
		res = IngestResult{Received: len(events), Accepted: n, Duplicates: len(events) - n}
	case "application/x-ndjson", "application/ndjson", "application/jsonl":
		// Spool the body first: the insert transaction must not stay open
		// (on SQLite: hold the only write lock) for as long as a slow
		// client takes to upload.
		body, err := spool(c.Request().Body, ingest.DefaultNDJSONLimits().MaxBytes)
		if err != nil {
			return err
		}
		defer body.Close()
		received := 0
		n, err := s.cfg.Store.InsertEventStream(ctx, tenant, func(put func([]audit.Event) error) error {
			// From the first line again when a lost deadlock is retried.
			if _, err := body.Seek(0, io.SeekStart); err != nil {
				return fmt.Errorf("httpapi: rewind the spooled body: %w", err)
			}
			var err error
			received, err = ingest.DecodeNDJSON(body, ingest.Limits{Now: s.cfg.Now}, put)
			return err
		})
		if err != nil {
			return err
		}
		res = IngestResult{Received: received, Accepted: n, Duplicates: received - n}
	default:
		return &audit.Error{Code: audit.EINVALID, Param: "Content-Type",
			Allowed: []string{"application/json", "application/x-ndjson"},
			Message: "Content-Type must be application/json or application/x-ndjson"}
	}
	s.logger.InfoContext(ctx, "events ingested", "tenant", tenant, "received", res.Received,
		"accepted", res.Accepted, "duplicates", res.Duplicates)
	return c.JSON(http.StatusOK, res)
}

// spool copies r (at most max bytes; more is ETOOLARGE) into an unlinked
// temporary file and returns it rewound. Closing it frees the space.
func spool(r io.Reader, max int64) (*os.File, error) {
	f, err := os.CreateTemp("", "sentinel-ingest-*")
	if err != nil {
		return nil, fmt.Errorf("httpapi: spool body: %w", err)
	}
	_ = os.Remove(f.Name()) // unlinked: nothing is left behind whatever happens
	src := &readErr{r: io.LimitReader(r, max+1)}
	n, err := io.Copy(f, src)
	switch {
	case src.err != nil:
		err = audit.Invalid("body", "the request body could not be read completely: %v", src.err)
	case err != nil:
		err = fmt.Errorf("httpapi: spool body: %w", err)
	case n > max:
		err = audit.Errorf(audit.ETOOLARGE, "an NDJSON body is at most %d MiB", max>>20)
	default:
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// readErr remembers a read error, to tell the client's fault (a broken
// upload) from ours (a full disk).
type readErr struct {
	r   io.Reader
	err error
}

func (r *readErr) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}
