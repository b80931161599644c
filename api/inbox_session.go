package api

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/atende/atende/accounts"
	"github.com/atende/atende/handoff"
)

// The inbox's cookies: the session (HttpOnly) and the login form's CSRF
// token (double submit, before there is a session).
const (
	sessionCookie    = "atende_session"
	loginCSRFCookie  = "atende_login_csrf"
	inboxCookiePath  = "/inbox"
	sessionCookieAge = 12 * 3600
)

// secure says whether cookies get the Secure flag: behind TLS, or a proxy
// that says so, or a public https URL.
func (h *handlers) secure(c *gin.Context) bool {
	return c.Request.TLS != nil || c.GetHeader("X-Forwarded-Proto") == "https" || strings.HasPrefix(h.d.PublicURL, "https://")
}

func (h *handlers) setCookie(c *gin.Context, name, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: value, Path: inboxCookiePath, MaxAge: maxAge, HttpOnly: true,
		Secure: h.secure(c), SameSite: http.SameSiteLaxMode})
}

// inboxSession requires a logged-in attendant: pages redirect to the login,
// anything else answers 401.
func (h *handlers) inboxSession(c *gin.Context) {
	token, _ := c.Cookie(sessionCookie)
	sess, err := h.d.Handoffs.Session(c.Request.Context(), token)
	if errors.Is(err, handoff.ErrNoSession) {
		if c.Request.Method == http.MethodGet && c.GetHeader("Accept") != "text/event-stream" {
			c.Redirect(http.StatusSeeOther, "/inbox/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
			c.Abort()
			return
		}
		abortWith(c, http.StatusUnauthorized, "unauthorized", "log in to the inbox")
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	c.Set("session", sess)
	c.Set("account_id", sess.AccountID.String())
	c.Set("account", accounts.Account{ID: sess.AccountID})
	c.Next()
}

func session(c *gin.Context) handoff.Session {
	s, _ := c.Get("session")
	sess, _ := s.(handoff.Session)
	return sess
}

// checkCSRF requires the form's csrf field to be the session's token.
func checkCSRF(c *gin.Context, want string) bool {
	got := c.PostForm("csrf")
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		abortWith(c, http.StatusForbidden, "csrf", "the form expired or did not come from the inbox; reload the page")
		return false
	}
	return true
}

// safeNext keeps a post-login redirect inside the inbox.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/inbox") && !strings.HasPrefix(next, "//") && !strings.Contains(next, "\\") {
		return next
	}
	return "/inbox"
}
