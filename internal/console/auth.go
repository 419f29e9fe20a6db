package console

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/auditsentinel/sentinel/internal/apikey"
	"github.com/auditsentinel/sentinel/internal/audit"
	"github.com/auditsentinel/sentinel/internal/i18n"
)

func (c *Console) home(w http.ResponseWriter, r *request) {
	http.Redirect(w, r.Request, Base+"exports/new", http.StatusSeeOther)
}

func (c *Console) signinPage(w http.ResponseWriter, r *http.Request) {
	p := c.newPage(r, "signin")
	p.Title = p.T("signin.title")
	p.Error = r.URL.Query().Get("reason")
	c.render(w, r, "signin", p, http.StatusOK)
}

// signin exchanges an API key (posted in the form body, never in a URL)
// for a session cookie.
func (c *Console) signin(w http.ResponseWriter, r *http.Request) {
	secret := r.PostFormValue("apikey")
	k, err := apikey.Authenticate(r.Context(), c.cfg.Keys, secret, c.cfg.Now())
	if err != nil {
		ae := audit.AsError(err)
		if ae == nil || ae.Code != audit.EUNAUTHORIZED {
			c.internal(w, r, err)
			return
		}
		p := c.newPage(r, "signin")
		p.Title = p.T("signin.title")
		p.Errors["apikey"] = audit.ErrorMessage(err)
		c.render(w, r, "signin", p, http.StatusUnauthorized)
		return
	}
	id, sess, err := c.cfg.Sessions.create(r.Context(), apikey.Hash(strings.TrimSpace(secret)), k.TenantID, c.cfg.Now())
	if err != nil {
		c.internal(w, r, err)
		return
	}
	c.setSession(w, r, id, sess.Expires)
	http.Redirect(w, r, Base+"exports/new", http.StatusSeeOther)
}

func (c *Console) signout(w http.ResponseWriter, r *request) {
	if err := c.cfg.Sessions.end(r.Context(), r.id); err != nil {
		c.internal(w, r.Request, err)
		return
	}
	c.clearSession(w, r.Request)
	http.Redirect(w, r.Request, Base+"signin", http.StatusSeeOther)
}

// prefs sets the language and display zone and goes back. They are mere
// preferences, so a GET form (which works before signing in) is enough.
func (c *Console) prefs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	year := 365 * 24 * time.Hour
	if l := q.Get("lang"); i18n.IsSupported(l) {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: Base, MaxAge: int(year.Seconds()),
			SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, HttpOnly: true})
	}
	if z := q.Get("tz"); z != "" {
		if _, err := time.LoadLocation(z); err == nil && z != "Local" {
			http.SetCookie(w, &http.Cookie{Name: zoneCookie, Value: z, Path: Base, MaxAge: int(year.Seconds()),
				SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, HttpOnly: true})
		}
	}
	back := q.Get("back")
	if u, err := url.Parse(back); err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(u.Path, Base) ||
		strings.HasPrefix(back, "//") {
		back = Base
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
