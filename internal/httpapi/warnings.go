package httpapi

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/export"
)

const ctxKeyWarnings = "sentinel.warnings"

// WarningsHeader carries an export's warnings (a JSON array, ASCII only) on
// every answer about it: the file, a live stream, 202 and status documents.
const WarningsHeader = "X-Export-Warnings"

// withWarnings looks for list filter values of e that match no event of
// the tenant (export.Service.Warnings), keeps them for the status JSON and
// sets WarningsHeader.
func (s *Server) withWarnings(c echo.Context, e audit.Export) {
	ws := s.cfg.Exports.Warnings(c.Request().Context(), e.TenantID, e.Params)
	if len(ws) == 0 {
		return
	}
	c.Set(ctxKeyWarnings, ws)
	b, err := json.Marshal(ws)
	if err != nil {
		return
	}
	c.Response().Header().Set(WarningsHeader, asciiJSON(string(b)))
}

func (s *Server) statusWithWarnings(c echo.Context, e audit.Export) ExportStatus {
	v := statusView(e)
	v.Warnings, _ = c.Get(ctxKeyWarnings).([]export.Warning)
	return v
}

// asciiJSON writes every non-ASCII character of the JSON text j as a \u
// escape, which a header value can carry as it is.
func asciiJSON(j string) string {
	var b strings.Builder
	for _, r := range j {
		switch {
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		case r < utf8.RuneSelf:
			b.WriteRune(r)
		case r > 0xffff:
			r1, r2 := utf16Pair(r)
			fmt.Fprintf(&b, `\u%04x\u%04x`, r1, r2)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}
