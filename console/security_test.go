package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/console"
)

// privateRoutes are every route behind the login, with a sample path.
var privateRoutes = []struct{ method, path string }{
	{"GET", "/"},
	{"GET", "/clients"},
	{"GET", "/clients?q=acme"},
	{"GET", "/clients/acme"},
	{"GET", "/audit"},
	{"GET", "/migration"},
	{"GET", "/no-such-page"},
	{"POST", "/logout"},
	{"GET", "/api/session"},
	{"GET", "/api/clients"},
	{"GET", "/api/clients/acme"},
	{"GET", "/api/clients/acme/history"},
	{"POST", "/api/clients/acme/stage"},
	{"POST", "/api/clients/acme/rollback"},
	{"POST", "/api/clients/acme/clear"},
	{"GET", "/api/audit"},
	{"GET", "/api/migration"},
	{"GET", "/api/no-such-endpoint"},
	{"PUT", "/api/clients/acme/stage"},
	{"DELETE", "/clients/acme"},
}

func TestNothingReachableWithoutLogin(t *testing.T) {
	flags := newMemFlags("acme")
	srv := startConsole(t, flags, console.Options{})
	b := newBrowser(t, srv)
	for _, rt := range privateRoutes {
		body := strings.NewReader(`{"to":"target","reason":"r"}`)
		r := b.do(rt.method, rt.path, body, map[string]string{"Content-Type": "application/json"})
		switch {
		case strings.HasPrefix(rt.path, "/api/"):
			if r.status != http.StatusUnauthorized {
				t.Errorf("%s %s without session: status %d, want 401", rt.method, rt.path, r.status)
			} else if code, _, _ := apiErrorOf(t, r); code != "unauthenticated" {
				t.Errorf("%s %s: error code %q, want unauthenticated", rt.method, rt.path, code)
			}
		default:
			loc := r.header.Get("Location")
			if r.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
				t.Errorf("%s %s without session: status %d location %q, want 303 to /login", rt.method, rt.path, r.status, loc)
			}
		}
		if strings.Contains(r.body, "acme") && !strings.Contains(r.header.Get("Location"), "acme") {
			t.Errorf("%s %s without session leaked client data: %s", rt.method, rt.path, r.body)
		}
	}
	// A forged session cookie is no session either.
	u, _ := url.Parse(srv.URL)
	b.hc.Jar.SetCookies(u, []*http.Cookie{{Name: "switchyard-session", Value: "forged-session-id", Path: "/"}})
	if r := b.get("/api/clients"); r.status != http.StatusUnauthorized {
		t.Errorf("forged session cookie: status %d, want 401", r.status)
	}
	if flags.stage("acme") != console.StageLegacy || flags.auditLen() != 0 {
		t.Fatalf("an unauthenticated request changed a stage")
	}
	// The public routes stay reachable.
	for _, p := range []string{"/login", "/healthz", "/static/app.css", "/static/app.js"} {
		if r := b.get(p); r.status != http.StatusOK {
			t.Errorf("GET %s: status %d, want 200", p, r.status)
		}
	}
	if r := b.get("/static/"); r.status != http.StatusNotFound {
		t.Errorf("GET /static/ (directory listing): status %d, want 404", r.status)
	}
}

func TestLoginRedirectsBackAndRefusesForeignTargets(t *testing.T) {
	srv := startConsole(t, newMemFlags("acme"), console.Options{})
	b := newBrowser(t, srv)
	r := b.get("/clients/acme")
	if loc := r.header.Get("Location"); loc != "/login?next=%2Fclients%2Facme" {
		t.Fatalf("redirect to %q", loc)
	}
	page := b.get("/login?next=%2Fclients%2Facme")
	tok := formTokenRe.FindStringSubmatch(page.body)[1]
	r = b.postForm("/login", url.Values{"csrf_token": {tok}, "username": {operatorName}, "password": {operatorPassword}, "next": {"/clients/acme"}})
	if loc := r.header.Get("Location"); r.status != http.StatusSeeOther || loc != "/clients/acme" {
		t.Fatalf("after login: %d to %q, want 303 to /clients/acme", r.status, loc)
	}
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"} {
		b2 := newBrowser(t, srv)
		page := b2.get("/login")
		tok := formTokenRe.FindStringSubmatch(page.body)[1]
		r := b2.postForm("/login", url.Values{"csrf_token": {tok}, "username": {operatorName}, "password": {operatorPassword}, "next": {next}})
		if loc := r.header.Get("Location"); loc != "/clients" {
			t.Errorf("next=%q redirected to %q, want /clients", next, loc)
		}
	}
}

