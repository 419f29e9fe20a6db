package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/live"
)

// liveTrailers are sent after a live body: its size was not known when it
// started.
var liveTrailers = []string{"X-Checksum-SHA256", "Repr-Digest", "X-Export-Rows"}

// serveLive is the HTTP framing of a live body of export e, whose bytes
// copyBody writes (export.Outcome.Copy: package live copies them): the body
// is chunked, and its SHA-256, size and rows come as trailers once the
// export is stored and the bytes sent were checked against the stored file. When the copy is aborted (the export failed, or
// the bytes sent do not match the file stored) the connection is aborted:
// a partial or wrong body never ends like a complete one.
//
// A live body is content-coded like a stored file (serveFile) when
// Accept-Encoding asks: the relayed bytes are coded on the way out and the
// coded stream ends only after the check, so a coded body that must not
// end like a complete one never does. Its Repr-Digest trailer is then the
// coded bytes'; X-Checksum-SHA256 is always the decoded file's.
func (s *Server) serveLive(c echo.Context, e audit.Export, copyBody func(context.Context, io.Writer) (audit.Export, error)) error {
	ctx := c.Request().Context()
	cod, err := negotiate(c.Request(), codable(e.Params))
	if err != nil {
		return err
	}
	resp := c.Response()
	h := resp.Header()
	h.Set(echo.HeaderContentType, contentTypeOf(e))
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s"`, Filename(e)))
	h.Set("X-Export-Id", e.ID)
	h.Set("Cache-Control", "private, no-transform")
	if codable(e.Params) {
		h.Add("Vary", "Accept-Encoding")
	}
	if cod != identity {
		h.Set("Content-Encoding", string(cod))
	}
	setAsOfHeaders(h, e)
	for _, t := range liveTrailers {
		h.Add("Trailer", t)
	}
	_ = http.NewResponseController(resp.Writer).SetWriteDeadline(time.Time{})
	resp.WriteHeader(http.StatusOK)
	resp.Flush()

	var body io.Writer = resp
	var enc *encoder
	if cod != identity {
		enc = newEncoder(cod, resp)
		body = enc
	}
	done, err := copyBody(ctx, body)
	if errors.Is(err, live.ErrAborted) {
		s.logger.ErrorContext(ctx, "live download aborted", "export_id", e.ID,
			"request_id", h.Get(echo.HeaderXRequestID), "err", err)
		panic(http.ErrAbortHandler)
	}
	if err != nil {
		return nil //nolint:nilerr // the client went away: nobody to answer
	}
	h.Set("X-Checksum-SHA256", done.SHA256)
	if enc != nil {
		d, err := enc.Close()
		if err != nil {
			return nil //nolint:nilerr // the client went away: nobody to answer
		}
		h.Set("Repr-Digest", d)
	} else if raw, err := hex.DecodeString(done.SHA256); err == nil {
		h.Set("Repr-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(raw)+":")
	}
	h.Set("X-Export-Rows", strconv.FormatInt(done.RowsWritten, 10))
	return nil
}
