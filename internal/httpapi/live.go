package httpapi

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/auditsentinel/sentinel/internal/live"
	"github.com/labstack/echo/v4"
)

// liveTrailers are sent after a live body: its size was not known when it
// started.
var liveTrailers = []string{"X-Checksum-SHA256", "Repr-Digest", "X-Export-Rows"}

// serveLive is the HTTP framing of a live body (package live copies the
// bytes): the body is chunked, and its SHA-256, size and rows come as
// trailers once the export is stored and the bytes sent were checked
// against the stored file. When the copy is aborted (the export failed, or
// the bytes sent do not match the file stored) the connection is aborted:
// a partial or wrong body never ends like a complete one.
func (s *Server) serveLive(c echo.Context, w live.Waited) error {
	ctx := c.Request().Context()
	e := w.Export
	resp := c.Response()
	h := resp.Header()
	h.Set(echo.HeaderContentType, contentTypeOf(e))
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s"`, Filename(e)))
	h.Set("X-Export-Id", e.ID)
	h.Set("Cache-Control", "private, no-transform")
	for _, t := range liveTrailers {
		h.Add("Trailer", t)
	}
	_ = http.NewResponseController(resp.Writer).SetWriteDeadline(time.Time{})
	resp.WriteHeader(http.StatusOK)
	resp.Flush()

	done, err := s.follower().Copy(ctx, resp, w)
	if errors.Is(err, live.ErrAborted) {
		s.logger.ErrorContext(ctx, "live download aborted", "export_id", e.ID,
			"request_id", h.Get(echo.HeaderXRequestID), "err", err)
		panic(http.ErrAbortHandler)
	}
	if err != nil {
		return nil // the client went away
	}
	h.Set("X-Checksum-SHA256", done.SHA256)
	if raw, err := hex.DecodeString(done.SHA256); err == nil {
		h.Set("Repr-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(raw)+":")
	}
	h.Set("X-Export-Rows", strconv.FormatInt(done.RowsWritten, 10))
	return nil
}

func (s *Server) follower() *live.Follower {
	return &live.Follower{Source: s.cfg.Live, Records: s.cfg.Store, Files: s.cfg.Files, Logger: s.logger,
		Metrics: s.metrics.live}
}
