package httpapi

import (
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// checkInput refuses, for every route of the API, path parameters and query
// values that no record can hold: invalid UTF-8 (a database would store
// U+FFFD in its place, or refuse it) and NUL (PostgreSQL refuses it in text,
// SQLSTATE 22021, which would surface as a 500). The answer is a 400 naming
// the parameter, the same on both store backends. Other control characters
// are left to each handler, which knows what its values may hold. A
// parameter without a name (?=x) is refused here too: there is no name to
// blame for it.
func (s *Server) checkInput(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		names, vals := c.ParamNames(), c.ParamValues()
		for i, name := range names {
			if i < len(vals) && !storable(vals[i]) {
				return audit.Invalid(name, "%s must be valid UTF-8 without NUL characters; no record has such an id", name)
			}
		}
		q, err := url.ParseQuery(c.QueryString())
		if err != nil {
			return next(c) // the handler explains a malformed query
		}
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			param := k
			if k == "" {
				return audit.Invalid("query", "a query parameter has no name (…&=value); write name=value")
			}
			if !storable(k) {
				if param = strings.ToValidUTF8(strings.ReplaceAll(k, "\x00", ""), "?"); param == "" {
					param = "query"
				}
				return audit.Invalid(param, "query parameter names must be valid UTF-8 without NUL characters")
			}
			for _, v := range q[k] {
				if !storable(v) {
					return audit.Invalid(param, "%s values must be valid UTF-8 without NUL characters "+
						"(percent-encode the UTF-8 bytes of the text)", param)
				}
			}
		}
		return next(c)
	}
}

func storable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}
