package console_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/switchyard/switchyard/console"
)

// behindProxy trusts the loopback test client as a proxy, so each request
// can name its client address in X-Forwarded-For.
func behindProxy(o console.Options) console.Options {
	o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	return o
}

// loginFrom logs in (or tries to) as name from the client address ip.
func (b *browser) loginFrom(ip, name, password string) response {
	b.t.Helper()
	page := b.get("/login")
	m := formTokenRe.FindStringSubmatch(page.body)
	if m == nil {
		b.t.Fatalf("login page has no form token: %s", page.body)
	}
	form := url.Values{"csrf_token": {m[1]}, "username": {name}, "password": {password}}
	return b.do(http.MethodPost, "/login", strings.NewReader(form.Encode()), map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": ip,
	})
}

// TestWrongPasswordsFromOneAddressDoNotLockTheUserOut: the limit is per user
// and address, so a guesser does not lock the real user out elsewhere.
func TestWrongPasswordsFromOneAddressDoNotLockTheUserOut(t *testing.T) {
	srv := startConsole(t, newMemFlags("acme"), behindProxy(console.Options{}))
	attacker := newBrowser(t, srv)
	for i := 0; i < console.DefaultLoginLimitPerUser; i++ {
		if r := attacker.loginFrom("203.0.113.66", operatorName, fmt.Sprintf("guess-%d", i)); r.status != http.StatusUnauthorized {
			t.Fatalf("guess %d: status %d", i, r.status)
		}
	}
	if r := attacker.loginFrom("203.0.113.66", operatorName, operatorPassword); r.status != http.StatusTooManyRequests {
		t.Fatalf("the guesser's address after %d failures: status %d, want 429", console.DefaultLoginLimitPerUser, r.status)
	}
	if r := newBrowser(t, srv).loginFrom("198.51.100.7", operatorName, operatorPassword); r.status != http.StatusSeeOther {
		t.Fatalf("the real user from another address: status %d, want 303 (logged in)", r.status)
	}
}

// TestParallelGuessesAreCheckedAtMostLimitTimes: the limit is reserved
// before the password is checked, so 30 parallel guesses with a limit of 5
// get at most 5 answers "wrong password"; the rest are refused unchecked.
func TestParallelGuessesAreCheckedAtMostLimitTimes(t *testing.T) {
	const limit, guesses = 5, 30
	srv := startConsole(t, newMemFlags(), console.Options{LoginLimitPerUser: limit, LoginLimitPerIP: 1000})
	// Each guess needs its own form cookie and token.
	type form struct {
		client *http.Client
		token  string
	}
	forms := make([]form, guesses)
	for i := range forms {
		b := newBrowser(t, srv)
		m := formTokenRe.FindStringSubmatch(b.get("/login").body)
		if m == nil {
			t.Fatal("no form token")
		}
		forms[i] = form{client: b.hc, token: m[1]}
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
		errs     []error
	)
	start := make(chan struct{})
	for _, f := range forms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			body := url.Values{"csrf_token": {f.token}, "username": {operatorName}, "password": {"wrong password"}}.Encode()
			resp, err := f.client.Post(srv.URL+"/login", "application/x-www-form-urlencoded", strings.NewReader(body))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[resp.StatusCode]++
		}()
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if statuses[http.StatusUnauthorized] > limit || statuses[http.StatusUnauthorized]+statuses[http.StatusTooManyRequests] != guesses {
		t.Fatalf("30 parallel guesses with limit %d: %v; want at most %d checked (401), the rest refused (429)", limit, statuses, limit)
	}
}

// TestUserCeilingSlowsButNeverLocks: guesses from many addresses slow the
// account down (a short, growing delay) instead of locking it for the
// window.
func TestUserCeilingSlowsButNeverLocks(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	srv := startConsole(t, newMemFlags(), behindProxy(console.Options{LoginUserCeiling: 3, LoginMaxDelay: 4 * time.Second, Now: clock.Now}))
	b := newBrowser(t, srv)
	for i := 0; i < 4; i++ { // three under the ceiling, the fourth is the first over it
		if r := b.loginFrom(fmt.Sprintf("203.0.113.%d", i+1), operatorName, "wrong password"); r.status != http.StatusUnauthorized {
			t.Fatalf("guess %d: status %d, want 401", i+1, r.status)
		}
	}
	r := b.loginFrom("203.0.113.50", operatorName, "wrong password")
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "2" {
		t.Fatalf("right after a failure over the ceiling: status %d, Retry-After %q; want 429 and a 1 s delay", r.status, r.header.Get("Retry-After"))
	}
	clock.Advance(time.Second)
	if r := b.loginFrom("203.0.113.51", operatorName, "wrong password"); r.status != http.StatusUnauthorized {
		t.Fatalf("after the delay: status %d, want the guess checked", r.status)
	}
	r = b.loginFrom("203.0.113.52", operatorName, operatorPassword)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "3" {
		t.Fatalf("the delay doubles: status %d, Retry-After %q, want 429 and 2 s", r.status, r.header.Get("Retry-After"))
	}
	clock.Advance(2 * time.Second)
	if r := newBrowser(t, srv).loginFrom("198.51.100.7", operatorName, operatorPassword); r.status != http.StatusSeeOther {
		t.Fatalf("the real user after a few seconds: status %d, want 303", r.status)
	}
}

// TestOneUserCannotEvictOthersSessions: sessions are bounded per user, so
// logging in again and again ends only that user's oldest sessions.
func TestOneUserCannotEvictOthersSessions(t *testing.T) {
	srv := startConsole(t, newMemFlags("acme"), console.Options{MaxSessions: 6, MaxSessionsPerUser: 3, LoginLimitPerIP: 1000})
	viewer := newBrowser(t, srv)
	viewer.login(viewerName, viewerPassword)
	var first *browser
	for i := 0; i < 10; i++ {
		b := newBrowser(t, srv)
		b.login(operatorName, operatorPassword)
		if i == 0 {
			first = b
		}
	}
	if r := viewer.get("/api/session"); r.status != http.StatusOK {
		t.Fatalf("the viewer's session after 10 logins of another user: status %d, want 200", r.status)
	}
	if r := first.get("/api/session"); r.status == http.StatusOK {
		t.Fatal("the operator's oldest session survived beyond its per-user bound")
	}
}

// TestLowCostHashesAreRefused: a bcrypt cost below 10 is neither made nor
// loaded.
func TestLowCostHashesAreRefused(t *testing.T) {
	if _, err := console.HashPassword("a long enough password", 4); !errors.Is(err, console.ErrWeakHash) {
		t.Errorf("HashPassword at cost 4: %v, want ErrWeakHash", err)
	}
	cheap, err := bcrypt.GenerateFromPassword([]byte("a long enough password"), 4)
	if err != nil {
		t.Fatal(err)
	}
	_, err = console.NewUsers([]console.User{{Name: "ann", Role: console.RoleViewer, PasswordHash: string(cheap)}})
	if !errors.Is(err, console.ErrInvalidUsers) || !strings.Contains(err.Error(), "cost 4") || !strings.Contains(err.Error(), "ann") {
		t.Errorf("users file with a cost-4 hash: %v, want ErrInvalidUsers naming the user and the cost", err)
	}
}
