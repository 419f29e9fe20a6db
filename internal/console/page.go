package console

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/auditsentinel/sentinel/internal/i18n"
)

// pageTemplate is one page: the layout and its content.
type pageTemplate struct{ t *template.Template }

var pageNames = []string{"signin", "export_form", "export", "archives", "confirm_delete", "schedules", "schedule_form", "schedule"}

func parsePages() map[string]*pageTemplate {
	out := map[string]*pageTemplate{}
	for _, name := range pageNames {
		t := template.Must(template.New("layout.html").Funcs(template.FuncMap{
			"join": strings.Join,
		}).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
		out[name] = &pageTemplate{t: t}
	}
	return out
}

// page is what every template sees.
type page struct {
	Lang    string
	Langs   []string
	Zone    string
	CSRF    string
	Tenant  string
	Nav     string // the current section
	Path    string // for the preference switch to come back to
	Title   string
	Errors  map[string]string // inline messages by field (the API's param)
	Error   string            // a message for the whole form
	Notice  string
	Data    any
	loc     *time.Location
	catalog map[string]string
}

// T translates a console string.
func (p *page) T(key string, args ...any) string {
	s, ok := p.catalog[key]
	if !ok {
		s, ok = catalogs["en"][key]
	}
	if !ok {
		s = key
	}
	if len(args) > 0 && strings.Contains(s, "%") {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Time shows t in the chosen zone.
func (p *page) Time(t any) string {
	var v time.Time
	switch x := t.(type) {
	case time.Time:
		v = x
	case *time.Time:
		if x == nil {
			return "—"
		}
		v = *x
	default:
		return ""
	}
	if v.IsZero() {
		return "—"
	}
	return v.In(p.loc).Format("2006-01-02 15:04:05 MST")
}

// Err is the inline message for field, if any.
func (p *page) Err(field string) string { return p.Errors[field] }

// newPage reads the language (cookie, then Accept-Language) and the zone.
func (c *Console) newPage(r *http.Request, nav string) *page {
	lang := ""
	if ck, err := r.Cookie(langCookie); err == nil && catalogs[ck.Value] != nil {
		lang = ck.Value
	}
	if lang == "" {
		lang = negotiate(r.Header.Get("Accept-Language"))
	}
	zone := "UTC"
	if ck, err := r.Cookie(zoneCookie); err == nil {
		if _, err := time.LoadLocation(ck.Value); err == nil && ck.Value != "" && ck.Value != "Local" {
			zone = ck.Value
		}
	}
	loc, _ := time.LoadLocation(zone) // checked above
	return &page{Lang: lang, Langs: i18n.Supported(), Zone: zone, Nav: nav, Path: r.URL.RequestURI(),
		Errors: map[string]string{}, loc: loc, catalog: catalogs[lang]}
}

// negotiate picks the first supported language of an Accept-Language
// header (in the order given; weights are nearly always descending).
func negotiate(h string) string {
	for part := range strings.SplitSeq(h, ",") {
		tag := strings.TrimSpace(strings.SplitN(part, ";", 2)[0])
		base := strings.ToLower(strings.SplitN(tag, "-", 2)[0])
		if catalogs[base] != nil {
			return base
		}
	}
	return "en"
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, name string, p *page, status int) {
	var buf bytes.Buffer
	if err := c.pages[name].t.Execute(&buf, p); err != nil {
		c.internal(w, r, fmt.Errorf("console: render %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", p.Lang)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// authedPage is a page for a signed-in request.
func (c *Console) authedPage(r *request, nav string) *page {
	p := c.newPage(r.Request, nav)
	p.CSRF, p.Tenant = r.sess.CSRF, r.sess.Tenant
	return p
}
