package console

import (
	"sync"
	"time"
)

// loginGuard limits password checks. It keeps failed (and in-flight)
// attempts per window, under three keys:
//
//   - user and client address: after perPair failures that user is refused
//     from that address until the window ends, so a guesser at one address
//     cannot lock the user out everywhere;
//   - client address: after perIP failures the address is refused, whatever
//     user it tries (password spraying);
//   - user: past userCeiling failures from all addresses together, attempts
//     for the user are spaced out (a delay doubling per failure, up to
//     maxDelay) rather than refused for the window: a distributed guesser is
//     slowed to a trickle, and the real user waits seconds, never the window.
//
// begin reserves an attempt under all three keys at once, under one lock,
// before the password is checked: parallel guesses cannot all pass a check
// made before any of them failed.
type loginGuard struct {
	perPair, perIP, userCeiling int
	window, maxDelay            time.Duration
	max                         int // tracked keys per map at most
	now                         func() time.Time

	mu    sync.Mutex
	pairs map[pairKey]*attemptWindow
	ips   map[string]*attemptWindow
	users map[string]*attemptWindow
}

type pairKey struct{ user, ip string }

// attemptWindow counts the failed and in-flight attempts of one key since
// start; next is when the user may try again once over the ceiling.
type attemptWindow struct {
	start time.Time
	count int
	next  time.Time
}

func newLoginGuard(o Options) *loginGuard {
	return &loginGuard{
		perPair: o.LoginLimitPerUser, perIP: o.LoginLimitPerIP, userCeiling: o.LoginUserCeiling,
		window: o.LoginWindow, maxDelay: o.LoginMaxDelay, max: 100_000, now: o.Now,
		pairs: map[pairKey]*attemptWindow{}, ips: map[string]*attemptWindow{}, users: map[string]*attemptWindow{},
	}
}

// loginAttempt is a reserved attempt; exactly one of succeeded or failed
// must be called once the password was checked.
type loginAttempt struct {
	g        *loginGuard
	user, ip string
}

// begin reserves one attempt for user from ip. When it refuses, it returns
// how long to wait.
func (g *loginGuard) begin(user, ip string) (loginAttempt, time.Duration, bool) {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	pair := current(g.pairs, pairKey{user, ip}, now, g.window, g.max)
	addr := current(g.ips, ip, now, g.window, g.max)
	usr := current(g.users, user, now, g.window, g.max)
	var wait time.Duration
	if pair.count >= g.perPair {
		wait = max(wait, pair.start.Add(g.window).Sub(now))
	}
	if addr.count >= g.perIP {
		wait = max(wait, addr.start.Add(g.window).Sub(now))
	}
	if usr.count >= g.userCeiling && now.Before(usr.next) {
		wait = max(wait, usr.next.Sub(now))
	}
	if wait > 0 {
		return loginAttempt{}, wait, false
	}
	pair.count++
	addr.count++
	usr.count++
	if over := usr.count - g.userCeiling; over > 0 {
		// Over the ceiling: the next attempt for this user waits, however
		// this one ends.
		usr.next = now.Add(g.delay(over))
	}
	return loginAttempt{g: g, user: user, ip: ip}, 0, true
}

// delay is the spacing after over failures beyond the user ceiling: 1 s,
// 2 s, 4 s, ... up to maxDelay.
func (g *loginGuard) delay(over int) time.Duration {
	d := time.Second
	for i := 1; i < over && d < g.maxDelay; i++ {
		d *= 2
	}
	return min(d, g.maxDelay)
}

// failed keeps the reserved attempt counted.
func (a loginAttempt) failed() {}

// succeeded forgets the failures of the user at that address and releases
// the attempt from the address and user counts.
func (a loginAttempt) succeeded() {
	g := a.g
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.pairs, pairKey{a.user, a.ip})
	if w, ok := g.ips[a.ip]; ok && w.count > 0 {
		w.count--
	}
	if w, ok := g.users[a.user]; ok && w.count > 0 {
		w.count--
	}
}

// current returns key's window, starting a new one when there is none or
// it ended. A full map is pruned of ended windows first, then of arbitrary
// ones (an attack from very many keys; the other keys still hold).
func current[K comparable](m map[K]*attemptWindow, key K, now time.Time, window time.Duration, limit int) *attemptWindow {
	w, ok := m[key]
	if ok && now.Sub(w.start) < window {
		return w
	}
	if !ok && len(m) >= limit {
		for k, old := range m {
			if now.Sub(old.start) >= window {
				delete(m, k)
			}
		}
		for k := range m {
			if len(m) < limit {
				break
			}
			delete(m, k)
		}
	}
	w = &attemptWindow{start: now}
	m[key] = w
	return w
}
