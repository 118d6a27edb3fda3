package console

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
)

// contentSecurityPolicy allows only the console's own scripts, styles and
// requests: no inline script, no framing, no other origins.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// securityHeaders sets the strict headers on every response.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// limitBody bounds every request body to MaxBodyBytes; reading past it
// fails with *http.MaxBytesError, answered with 413.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > MaxBodyBytes {
			writeError(w, r, http.StatusRequestEntityTooLarge, "too_large", bodyTooLargeMessage)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

const bodyTooLargeMessage = "request body is larger than 16 KiB"

// identity is the logged-in user of a request.
type identity struct {
	user string
	role Role
	csrf string
}

type identityKey struct{}

func identityFrom(ctx context.Context) identity {
	id, _ := ctx.Value(identityKey{}).(identity)
	return id
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// requireSession lets only requests with a live session through. Others
// get 401 (API) or a redirect to the login page that returns here.
func (c *Console) requireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var sess session
		var err error
		if ck, cerr := r.Cookie(c.cookies.session); cerr == nil {
			sess, err = c.sessions.get(ck.Value)
		} else {
			err = errNoSession
		}
		if err == nil {
			if _, ok := c.users.Lookup(sess.user); !ok {
				err = errNoSession
			}
		}
		if err != nil {
			if isAPI(r) {
				writeError(w, r, http.StatusUnauthorized, "unauthenticated", "log in first: no valid session")
				return
			}
			target := "/login"
			if r.Method == http.MethodGet && r.URL.Path != "/" {
				target += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		ctx := context.WithValue(r.Context(), identityKey{}, identity{user: sess.user, role: sess.role, csrf: sess.csrfToken})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// requireCSRF checks the session's synchronizer token on every request
// that is not GET, HEAD or OPTIONS: header X-CSRF-Token, or form field
// csrf_token for form posts.
func (c *Console) requireCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		want := identityFrom(r.Context()).csrf
		got := r.Header.Get("X-CSRF-Token")
		if got == "" && !isAPI(r) {
			if err := r.ParseForm(); err != nil {
				c.failErr(w, r, formError(err))
				return
			}
			got = r.PostForm.Get("csrf_token")
		}
		if want == "" || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			c.fail(w, r, http.StatusForbidden, "csrf", "missing or invalid CSRF token: reload the page and try again")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requireOperator refuses users whose role cannot change stages.
func (c *Console) requireOperator(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := identityFrom(r.Context())
		if !id.role.CanChange() {
			c.log.Warn("change refused: role cannot change stages", "user", id.user, "role", id.role, "path", r.URL.Path)
			c.fail(w, r, http.StatusForbidden, "forbidden", "your role ("+string(id.role)+") cannot change read stages; ask an operator")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// cookieNames are the cookie names in use. Secure cookies use the __Host-
// prefix, which browsers accept only with Secure, Path=/ and no Domain.
type cookieNames struct {
	session string
	login   string
	secure  bool
}

func newCookieNames(insecure bool) cookieNames {
	if insecure {
		return cookieNames{session: "switchyard-session", login: "switchyard-login"}
	}
	return cookieNames{session: "__Host-switchyard-session", login: "__Host-switchyard-login", secure: true}
}

func (n cookieNames) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   n.secure,
		SameSite: http.SameSiteStrictMode,
	}
}
