package console_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/switchyard/switchyard/console"
)

const (
	operatorName     = "olivia"
	operatorPassword = "operator-password-1"
	viewerName       = "victor"
	viewerPassword   = "viewer-password-22"
)

// testUsers are an operator and a viewer with the cheapest accepted hashes,
// made once, so tests stay fast; production hashes use
// console.DefaultBcryptCost.
func testUsers(t testing.TB) *console.Users {
	t.Helper()
	u, err := sharedTestUsers()
	if err != nil {
		t.Fatal(err)
	}
	return u
}

var sharedTestUsers = sync.OnceValues(func() (*console.Users, error) {
	op, err := bcrypt.GenerateFromPassword([]byte(operatorPassword), console.MinBcryptCost)
	if err != nil {
		return nil, err
	}
	viewer, err := bcrypt.GenerateFromPassword([]byte(viewerPassword), console.MinBcryptCost)
	if err != nil {
		return nil, err
	}
	return console.NewUsers([]console.User{
		{Name: operatorName, Role: console.RoleOperator, PasswordHash: string(op)},
		{Name: viewerName, Role: console.RoleViewer, PasswordHash: string(viewer)},
	})
})

// fakeClock is a settable clock for session expiry tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// startConsole serves a console over flags on a test server (plain HTTP,
// so cookies are not Secure).
func startConsole(t *testing.T, flags console.Flags, opts console.Options) *httptest.Server {
	t.Helper()
	opts.InsecureCookies = true
	c, err := console.New(console.Deps{Flags: flags, Users: testUsers(t)}, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return srv
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see them.
type browser struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func newBrowser(t *testing.T, srv *httptest.Server) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{
		Transport:     srv.Client().Transport,
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
	return &browser{t: t, base: srv.URL, hc: hc}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, path string, body io.Reader, header map[string]string) response {
	b.t.Helper()
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(data)}
}

func (b *browser) get(path string) response { return b.do(http.MethodGet, path, nil, nil) }

func (b *browser) postForm(path string, form url.Values) response {
	return b.do(http.MethodPost, path, strings.NewReader(form.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
}

func (b *browser) postJSON(path, csrf string, v any) response {
	b.t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		b.t.Fatal(err)
	}
	h := map[string]string{"Content-Type": "application/json"}
	if csrf != "" {
		h["X-CSRF-Token"] = csrf
	}
	return b.do(http.MethodPost, path, strings.NewReader(string(data)), h)
}

var (
	formTokenRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	metaTokenRe = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)
)

// login logs in through the form and returns the session's CSRF token.
func (b *browser) login(name, password string) string {
	b.t.Helper()
	r := b.tryLogin(name, password)
	if r.status != http.StatusSeeOther {
		b.t.Fatalf("login as %s: status %d, want 303; body: %s", name, r.status, r.body)
	}
	return b.csrf()
}

func (b *browser) tryLogin(name, password string) response {
	b.t.Helper()
	page := b.get("/login")
	m := formTokenRe.FindStringSubmatch(page.body)
	if m == nil {
		b.t.Fatalf("login page has no form token: %s", page.body)
	}
	return b.postForm("/login", url.Values{"csrf_token": {m[1]}, "username": {name}, "password": {password}})
}

// csrf reads the session's token from a page.
func (b *browser) csrf() string {
	b.t.Helper()
	page := b.get("/clients")
	m := metaTokenRe.FindStringSubmatch(page.body)
	if m == nil {
		b.t.Fatalf("no csrf meta tag on /clients (status %d): %s", page.status, page.body)
	}
	return m[1]
}

// apiErrorOf decodes an API error body.
func apiErrorOf(t *testing.T, r response) (code, field, msg string) {
	t.Helper()
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatalf("status %d: body is not an API error: %v: %s", r.status, err, r.body)
	}
	return e.Error.Code, e.Error.Field, e.Error.Message
}

func newTLSServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return srv
}
