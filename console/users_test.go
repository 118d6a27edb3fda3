package console_test

import (
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/console"
)

func TestHashPassword(t *testing.T) {
	h, err := console.HashPassword("correct horse battery", console.MinBcryptCost)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$2a$10$") || strings.Contains(h, "correct horse") {
		t.Fatalf("hash %q is not a bcrypt hash of cost 10", h)
	}
	users, err := console.NewUsers([]console.User{{Name: "ann", Role: console.RoleOperator, PasswordHash: h}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := users.Authenticate("ann", "correct horse battery"); err != nil {
		t.Fatalf("right password refused: %v", err)
	}
	for _, pw := range []string{"correct horse batterY", "", "correct horse battery "} {
		if _, err := users.Authenticate("ann", pw); !errors.Is(err, console.ErrBadCredentials) {
			t.Errorf("password %q: %v, want ErrBadCredentials", pw, err)
		}
	}
	if _, err := users.Authenticate("bob", "correct horse battery"); !errors.Is(err, console.ErrBadCredentials) {
		t.Errorf("unknown user: %v, want ErrBadCredentials", err)
	}
	h2, err := console.HashPassword("correct horse battery", console.MinBcryptCost)
	if err != nil || h2 == h {
		t.Fatalf("two hashes of one password are equal (no salt?) or failed: %v", err)
	}
	for name, pw := range map[string]string{
		"short":        "eleven char",
		"over 72":      strings.Repeat("p", 73),
		"invalid utf8": "abcdefghijkl\xff",
	} {
		if _, err := console.HashPassword(pw, console.MinBcryptCost); !errors.Is(err, console.ErrWeakPassword) {
			t.Errorf("%s password: %v, want ErrWeakPassword", name, err)
		}
	}
	if _, err := console.HashPassword("correct horse battery", 99); err == nil {
		t.Error("cost 99 accepted")
	}
}

func TestParseUsers(t *testing.T) {
	h, err := console.HashPassword("a long enough password", console.MinBcryptCost)
	if err != nil {
		t.Fatal(err)
	}
	yamlDoc := "users:\n  - name: ann\n    role: operator\n    password_hash: \"" + h + "\"\n  - name: bob.smith@example.com\n    role: viewer\n    password_hash: '" + h + "'\n"
	u, err := console.ParseUsers([]byte(yamlDoc))
	if err != nil {
		t.Fatalf("YAML: %v", err)
	}
	if got := strings.Join(u.Names(), ","); got != "ann,bob.smith@example.com" {
		t.Fatalf("names %q", got)
	}
	if usr, _ := u.Lookup("bob.smith@example.com"); usr.Role != console.RoleViewer {
		t.Fatalf("bob's role %q", usr.Role)
	}
	jsonDoc := `{"users":[{"name":"ann","role":"viewer","password_hash":"` + h + `"}]}`
	if _, err := console.ParseUsers([]byte(jsonDoc)); err != nil {
		t.Fatalf("JSON: %v", err)
	}
	path := filepath.Join(t.TempDir(), "users.yaml")
	if err := os.WriteFile(path, []byte(yamlDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := console.LoadUsersFile(path); err != nil {
		t.Fatalf("file: %v", err)
	}
	if _, err := console.LoadUsersFile(path + ".missing"); !errors.Is(err, console.ErrInvalidUsers) {
		t.Fatalf("missing file: %v", err)
	}
	bad := map[string]struct{ doc, want string }{
		"empty":          {"", "empty"},
		"no users":       {"users: []", "no users"},
		"unknown key":    {`{"users":[{"name":"ann","role":"viewer","password":"x","password_hash":"` + h + `"}]}`, "unknown field"},
		"plain password": {`{"users":[{"name":"ann","role":"viewer","password_hash":"hunter2hunter2"}]}`, "not a bcrypt hash"},
		"bad role":       {`{"users":[{"name":"ann","role":"admin","password_hash":"` + h + `"}]}`, `role "admin"`},
		"bad name":       {`{"users":[{"name":"ann smith","role":"viewer","password_hash":"` + h + `"}]}`, "name must be"},
		"duplicate":      {`{"users":[{"name":"ann","role":"viewer","password_hash":"` + h + `"},{"name":"ann","role":"operator","password_hash":"` + h + `"}]}`, "twice"},
		"not a document": {"users: [", "yaml"},
	}
	for name, tc := range bad {
		_, err := console.ParseUsers([]byte(tc.doc))
		if !errors.Is(err, console.ErrInvalidUsers) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want ErrInvalidUsers mentioning %q", name, err, tc.want)
		}
	}
}

// LoadUsers reads the file when one is given, else the UsersEnv document,
// and says which one was wrong.
func TestLoadUsers(t *testing.T) {
	t.Setenv(console.UsersEnv, "")
	os.Unsetenv(console.UsersEnv)
	if _, err := console.LoadUsers(""); !errors.Is(err, console.ErrNoUsers) {
		t.Fatalf("neither file nor %s: %v, want ErrNoUsers", console.UsersEnv, err)
	}
	hash, err := console.HashPassword("correct horse battery", console.MinBcryptCost)
	if err != nil {
		t.Fatal(err)
	}
	doc := `{"users":[{"name":"ann","role":"viewer","password_hash":"` + hash + `"}]}`
	t.Setenv(console.UsersEnv, doc)
	if u, err := console.LoadUsers(""); err != nil || len(u.Names()) != 1 {
		t.Fatalf("users from %s: %v", console.UsersEnv, err)
	}
	t.Setenv(console.UsersEnv, "users: [")
	if _, err := console.LoadUsers(""); !errors.Is(err, console.ErrInvalidUsers) || !strings.HasPrefix(err.Error(), console.UsersEnv+": ") {
		t.Fatalf("bad %s document: %v, want ErrInvalidUsers naming the variable", console.UsersEnv, err)
	}
	path := filepath.Join(t.TempDir(), "users.json")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if u, err := console.LoadUsers(path); err != nil || len(u.Names()) != 1 {
		t.Fatalf("users file beats %s: %v", console.UsersEnv, err)
	}
}

func TestLoginRateLimited(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	srv := startConsole(t, newMemFlags("acme"), console.Options{LoginLimitPerUser: 3, LoginLimitPerIP: 5, LoginWindow: 10 * time.Minute, Now: clock.Now})
	b := newBrowser(t, srv)
	for i := 0; i < 3; i++ {
		if r := b.tryLogin(operatorName, "wrong password"); r.status != http.StatusUnauthorized || !strings.Contains(r.body, "Wrong user name or password") {
			t.Fatalf("failure %d: status %d", i+1, r.status)
		}
	}
	r := b.tryLogin(operatorName, operatorPassword)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "Too many failed logins") {
		t.Fatalf("login after 3 failures: status %d, Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	// Another user from the same address still gets in until the address
	// limit is reached.
	if r := b.tryLogin(viewerName, viewerPassword); r.status != http.StatusSeeOther {
		t.Fatalf("other user: status %d", r.status)
	}
	newBrowser(t, srv).tryLogin("mallory", "guess-1")
	newBrowser(t, srv).tryLogin("mallory", "guess-2") // 5 failures from this address now
	if r := newBrowser(t, srv).tryLogin(viewerName, viewerPassword); r.status != http.StatusTooManyRequests {
		t.Fatalf("address over its limit: status %d, want 429", r.status)
	}
	clock.Advance(11 * time.Minute)
	if r := newBrowser(t, srv).tryLogin(operatorName, operatorPassword); r.status != http.StatusSeeOther {
		t.Fatalf("after the window: status %d, want 303", r.status)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	users := testUsers(t)
	if _, err := console.New(console.Deps{Users: users}, console.Options{}); err == nil {
		t.Error("missing Flags accepted")
	}
	if _, err := console.New(console.Deps{Flags: newMemFlags()}, console.Options{}); err == nil {
		t.Error("missing Users accepted")
	}
	for name, o := range map[string]console.Options{
		"negative idle":        {IdleTimeout: -time.Second},
		"idle beyond lifetime": {IdleTimeout: 2 * time.Hour, SessionLifetime: time.Hour},
		"bad origin":           {TrustedOrigins: []string{"not a url"}},
	} {
		if _, err := console.New(console.Deps{Flags: newMemFlags(), Users: users}, o); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func TestLoginLimitUsesForwardedForOnlyFromTrustedProxies(t *testing.T) {
	attempt := func(b *browser, from string) int {
		t.Helper()
		page := b.get("/login")
		tok := formTokenRe.FindStringSubmatch(page.body)[1]
		form := url.Values{"csrf_token": {tok}, "username": {"nobody"}, "password": {"wrong password"}}
		return b.do("POST", "/login", strings.NewReader(form.Encode()), map[string]string{
			"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": from,
		}).status
	}
	trusted := startConsole(t, newMemFlags(), console.Options{LoginLimitPerIP: 2, LoginLimitPerUser: 100,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}})
	b := newBrowser(t, trusted)
	attempt(b, "203.0.113.1")
	attempt(b, "198.51.100.7, 203.0.113.1")
	if got := attempt(b, "203.0.113.1"); got != http.StatusTooManyRequests {
		t.Fatalf("third failure from 203.0.113.1 behind a trusted proxy: %d, want 429", got)
	}
	if got := attempt(b, "203.0.113.2"); got != http.StatusUnauthorized {
		t.Fatalf("another client behind the proxy: %d, want 401", got)
	}
	untrusted := startConsole(t, newMemFlags(), console.Options{LoginLimitPerIP: 2, LoginLimitPerUser: 100})
	b = newBrowser(t, untrusted)
	attempt(b, "203.0.113.1")
	attempt(b, "203.0.113.2")
	if got := attempt(b, "203.0.113.3"); got != http.StatusTooManyRequests {
		t.Fatalf("forged X-Forwarded-For from an untrusted peer: %d, want 429", got)
	}
}
