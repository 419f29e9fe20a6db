package httpapi

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// statusOf is the one table from error codes to HTTP statuses.
var statusOf = map[string]int{
	audit.EINVALID:        http.StatusBadRequest,
	audit.EUNAUTHORIZED:   http.StatusUnauthorized,
	audit.EFORBIDDEN:      http.StatusForbidden,
	audit.ENOTFOUND:       http.StatusNotFound,
	audit.ECONFLICT:       http.StatusConflict,
	audit.EGONE:           http.StatusGone,
	audit.ETOOLARGE:       http.StatusRequestEntityTooLarge,
	audit.ENOTIMPLEMENTED: http.StatusNotImplemented,
	audit.EUNAVAILABLE:    http.StatusServiceUnavailable,
	audit.ETOOMANY:        http.StatusTooManyRequests,
	audit.EINTERNAL:       http.StatusInternalServerError,
	audit.ENOTACCEPTABLE:  http.StatusNotAcceptable,

	audit.EMETHODNOTALLOWED: http.StatusMethodNotAllowed,
	audit.EUNSUPPORTEDMEDIA: http.StatusUnsupportedMediaType,
}

// ErrorBody is the JSON shape of every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail describes one error. Param names the offending parameter or
// field; Allowed lists accepted values when the set is small.
type ErrorDetail struct {
	Code      string   `json:"code"`
	Message   string   `json:"message"`
	Param     string   `json:"param,omitempty"`
	Allowed   []string `json:"allowed,omitempty"`
	Details   any      `json:"details,omitempty"`
	RequestID string   `json:"request_id,omitempty"`
}

// handleError renders err. Errors of our vocabulary are shown as they are;
// echo's own (unknown route, wrong method, bad body) keep their status;
// anything else is an internal error, logged in full and shown as nothing
// more than a request id.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	err = s.methodNotAllowed(err, c)
	rid := c.Response().Header().Get(echo.HeaderXRequestID)
	body := ErrorDetail{RequestID: rid}
	status := http.StatusInternalServerError
	var he *echo.HTTPError
	if ae := audit.AsError(err); ae != nil && ae.Code != audit.EINTERNAL {
		status = statusOf[ae.Code]
		if status == 0 {
			status = http.StatusInternalServerError
		}
		body.Code, body.Message, body.Param, body.Allowed, body.Details =
			ae.Code, audit.ErrorMessage(ae), ae.Param, ae.Allowed, ae.Details
		switch ae.Code {
		case audit.EUNAVAILABLE:
			// Whatever was unavailable is expected back soon; say when to
			// try again rather than leave clients to guess.
			c.Response().Header().Set("Retry-After", "1")
		case audit.ETOOMANY:
			// A place frees when one of the tenant's exports finishes:
			// seconds for most, more for large ones.
			c.Response().Header().Set("Retry-After", "5")
		}
	} else if errors.As(err, &he) && he.Code < 500 {
		status = he.Code
		body.Code = codeForStatus(status)
		body.Message = http.StatusText(status)
		if m, ok := he.Message.(string); ok {
			body.Message = m
		}
	} else {
		body.Code = audit.EINTERNAL
		body.Message = "internal error; quote the request id when you contact support"
		s.logger.ErrorContext(c.Request().Context(), "internal error", "request_id", rid,
			"method", c.Request().Method, "path", c.Path(), "err", err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	_ = c.JSON(status, ErrorBody{Error: body})
}

// codeForStatus is the vocabulary's code for one of echo's own client
// errors: the code statusOf maps to that status, EINVALID for any other.
func codeForStatus(status int) string {
	for code, st := range statusOf {
		if st == status {
			return code
		}
	}
	return audit.EINVALID
}
