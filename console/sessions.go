package console

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"
)

// errNoSession: the cookie names no live session (unknown, expired or
// logged out).
var errNoSession = errors.New("no valid session")

// session is one logged-in browser. Fields are fixed at creation except
// lastSeen, which the store guards.
type session struct {
	user      string
	role      Role
	csrfToken string
	created   time.Time
	lastSeen  time.Time
}

// sessionStore keeps sessions in memory, keyed by the SHA-256 of their id,
// so the ids themselves never sit in memory after being handed out.
type sessionStore struct {
	idle     time.Duration
	absolute time.Duration
	max      int
	perUser  int
	now      func() time.Time

	mu        sync.Mutex
	byHash    map[[32]byte]*session
	lastSweep time.Time
}

func newSessionStore(idle, absolute time.Duration, max, perUser int, now func() time.Time) *sessionStore {
	return &sessionStore{idle: idle, absolute: absolute, max: max, perUser: perUser, now: now, byHash: map[[32]byte]*session{}}
}

// randomToken returns 32 random bytes, base64url encoded.
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// create starts a session for usr and returns its id (for the cookie).
// When the user already has perUser sessions, the user's least recently
// used one is ended, so one account logging in again and again never ends
// other users' sessions; when the whole store is full, the least recently
// used session is ended.
func (s *sessionStore) create(usr User) (string, *session, error) {
	id, err := randomToken()
	if err != nil {
		return "", nil, err
	}
	csrf, err := randomToken()
	if err != nil {
		return "", nil, err
	}
	now := s.now()
	sess := &session{user: usr.Name, role: usr.Role, csrfToken: csrf, created: now, lastSeen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now, false)
	s.evictLocked(func(o *session) bool { return o.user == usr.Name }, s.perUser)
	if len(s.byHash) >= s.max {
		s.sweepLocked(now, true)
		s.evictLocked(func(*session) bool { return true }, s.max)
	}
	s.byHash[sha256.Sum256([]byte(id))] = sess
	return id, sess, nil
}

// get returns the live session for id and marks it used. Expired sessions
// are removed and reported as errNoSession.
func (s *sessionStore) get(id string) (session, error) {
	if id == "" {
		return session{}, errNoSession
	}
	key := sha256.Sum256([]byte(id))
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.byHash[key]
	if !ok {
		return session{}, errNoSession
	}
	if s.expired(sess, now) {
		delete(s.byHash, key)
		return session{}, errNoSession
	}
	sess.lastSeen = now
	return *sess, nil
}

// remove ends the session id (logout). Unknown ids are ignored.
func (s *sessionStore) remove(id string) {
	key := sha256.Sum256([]byte(id))
	s.mu.Lock()
	delete(s.byHash, key)
	s.mu.Unlock()
}

func (s *sessionStore) expired(sess *session, now time.Time) bool {
	return now.Sub(sess.lastSeen) >= s.idle || now.Sub(sess.created) >= s.absolute
}

// sweepLocked drops expired sessions, at most once a minute unless forced,
// so memory stays bounded without a background goroutine.
func (s *sessionStore) sweepLocked(now time.Time, force bool) {
	if !force && now.Sub(s.lastSweep) < time.Minute {
		return
	}
	s.lastSweep = now
	for k, sess := range s.byHash {
		if s.expired(sess, now) {
			delete(s.byHash, k)
		}
	}
}

// evictLocked ends the least recently used sessions matching until fewer
// than limit match.
func (s *sessionStore) evictLocked(match func(*session) bool, limit int) {
	n := 0
	for _, sess := range s.byHash {
		if match(sess) {
			n++
		}
	}
	for ; n >= limit; n-- {
		var oldestKey [32]byte
		var oldest *session
		for k, sess := range s.byHash {
			if match(sess) && (oldest == nil || sess.lastSeen.Before(oldest.lastSeen)) {
				oldestKey, oldest = k, sess
			}
		}
		if oldest == nil {
			return
		}
		delete(s.byHash, oldestKey)
	}
}
