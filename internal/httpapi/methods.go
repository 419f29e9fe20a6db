package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/auditsentinel/sentinel/internal/audit"
)

// methodIndex tells which methods serve a path. Echo answers a wrong
// method on a route of the authenticated group 404 (the group's catch-all
// not-found route matches first), and its own 405 elsewhere says only
// "Method Not Allowed"; the error handler uses the index to answer both
// 405 with Allow and a message naming the methods.
type methodIndex []routeMethods

type routeMethods struct {
	pattern *regexp.Regexp
	methods []string
}

// newMethodIndex indexes the registered routes by path template.
func newMethodIndex(routes []*echo.Route) methodIndex {
	byPath := map[string][]string{}
	var paths []string
	for _, r := range routes {
		if r.Method == echo.RouteNotFound || strings.HasSuffix(r.Path, "*") {
			continue
		}
		if _, ok := byPath[r.Path]; !ok {
			paths = append(paths, r.Path)
		}
		if !slices.Contains(byPath[r.Path], r.Method) {
			byPath[r.Path] = append(byPath[r.Path], r.Method)
		}
	}
	ix := make(methodIndex, 0, len(paths))
	for _, p := range paths {
		segs := strings.Split(p, "/")
		for i, s := range segs {
			if strings.HasPrefix(s, ":") {
				segs[i] = "[^/]+"
			} else {
				segs[i] = regexp.QuoteMeta(s)
			}
		}
		ms := byPath[p]
		slices.Sort(ms)
		ix = append(ix, routeMethods{pattern: regexp.MustCompile("^" + strings.Join(segs, "/") + "/?$"), methods: ms})
	}
	return ix
}

// allowed returns the methods that serve path, sorted; nil for a path no
// route serves.
func (ix methodIndex) allowed(path string) []string {
	var out []string
	for _, r := range ix {
		if r.pattern.MatchString(path) {
			out = append(out, r.methods...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// methodNotAllowed turns echo's 404 or 405 for a path that other methods
// serve into our 405, with Allow set; any other error is returned as it is.
func (s *Server) methodNotAllowed(err error, c echo.Context) error {
	var he *echo.HTTPError
	if !errors.As(err, &he) || (he.Code != http.StatusNotFound && he.Code != http.StatusMethodNotAllowed) {
		return err
	}
	req := c.Request()
	allowed := s.methods.allowed(req.URL.Path)
	if len(allowed) == 0 || slices.Contains(allowed, req.Method) {
		return err
	}
	allow := strings.Join(allowed, ", ")
	c.Response().Header().Set("Allow", allow)
	return &audit.Error{Code: audit.EMETHODNOTALLOWED, Allowed: allowed,
		Message: fmt.Sprintf("%s is not allowed on %s; allowed: %s", req.Method, req.URL.Path, allow)}
}