func TestViewerCannotChangeAnything(t *testing.T) {
	flags := newMemFlags("acme")
	srv := startConsole(t, flags, console.Options{})
	b := newBrowser(t, srv)
	csrf := b.login(viewerName, viewerPassword)

	page := b.get("/clients/acme")
	if page.status != http.StatusOK {
		t.Fatalf("viewer reads client page: %d", page.status)
	}
	for _, id := range []string{`id="switch-form"`, `id="switch-button"`, `id="rollback-button"`, `id="confirm-dialog"`} {
		if strings.Contains(page.body, id) {
			t.Errorf("viewer's client page contains %s", id)
		}
	}
	if !strings.Contains(page.body, `id="viewer-note"`) {
		t.Errorf("viewer's client page does not say why there is no switch")
	}
	// The server refuses even well-formed requests with a valid token.
	r := b.postJSON("/api/clients/acme/stage", csrf, map[string]any{"to": "target", "reason": "viewer tries", "force": true})
	if r.status != http.StatusForbidden {
		t.Fatalf("viewer switch: status %d, want 403: %s", r.status, r.body)
	}
	if code, _, msg := apiErrorOf(t, r); code != "forbidden" || !strings.Contains(msg, "viewer") {
		t.Errorf("viewer switch: error %q %q", code, msg)
	}
	r = b.postJSON("/api/clients/acme/rollback", csrf, map[string]any{"reason": "viewer tries"})
	if r.status != http.StatusForbidden {
		t.Fatalf("viewer rollback: status %d, want 403", r.status)
	}
	r = b.postJSON("/api/clients/acme/clear", csrf, map[string]any{"reason": "viewer tries"})
	if r.status != http.StatusForbidden {
		t.Fatalf("viewer clear: status %d, want 403", r.status)
	}
	if flags.stage("acme") != console.StageLegacy || flags.auditLen() != 0 {
		t.Fatalf("viewer changed the stage: %s, %d audit entries", flags.stage("acme"), flags.auditLen())
	}
	if r := b.get("/api/session"); !strings.Contains(r.body, `"can_change":false`) {
		t.Errorf("viewer session: %s", r.body)
	}
}

func TestOperatorSwitchesAndRollsBack(t *testing.T) {
	flags := newMemFlags("acme")
	srv := startConsole(t, flags, console.Options{})
	b := newBrowser(t, srv)
	csrf := b.login(operatorName, operatorPassword)
	page := b.get("/clients/acme")
	for _, id := range []string{`id="switch-form"`, `id="confirm-dialog"`, `id="confirm-reason"`} {
		if !strings.Contains(page.body, id) {
			t.Errorf("operator's client page lacks %s", id)
		}
	}
	r := b.postJSON("/api/clients/acme/stage", csrf, map[string]any{"to": "shadow", "reason": "ticket 17", "expected_stage": "legacy", "expected_revision": 0})
	if r.status != http.StatusOK || flags.stage("acme") != console.StageShadow {
		t.Fatalf("switch: %d %s; stage %s", r.status, r.body, flags.stage("acme"))
	}
	// A stale confirmation (the stage changed meanwhile) is refused.
	r = b.postJSON("/api/clients/acme/stage", csrf, map[string]any{"to": "target", "reason": "stale", "expected_stage": "legacy"})
	if code, _, _ := apiErrorOf(t, r); r.status != http.StatusConflict || code != "conflict" {
		t.Fatalf("stale switch: %d %s", r.status, r.body)
	}
	r = b.postJSON("/api/clients/acme/rollback", csrf, map[string]any{"reason": "customer reported stale data"})
	if r.status != http.StatusOK || flags.stage("acme") != console.StageLegacy {
		t.Fatalf("rollback: %d %s; stage %s", r.status, r.body, flags.stage("acme"))
	}
	r = b.postJSON("/api/clients/acme/stage", csrf, map[string]any{"to": "shadow", "reason": "again"})
	if r.status != http.StatusOK {
		t.Fatalf("switch again: %d %s", r.status, r.body)
	}
	r = b.postJSON("/api/clients/acme/clear", csrf, map[string]any{"reason": "follow the rollout"})
	if r.status != http.StatusOK || flags.stage("acme") != console.StageLegacy {
		t.Fatalf("clear: %d %s; stage %s", r.status, r.body, flags.stage("acme"))
	}
	if r := b.postJSON("/api/clients/acme/clear", csrf, map[string]any{}); r.status != http.StatusBadRequest {
		t.Fatalf("clear without reason: %d", r.status)
	}
	audit := b.get("/api/audit")
	if !strings.Contains(audit.body, `"reason":"customer reported stale data"`) || !strings.Contains(audit.body, `"actor":"olivia"`) {
		t.Fatalf("audit: %s", audit.body)
	}
	if page := b.get("/audit"); !strings.Contains(page.body, "customer reported stale data") {
		t.Fatalf("audit page lacks the rollback: %s", page.body)
	}
}

