package httpapi

import (
	"mime"
	"net/http"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/ingest"
	"github.com/labstack/echo/v4"
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
		received := 0
		n, err := s.cfg.Store.InsertEventStream(ctx, tenant, func(put func([]audit.Event) error) error {
			var err error
			received, err = ingest.DecodeNDJSON(c.Request().Body, ingest.Limits{Now: s.cfg.Now}, put)
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
