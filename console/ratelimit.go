package console

import (
	"sync"
	"time"
)

// loginLimiter counts failed logins per key (a client IP or a user name)
// in a fixed window and blocks the key once it reaches the limit, until the
// window that started with its first failure ends.
type loginLimiter struct {
	limit  int
	window time.Duration
	max    int // keys tracked at most; beyond, the oldest windows are dropped
	now    func() time.Time

	mu       sync.Mutex
	failures map[string]*failureWindow
}

type failureWindow struct {
	start time.Time
	count int
}

func newLoginLimiter(limit int, window time.Duration, now func() time.Time) *loginLimiter {
	return &loginLimiter{limit: limit, window: window, max: 100_000, now: now, failures: map[string]*failureWindow{}}
}

// blocked reports whether key reached its limit, and for how much longer.
func (l *loginLimiter) blocked(key string) (time.Duration, bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.failures[key]
	if !ok {
		return 0, false
	}
	left := w.start.Add(l.window).Sub(now)
	if left <= 0 {
		delete(l.failures, key)
		return 0, false
	}
	return left, w.count >= l.limit
}

// fail records a failed attempt for key.
func (l *loginLimiter) fail(key string) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.failures[key]
	if !ok || now.Sub(w.start) >= l.window {
		if len(l.failures) >= l.max {
			l.pruneLocked(now)
		}
		l.failures[key] = &failureWindow{start: now, count: 1}
		return
	}
	w.count++
}

// reset forgets key's failures (after a successful login).
func (l *loginLimiter) reset(key string) {
	l.mu.Lock()
	delete(l.failures, key)
	l.mu.Unlock()
}

func (l *loginLimiter) pruneLocked(now time.Time) {
	for k, w := range l.failures {
		if now.Sub(w.start) >= l.window {
			delete(l.failures, k)
		}
	}
	// Still full: an attack from very many keys. Drop arbitrary entries;
	// the per-user limit still protects each account.
	for k := range l.failures {
		if len(l.failures) < l.max {
			break
		}
		delete(l.failures, k)
	}
}