func TestGateRefusalNamesConditionsAndForceIsRecorded(t *testing.T) {
	flags := newMemFlags("acme")
	flags.closeGates()
	srv := startConsole(t, flags, console.Options{})
	b := newBrowser(t, srv)
	csrf := b.login(operatorName, operatorPassword)
	r := b.postJSON("/api/clients/acme/stage", csrf, map[string]any{"to": "target", "reason": "try"})
	if r.status != http.StatusConflict || !strings.Contains(r.body, `"code":"gate_refused"`) || !strings.Contains(r.body, "verify-clean") {
		t.Fatalf("gated switch: %d %s", r.status, r.body)
	}
	if flags.stage("acme") != console.StageLegacy {
		t.Fatal("refused switch changed the stage")
	}
	r = b.postJSON("/api/clients/acme/stage", csrf, map[string]any{"to": "target", "reason": "verified by hand, INC-4", "force": true})
	if r.status != http.StatusOK || flags.stage("acme") != console.StageTarget {
		t.Fatalf("forced switch: %d %s", r.status, r.body)
	}
	if a := b.get("/api/audit"); !strings.Contains(a.body, `"forced":true`) || !strings.Contains(a.body, "verified by hand, INC-4") {
		t.Fatalf("audit of forced switch: %s", a.body)
	}
}

