package console

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
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
			"join":  strings.Join,
			"upper": strings.ToUpper,
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
	words   *i18n.Catalog // the exports' catalogue: dates and numbers the locale's way
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

// LangName is a language's name in that language, for the switch.
func (p *page) LangName(code string) string { return orDefault(languageNames[code], code) }

// Int shows n with the locale's digit grouping (1,234 or 1.234).
func (p *page) Int(n int64) string { return p.words.FormatInt(n) }

// Time shows t in the chosen zone, written the way the locale's exports
// write times ("10. Apr. 2026, 08:00:00 CEST" in de); "—" for none.
func (p *page) Time(t any) string {
	v, ok := timeOf(t)
	if !ok {
		return "—"
	}
	return p.words.FormatTime(v, p.loc)
}

// Date and Clock are Time's two halves ("10 Apr 2026", "08:00:00 EDT"),
// for table cells that break between them and nowhere else.
func (p *page) Date(t any) string {
	v, ok := timeOf(t)
	if !ok {
		return "—"
	}
	d, _ := p.words.FormatTimeParts(v, p.loc)
	return d
}

// Clock is the time of day of Date's time, with its zone.
func (p *page) Clock(t any) string {
	v, ok := timeOf(t)
	if !ok {
		return ""
	}
	_, c := p.words.FormatTimeParts(v, p.loc)
	return c
}

// timeOf reads a time.Time or *time.Time; false for nil or zero.
func timeOf(t any) (time.Time, bool) {
	var v time.Time
	switch x := t.(type) {
	case time.Time:
		v = x
	case *time.Time:
		if x == nil {
			return v, false
		}
		v = *x
	}
	return v, !v.IsZero()
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
	words, _ := i18n.Lookup(lang)     // every console language is an export locale (TestCatalogsAgree)
	return &page{Lang: lang, Langs: i18n.Supported(), Zone: zone, Nav: nav, Path: r.URL.RequestURI(),
		Errors: map[string]string{}, loc: loc, catalog: catalogs[lang], words: words}
}

// negotiate picks the supported language the browser prefers most: the
// Accept-Language entry of highest weight whose primary tag (pt of pt-BR)
// the console speaks, the earlier one on equal weights; q=0 means "not
// this one". English when none fits.
func negotiate(h string) string {
	best, bestQ := "en", 0.0
	for part := range strings.SplitSeq(h, ",") {
		tag, params, _ := strings.Cut(part, ";")
		base := strings.ToLower(strings.TrimSpace(strings.SplitN(tag, "-", 2)[0]))
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				continue
			}
			q = f
		}
		if catalogs[base] != nil && q > bestQ {
			best, bestQ = base, q
		}
	}
	return best
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
