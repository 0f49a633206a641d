package admin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
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

// The CSRF defence has three layers: cross-origin POSTs are refused
// (http.CrossOriginProtection); the form must carry a token matching a
// random value in a SameSite=Strict, HttpOnly cookie; and that token is
// not the cookie's value but its HMAC-SHA-256, keyed by Config.CSRFKey,
// over the tenant and admin of the session. Whoever can plant a cookie
// (a sibling subdomain over plain HTTP) cannot make the matching token,
// and a token made for one admin's session does not work in another's.

// csrfToken returns the session's CSRF token for the page's forms, setting
// the cookie that holds its random part when the browser has none.
func (a *Handler) csrfToken(w http.ResponseWriter, r *request) string {
	if r.csrf != "" {
		return r.csrf
	}
	if c, err := r.Cookie(cookieName(r.Request)); err == nil && len(c.Value) == 43 {
		r.csrf = a.csrfMAC(r, c.Value)
		return r.csrf
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	nonce := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{
		Name: cookieName(r.Request), Value: nonce, Path: "/",
		HttpOnly: true, Secure: secure(r.Request), SameSite: http.SameSiteStrictMode,
	})
	r.csrf = a.csrfMAC(r, nonce)
	return r.csrf
}

// csrfMAC binds the cookie's nonce to the session: the tenant, and the
// admin when Config.Actor names one.
func (a *Handler) csrfMAC(r *request, nonce string) string {
	actor := ""
	if a.cfg.Actor != nil {
		actor = a.cfg.Actor(r.Request)
	}
	m := hmac.New(sha256.New, a.csrfKey)
	for _, part := range []string{"scimkit admin csrf", r.tenant, actor, nonce} {
		m.Write([]byte(part))
		m.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF refuses a POST that comes from another origin, or whose form
// does not carry the token made from the session's cookie (compared with
// hmac.Equal). It answers 403 itself and returns false.
func (a *Handler) checkCSRF(w http.ResponseWriter, r *request) bool {
	if err := a.cop.Check(r.Request); err != nil {
		a.errorPage(w, r, http.StatusForbidden, "This form was sent from another site, so it was refused.")
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	sent := r.PostFormValue(csrfField)
	c, err := r.Cookie(cookieName(r.Request))
	if err != nil || sent == "" || len(c.Value) != 43 || !hmac.Equal([]byte(sent), []byte(a.csrfMAC(r, c.Value))) {
		a.errorPage(w, r, http.StatusForbidden, "This form has expired or did not come from this page. Reload the page and try again.")
		return false
	}
	r.csrf = sent
	return true
}