func TestCSRFTokenRequired(t *testing.T) {
	flags := newMemFlags("acme")
	srv := startConsole(t, flags, console.Options{})
	b := newBrowser(t, srv)
	csrf := b.login(operatorName, operatorPassword)
	other := newBrowser(t, srv)
	otherCSRF := other.login(operatorName, operatorPassword)
	if otherCSRF == csrf {
		t.Fatal("two sessions share a CSRF token")
	}
	body := map[string]any{"to": "shadow", "reason": "csrf test"}
	for name, tok := range map[string]string{
		"no token":                "",
		"wrong token":             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"another session's token": otherCSRF,
		"token with extra byte":   csrf + "x",
	} {
		r := b.postJSON("/api/clients/acme/stage", tok, body)
		if r.status != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", name, r.status)
			continue
		}
		if code, _, _ := apiErrorOf(t, r); code != "csrf" {
			t.Errorf("%s: code %q, want csrf", name, code)
		}
	}
	// A token in a form field does not count for the JSON API.
	r := b.do("POST", "/api/clients/acme/stage", strings.NewReader(url.Values{"csrf_token": {csrf}}.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if r.status != http.StatusForbidden {
		t.Errorf("form token on API: status %d, want 403", r.status)
	}
	// A valid token from another site is still refused.
	r = b.do("POST", "/api/clients/acme/stage", strings.NewReader(`{"to":"shadow","reason":"x"}`),
		map[string]string{"Content-Type": "application/json", "X-CSRF-Token": csrf, "Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
	if r.status != http.StatusForbidden {
		t.Errorf("cross-site request: status %d, want 403", r.status)
	}
	// Logout needs the token too.
	if r := b.postForm("/logout", url.Values{}); r.status != http.StatusForbidden {
		t.Errorf("logout without token: status %d, want 403", r.status)
	}
	if flags.stage("acme") != console.StageLegacy {
		t.Fatal("a request without a valid CSRF token changed the stage")
	}
	// The login form has its own token.
	r = newBrowser(t, srv).postForm("/login", url.Values{"username": {operatorName}, "password": {operatorPassword}})
	if r.status != http.StatusForbidden {
		t.Errorf("login without form token: status %d, want 403", r.status)
	}
	// And the right token works.
	if r := b.postJSON("/api/clients/acme/stage", csrf, body); r.status != http.StatusOK {
		t.Fatalf("valid token: %d %s", r.status, r.body)
	}
}

func TestMalformedAndOversizedInputRejected(t *testing.T) {
	flags := newMemFlags("acme")
	srv := startConsole(t, flags, console.Options{})
	b := newBrowser(t, srv)
	csrf := b.login(operatorName, operatorPassword)
	long := strings.Repeat("c", 256)
	cases := []struct {
		name    string
		method  string
		path    string
		body    string
		ctype   string
		status  int
		field   string
		message string
	}{
		{"client id too long", "GET", "/api/clients/" + long, "", "", 400, "client id", "256 bytes"},
		{"client id with control character", "GET", "/api/clients/ac%01me", "", "", 400, "client id", "control character"},
		{"client id with surrounding space", "GET", "/api/clients/%20acme", "", "", 400, "client id", "white space"},
		{"client id invalid UTF-8", "GET", "/api/clients/%ff%fe", "", "", 400, "client id", "UTF-8"},
		{"switch with long client id", "POST", "/api/clients/" + long + "/stage", `{"to":"shadow","reason":"r"}`, "application/json", 400, "client id", "above the limit of 255"},
		{"unknown stage", "POST", "/api/clients/acme/stage", `{"to":"everywhere","reason":"r"}`, "application/json", 400, "to", "not one of"},
		{"missing reason", "POST", "/api/clients/acme/stage", `{"to":"shadow"}`, "application/json", 400, "reason", "required"},
		{"blank reason", "POST", "/api/clients/acme/stage", `{"to":"shadow","reason":"   "}`, "application/json", 400, "reason", "required"},
		{"reason too long", "POST", "/api/clients/acme/stage", `{"to":"shadow","reason":"` + strings.Repeat("r", 501) + `"}`, "application/json", 413, "reason", "at most 500"},
		{"reason with control character", "POST", "/api/clients/acme/rollback", `{"reason":"a\u0007b"}`, "application/json", 400, "reason", "control character"},
		{"body too large", "POST", "/api/clients/acme/stage", `{"to":"shadow","reason":"` + strings.Repeat("r", 20<<10) + `"}`, "application/json", 413, "", "16 KiB"},
		{"not JSON", "POST", "/api/clients/acme/stage", `to=shadow`, "application/json", 400, "body", "not valid JSON"},
		{"wrong content type", "POST", "/api/clients/acme/stage", `{"to":"shadow","reason":"r"}`, "text/plain", 400, "Content-Type", "application/json"},
		{"unknown member", "POST", "/api/clients/acme/stage", `{"to":"shadow","reason":"r","stage":"x"}`, "application/json", 400, "stage", "not a member"},
		{"two objects", "POST", "/api/clients/acme/stage", `{"to":"shadow","reason":"r"}{}`, "application/json", 400, "body", "more than one"},
		{"wrong type", "POST", "/api/clients/acme/stage", `{"to":3,"reason":"r"}`, "application/json", 400, "to", "wrong type"},
		{"empty body", "POST", "/api/clients/acme/rollback", ``, "application/json", 400, "body", "empty"},
		{"query too long", "GET", "/api/clients?q=" + strings.Repeat("q", 300), "", "", 413, "q", "at most 255"},
		{"bad cursor", "GET", "/api/clients?after=%01", "", "", 400, "after", "control character"},
		{"bad audit cursor", "GET", "/api/audit?before=yesterday", "", "", 400, "before", "not an audit sequence"},
		{"unknown client", "GET", "/api/clients/nobody", "", "", 404, "", "not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{"X-CSRF-Token": csrf}
			if tc.ctype != "" {
				h["Content-Type"] = tc.ctype
			}
			r := b.do(tc.method, tc.path, strings.NewReader(tc.body), h)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			_, field, msg := apiErrorOf(t, r)
			if field != tc.field || !strings.Contains(msg, tc.message) {
				t.Fatalf("error field %q message %q; want field %q and a message containing %q", field, msg, tc.field, tc.message)
			}
		})
	}
	if flags.stage("acme") != console.StageLegacy || flags.auditLen() != 0 {
		t.Fatal("malformed input changed a stage")
	}
	// Pages answer bad input with an error page naming the problem.
	r := b.get("/clients/" + long)
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "client id is 256 bytes") {
		t.Fatalf("client page with long id: %d %s", r.status, r.body)
	}
	// Oversized login form.
	big := newBrowser(t, srv)
	page := big.get("/login")
	tok := formTokenRe.FindStringSubmatch(page.body)[1]
	r = big.postForm("/login", url.Values{"csrf_token": {tok}, "username": {operatorName}, "password": {strings.Repeat("p", 20<<10)}})
	if r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized login: status %d", r.status)
	}
}

