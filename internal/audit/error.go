package audit

import (
	"errors"
	"fmt"
	"strings"
)

// Error codes: the one vocabulary every layer speaks. The HTTP layer maps each
// code to a status in exactly one table (httpapi.statusOf).
const (
	EINVALID        = "invalid"         // the caller sent something we will not accept
	EUNAUTHORIZED   = "unauthorized"    // missing, unknown, revoked or expired API key
	EFORBIDDEN      = "forbidden"       // the API key lacks the scope the request needs
	ENOTFOUND       = "not_found"       // absent, or owned by another tenant
	ECONFLICT       = "conflict"        // the resource is not in a state that allows this
	EGONE           = "gone"            // existed, but expired
	ETOOLARGE       = "too_large"       // request body over the documented limit
	ENOTIMPLEMENTED = "not_implemented" // valid, but this deployment cannot do it
	EUNAVAILABLE    = "unavailable"     // a dependency is down; retry later
	ETOOMANY        = "too_many"        // the tenant is at a limit of things in progress; retry later
	EINTERNAL       = "internal"        // a bug or an unexpected failure; never shown in detail
	ENOTACCEPTABLE  = "not_acceptable"  // the request refuses every form the answer can take (Accept-Encoding)

	// Only the HTTP router answers these two (the API documents them as
	// codes like the others).
	EMETHODNOTALLOWED = "method_not_allowed"     // the path exists, the method does not
	EUNSUPPORTEDMEDIA = "unsupported_media_type" // a body in a media type the endpoint does not read
)

// Error is an application error. Message is safe to show to the caller;
// Param names the offending request parameter or field when there is one.
type Error struct {
	Code    string
	Message string
	Param   string
	// Allowed lists the accepted values when the set is small and useful to
	// show (locales, file types, metadata keys).
	Allowed []string
	// Details carries structured information for the caller, such as the
	// per-event problems of a rejected ingest batch.
	Details any
}

// Error is the message, a sentence a person can read where it ends up
// (sentinelctl's stderr, a log line); the code and param are fields, for
// code (ErrorCode, AsError) and for the HTTP body. A bare sentinel reads
// as its code in words ("not found").
func (e *Error) Error() string {
	if e.Message == sentinelMessage || e.Message == "" {
		return strings.ReplaceAll(e.Code, "_", " ")
	}
	return e.Message
}

// Is makes errors.Is(err, ErrNotFound) true for every not-found error,
// whatever its message, so adapters can add context to the sentinel.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Message == sentinelMessage
}

const sentinelMessage = "\x00sentinel"

// Sentinels for errors.Is. Adapters translate driver errors into these at
// the edge (sql.ErrNoRows, pgx.ErrNoRows, S3 NoSuchKey → ErrNotFound).
var (
	ErrNotFound = &Error{Code: ENOTFOUND, Message: sentinelMessage}
	ErrConflict = &Error{Code: ECONFLICT, Message: sentinelMessage}
	ErrTooMany  = &Error{Code: ETOOMANY, Message: sentinelMessage}
)

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error naming the parameter at fault.
func Invalid(param, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Param: param, Message: fmt.Sprintf(format, args...)}
}

// NotFound returns an ENOTFOUND error that also matches ErrNotFound.
func NotFound(format string, args ...any) *Error {
	return &Error{Code: ENOTFOUND, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-safe message of err. Internal errors get a
// generic text: their detail goes to the log, never to the caller.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Message != sentinelMessage {
		return e.Message
	}
	if errors.As(err, &e) {
		return e.Code
	}
	return "internal error"
}

// AsError returns the first *Error in err's chain, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
