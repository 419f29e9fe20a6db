package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// Snapshot headers: what a file is as of. A CSV has no place for metadata
// that would not change its bytes (a comment row would break every reader
// that expects the header row first), so the file's response says it, as
// do the status document and the signed manifest.
const (
	headerAsOf         = "X-Export-As-Of"
	headerAsOfPosition = "X-Export-As-Of-Position"
	headerSnapshot     = "X-Export-Snapshot"
	headerReused       = "X-Export-Reused"
)

// ctxKeyReuse holds the *reuse of the export this request attached to.
const ctxKeyReuse = "export_reuse"

// reuse says whether a request got an export made for an earlier one, and
// how old that export's snapshot is.
type reuse struct {
	reused bool
	age    time.Duration
}

// setAsOfHeaders says on a file response which snapshot the file holds.
func setAsOfHeaders(h http.Header, e audit.Export) {
	if e.AsOf == nil {
		return
	}
	h.Set(headerAsOf, e.AsOf.At.UTC().Format(time.RFC3339Nano))
	h.Set(headerAsOfPosition, strconv.FormatInt(e.AsOf.Snapshot.Position(), 10))
	h.Set(headerSnapshot, e.AsOf.Snapshot.String())
}

// noteReuse records, for the answer to an export request, whether the
// export was made for this request or an earlier identical one: a reused
// answer carries Age (RFC 9111: seconds since its snapshot was taken) and
// X-Export-Reused, and its status document says so too.
func (s *Server) noteReuse(c echo.Context, e audit.Export, created bool) {
	r := &reuse{reused: !created}
	h := c.Response().Header()
	if r.reused {
		since := e.CreatedAt
		if e.AsOf != nil {
			since = e.AsOf.At
		}
		r.age = max(s.cfg.Now().Sub(since), 0)
		h.Set("Age", strconv.FormatInt(int64(r.age/time.Second), 10))
	}
	h.Set(headerReused, strconv.FormatBool(r.reused))
	c.Set(ctxKeyReuse, r)
}

// withReuse adds what noteReuse recorded to v.
func withReuse(c echo.Context, v ExportStatus) ExportStatus {
	r, _ := c.Get(ctxKeyReuse).(*reuse)
	if r == nil {
		return v
	}
	v.Reused = &r.reused
	if r.reused {
		age := int64(r.age / time.Second)
		v.AgeSeconds = &age
	}
	return v
}

// noCache reports whether the request asks for a new export whatever
// exists (Cache-Control: no-cache, or the HTTP/1.0 Pragma: no-cache).
func noCache(r *http.Request) bool {
	for _, name := range []string{"Cache-Control", "Pragma"} {
		for _, line := range r.Header.Values(name) {
			for _, d := range strings.Split(line, ",") {
				d = strings.ToLower(strings.TrimSpace(d))
				if d == "no-cache" || (name == "Cache-Control" && d == "max-age=0") {
					return true
				}
			}
		}
	}
	return false
}