func TestSessionExpiryAndLogout(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	srv := startConsole(t, newMemFlags("acme"), console.Options{IdleTimeout: 10 * time.Minute, SessionLifetime: time.Hour, Now: clock.Now})

	b := newBrowser(t, srv)
	b.login(operatorName, operatorPassword)
	clock.Advance(9 * time.Minute)
	if r := b.get("/api/session"); r.status != http.StatusOK {
		t.Fatalf("session used within the idle timeout: %d", r.status)
	}
	clock.Advance(9 * time.Minute) // 18 min after login, 9 after last use
	if r := b.get("/api/session"); r.status != http.StatusOK {
		t.Fatalf("use extends the idle timeout: %d", r.status)
	}
	clock.Advance(10 * time.Minute)
	if r := b.get("/api/session"); r.status != http.StatusUnauthorized {
		t.Fatalf("idle session: status %d, want 401", r.status)
	}

	// Absolute lifetime: active every 5 minutes, still ends after an hour.
	b = newBrowser(t, srv)
	b.login(operatorName, operatorPassword)
	for i := 0; i < 11; i++ {
		clock.Advance(5 * time.Minute)
		if r := b.get("/api/session"); r.status != http.StatusOK {
			t.Fatalf("active session ended after %d minutes", (i+1)*5)
		}
	}
	clock.Advance(5 * time.Minute)
	if r := b.get("/api/session"); r.status != http.StatusUnauthorized {
		t.Fatalf("session past its lifetime: status %d, want 401", r.status)
	}

	// Logout ends the session on the server: replaying the cookie fails.
	b = newBrowser(t, srv)
	csrf := b.login(operatorName, operatorPassword)
	u, _ := url.Parse(srv.URL)
	var sessionCookie *http.Cookie
	for _, c := range b.hc.Jar.Cookies(u) {
		if c.Name == "switchyard-session" {
			sessionCookie = c
		}
	}
	if sessionCookie == nil {
		t.Fatal("no session cookie after login")
	}
	r := b.postForm("/logout", url.Values{"csrf_token": {csrf}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
		t.Fatalf("logout: %d %q", r.status, r.header.Get("Location"))
	}
	replay := newBrowser(t, srv)
	replay.hc.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie.Name, Value: sessionCookie.Value, Path: "/"}})
	if r := replay.get("/api/session"); r.status != http.StatusUnauthorized {
		t.Fatalf("replayed cookie after logout: status %d, want 401", r.status)
	}
}

