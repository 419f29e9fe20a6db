package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"
)

// jsonStatusWriter stands between http.ServeContent and the response: the
// 412 and 416 that ServeContent writes itself (as an empty body and as
// plain text) are replaced by the JSON error body every other 4xx has.
type jsonStatusWriter struct {
	http.ResponseWriter
	requestID string
	req       *http.Request
	swallow   bool // the status was rewritten: drop ServeContent's own body
}

func (w *jsonStatusWriter) WriteHeader(code int) {
	var detail ErrorDetail
	switch code {
	case http.StatusPreconditionFailed:
		param := "If-Match"
		if w.req.Header.Get("If-Match") == "" {
			param = "If-Unmodified-Since"
		}
		detail = ErrorDetail{Code: "precondition_failed", Param: param,
			Message: "a precondition (If-Match or If-Unmodified-Since) does not hold for this file"}
	case http.StatusRequestedRangeNotSatisfiable:
		detail = ErrorDetail{Code: "range_not_satisfiable", Param: "Range",
			Message: "the Range asks for bytes this file does not have; Content-Range gives its size"}
	default:
		w.ResponseWriter.WriteHeader(code)
		return
	}
	detail.RequestID = w.requestID
	h := w.Header()
	h.Del("Content-Length")
	h.Del("X-Content-Type-Options")
	h.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	w.ResponseWriter.WriteHeader(code)
	w.swallow = true
	_ = json.NewEncoder(w.ResponseWriter).Encode(ErrorBody{Error: detail})
}

func (w *jsonStatusWriter) Write(p []byte) (int, error) {
	if w.swallow {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *jsonStatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
