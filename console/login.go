package console

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// Login form limits. Longer input is refused before any hashing.
const (
	maxUserNameBytes = 64
	maxPasswordBytes = 1024
	// loginFormLifetime is how long a login form stays valid.
	loginFormLifetime = time.Hour
)

type loginPage struct {
	Next      string
	UserName  string
	Error     string
	FormToken string
}

// handleLoginPage shows the login form. It sets a short-lived random
// cookie that the form echoes back (double-submit token), so a login
// cannot be forged from another site.
func (c *Console) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(c.cookies.session); err == nil {
		if _, err := c.sessions.get(ck.Value); err == nil {
			http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
			return
		}
	}
	c.showLogin(w, r, http.StatusOK, loginPage{Next: safeNext(r.URL.Query().Get("next"))})
}

func (c *Console) showLogin(w http.ResponseWriter, r *http.Request, status int, p loginPage) {
	token, err := randomToken()
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	p.FormToken = token
	http.SetCookie(w, c.cookies.cookie(c.cookies.login, token, int(loginFormLifetime/time.Second)))
	c.render(w, r, status, "login", "Log in", "", p)
}

// handleLogin checks the credentials, rate limited per user and client
// address, per address, and slowed per user (see loginGuard), and starts a
// session.
func (c *Console) handleLogin(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		c.failErr(w, r, formError(err))
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	formToken := r.PostForm.Get("csrf_token")
	ck, err := r.Cookie(c.cookies.login)
	if err != nil || formToken == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(formToken)) != 1 {
		c.showLogin(w, r, http.StatusForbidden, loginPage{Next: next, Error: "The login form expired or was not sent by this site. Please try again."})
		return
	}
	name := strings.TrimSpace(r.PostForm.Get("username"))
	password := r.PostForm.Get("password")
	switch {
	case name == "" || password == "":
		c.showLogin(w, r, http.StatusBadRequest, loginPage{Next: next, UserName: name, Error: "Enter your user name and password."})
		return
	case len(name) > maxUserNameBytes || !utf8.ValidString(name):
		c.showLogin(w, r, http.StatusBadRequest, loginPage{Next: next, Error: fmt.Sprintf("The user name must be valid text of at most %d bytes.", maxUserNameBytes)})
		return
	case len(password) > maxPasswordBytes:
		c.showLogin(w, r, http.StatusRequestEntityTooLarge, loginPage{Next: next, UserName: name, Error: fmt.Sprintf("The password is longer than %d bytes.", maxPasswordBytes)})
		return
	}
	ip := c.clientIP(r)
	attempt, wait, ok := c.logins.begin(name, ip)
	if !ok {
		c.log.Warn("login refused: too many failures", "user", name, "ip", ip)
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
		c.showLogin(w, r, http.StatusTooManyRequests, loginPage{Next: next, UserName: name,
			Error: "Too many failed logins. Try again in " + waitText(wait) + "."})
		return
	}
	usr, err := c.users.Authenticate(name, password)
	if err != nil {
		attempt.failed()
		c.log.Warn("login failed", "user", name, "ip", ip)
		c.showLogin(w, r, http.StatusUnauthorized, loginPage{Next: next, UserName: name, Error: "Wrong user name or password."})
		return
	}
	attempt.succeeded()
	// A new session id on every login: a session id planted before the
	// login (fixation) or left from an earlier login is never promoted.
	if old, err := r.Cookie(c.cookies.session); err == nil {
		c.sessions.remove(old.Value)
	}
	id, _, err := c.sessions.create(usr)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	c.log.Info("login", "user", usr.Name, "role", usr.Role, "ip", ip)
	http.SetCookie(w, c.cookies.cookie(c.cookies.login, "", -1))
	// No Max-Age: the browser forgets the cookie when it closes; the server
	// ends the session after the idle timeout or lifetime anyway.
	http.SetCookie(w, c.cookies.cookie(c.cookies.session, id, 0))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// waitText says how long to wait, rounded up, in seconds or minutes.
func waitText(d time.Duration) string {
	if d <= time.Minute {
		return fmt.Sprintf("%d seconds", int(d.Seconds())+1)
	}
	return fmt.Sprintf("%d minutes", int(d.Minutes())+1)
}

// handleLogout ends the session (the CSRF check already passed).
func (c *Console) handleLogout(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(c.cookies.session); err == nil {
		c.sessions.remove(ck.Value)
	}
	c.log.Info("logout", "user", identityFrom(r.Context()).user)
	http.SetCookie(w, c.cookies.cookie(c.cookies.session, "", -1))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps only local paths as redirect targets, so the login page
// cannot be used to send users to another site.
func safeNext(next string) string {
	if next == "" || len(next) > 2048 || !strings.HasPrefix(next, "/") ||
		strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n\t") || strings.HasPrefix(next, "/login") {
		return "/clients"
	}
	return next
}