func TestSecureCookieAttributes(t *testing.T) {
	c, err := console.New(console.Deps{Flags: newMemFlags("acme"), Users: testUsers(t)}, console.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := newTLSServer(t, c)
	b := newBrowser(t, srv)
	r := b.tryLogin(operatorName, operatorPassword)
	if r.status != http.StatusSeeOther {
		t.Fatalf("login over TLS: %d %s", r.status, r.body)
	}
	var found bool
	for _, line := range r.header.Values("Set-Cookie") {
		if !strings.HasPrefix(line, "__Host-switchyard-session=") {
			continue
		}
		found = true
		for _, attr := range []string{"HttpOnly", "Secure", "SameSite=Strict", "Path=/"} {
			if !strings.Contains(line, attr) {
				t.Errorf("session cookie %q lacks %s", line, attr)
			}
		}
		if strings.Contains(line, "Domain=") {
			t.Errorf("session cookie %q has a Domain", line)
		}
	}
	if !found {
		t.Fatalf("no __Host- session cookie in %q", r.header.Values("Set-Cookie"))
	}
	if hsts := b.get("/login").header.Get("Strict-Transport-Security"); hsts == "" {
		t.Error("no Strict-Transport-Security over TLS")
	}
}

func TestSecurityHeaders(t *testing.T) {
	srv := startConsole(t, newMemFlags("acme"), console.Options{})
	b := newBrowser(t, srv)
	check := func(path string, r response) {
		t.Helper()
		want := map[string]string{
			"X-Frame-Options":        "DENY",
			"X-Content-Type-Options": "nosniff",
			"Referrer-Policy":        "no-referrer",
		}
		for k, v := range want {
			if got := r.header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", path, k, got, v)
			}
		}
		csp := r.header.Get("Content-Security-Policy")
		for _, d := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("%s: CSP %q lacks %s", path, csp, d)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP allows inline or eval: %q", path, csp)
		}
	}
	check("/login", b.get("/login"))
	check("/static/app.js", b.get("/static/app.js"))
	check("/api/clients (401)", b.get("/api/clients"))
	b.login(operatorName, operatorPassword)
	page := b.get("/clients/acme")
	check("/clients/acme", page)
	if cc := page.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("client page Cache-Control %q, want no-store", cc)
	}
	if strings.Contains(page.body, "<script>") || strings.Contains(page.body, " onclick=") || strings.Contains(page.body, "http://") || strings.Contains(page.body, "https://") {
		t.Errorf("page has inline script or external resources")
	}
}

func TestClientIDsAreEscaped(t *testing.T) {
	flags := newMemFlags(`<script>alert(1)</script>`, `x" onmouseover="alert(1)`)
	srv := startConsole(t, flags, console.Options{})
	b := newBrowser(t, srv)
	b.login(operatorName, operatorPassword)
	for _, path := range []string{
		"/clients/" + url.PathEscape(`<script>alert(1)</script>`),
		"/clients/" + url.PathEscape(`x" onmouseover="alert(1)`),
		"/clients?q=" + url.QueryEscape(`<script>`),
		"/clients/" + url.PathEscape(`<img src=x>`), // unknown: the error page echoes it
	} {
		r := b.get(path)
		if strings.Contains(r.body, "<script>alert") || strings.Contains(r.body, `" onmouseover="`) || strings.Contains(r.body, "<img src=x>") {
			t.Errorf("%s: unescaped input in the page (status %d)", path, r.status)
		}
	}
}

func TestLoginReplacesAnEarlierSession(t *testing.T) {
	srv := startConsole(t, newMemFlags("acme"), console.Options{})
	b := newBrowser(t, srv)
	b.login(operatorName, operatorPassword)
	u, _ := url.Parse(srv.URL)
	first := b.hc.Jar.Cookies(u)
	// Log in again with the old cookie still set (POST directly).
	page := newBrowser(t, srv).get("/login")
	tok := formTokenRe.FindStringSubmatch(page.body)[1]
	b.hc.Jar.SetCookies(u, []*http.Cookie{{Name: "switchyard-login", Value: tok, Path: "/"}})
	if r := b.postForm("/login", url.Values{"csrf_token": {tok}, "username": {viewerName}, "password": {viewerPassword}}); r.status != http.StatusSeeOther {
		t.Fatalf("second login: %d", r.status)
	}
	replay := newBrowser(t, srv)
	replay.hc.Jar.SetCookies(u, first)
	if r := replay.get("/api/session"); r.status != http.StatusUnauthorized {
		t.Fatalf("the session from before the second login still works: %d %s", r.status, r.body)
	}
	if r := b.get("/api/session"); !strings.Contains(r.body, `"user":"victor"`) {
		t.Fatalf("after the second login: %s", r.body)
	}
}
