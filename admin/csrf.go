package admin

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
)

// csrfField is the hidden form field carrying the CSRF token.
const csrfField = "csrf_token"

// cookieName is the CSRF cookie's name: with the __Host- prefix over
// HTTPS, so that a sibling subdomain cannot plant one.
func cookieName(r *http.Request) string {
	if secure(r) {
		return "__Host-scimkit_admin_csrf"
	}
	return "scimkit_admin_csrf"
}

func secure(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

// csrfToken returns the session's CSRF token, setting the cookie that
// holds it when the browser has none.
func (a *Handler) csrfToken(w http.ResponseWriter, r *request) string {
	if r.csrf != "" {
		return r.csrf
	}
	if c, err := r.Cookie(cookieName(r.Request)); err == nil && len(c.Value) == 43 {
		r.csrf = c.Value
		return r.csrf
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	r.csrf = base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{
		Name: cookieName(r.Request), Value: r.csrf, Path: "/",
		HttpOnly: true, Secure: secure(r.Request), SameSite: http.SameSiteStrictMode,
	})
	return r.csrf
}

// checkCSRF refuses a POST that comes from another origin, or whose form
// does not carry the token of the session's cookie (compared in constant
// time). It answers 403 itself and returns false.
func (a *Handler) checkCSRF(w http.ResponseWriter, r *request) bool {
	if err := a.cop.Check(r.Request); err != nil {
		a.errorPage(w, r, http.StatusForbidden, "This form was sent from another site, so it was refused.")
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	sent := r.PostFormValue(csrfField)
	c, err := r.Cookie(cookieName(r.Request))
	if err != nil || sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(c.Value)) != 1 {
		a.errorPage(w, r, http.StatusForbidden, "This form has expired or did not come from this page. Reload the page and try again.")
		return false
	}
	r.csrf = c.Value
	return true
}
