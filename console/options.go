package console

import (
	"fmt"
	"log/slog"
	"net/netip"
	"time"
)

// Defaults of Options.
const (
	DefaultIdleTimeout        = 30 * time.Minute
	DefaultSessionLifetime    = 12 * time.Hour
	DefaultMaxSessions        = 10_000
	DefaultMaxSessionsPerUser = 20
	DefaultLoginLimitPerIP    = 20
	DefaultLoginLimitPerUser  = 5
	DefaultLoginUserCeiling   = 50
	DefaultLoginMaxDelay      = 30 * time.Second
	DefaultLoginWindow        = 15 * time.Minute
	DefaultPageSize           = 25
	DefaultAuditLimit         = 100
	DefaultBackendTimeout     = 10 * time.Second
)

// Input limits.
const (
	// MaxBodyBytes bounds every request body.
	MaxBodyBytes = 16 << 10
	// MaxReasonChars bounds the reason of a change, in characters.
	MaxReasonChars = 500
	// MaxReasonBytes bounds the reason in bytes of UTF-8 (the flag store's
	// limit).
	MaxReasonBytes = 1024
	// MaxQueryBytes bounds a search query.
	MaxQueryBytes = 255
	// MaxClientIDBytes bounds a client id (events.MaxClientBytes).
	MaxClientIDBytes = 255
)

// Deps are what the console works with.
type Deps struct {
	// Flags are the per-client read stages. Required.
	Flags Flags
	// Status is the migration status; nil shows "unavailable".
	Status StatusSource
	// Users may log in. Required.
	Users *Users
	// Verifier runs per-client verifies; nil offers none.
	Verifier Verifier
	// Log receives request errors, logins and changes; nil discards.
	Log *slog.Logger
}

// Options tune the console. The zero value is production-ready.
type Options struct {
	// InsecureCookies drops the Secure attribute (and the __Host- cookie
	// prefix) so the console works over plain HTTP on localhost.
	InsecureCookies bool
	// IdleTimeout ends a session not used for this long (default 30 min).
	IdleTimeout time.Duration
	// SessionLifetime ends every session this long after login (default
	// 12 h), however active.
	SessionLifetime time.Duration
	// MaxSessions bounds the live sessions; beyond, the least recently used
	// is ended (default 10000).
	MaxSessions int
	// MaxSessionsPerUser bounds the live sessions of one user; beyond, that
	// user's least recently used session is ended, never another user's
	// (default 20).
	MaxSessionsPerUser int
	// LoginLimitPerUser is the failed logins a user may have from one client
	// address per LoginWindow before that user is refused with 429 from that
	// address (default 5); the same user from another address is not
	// affected. LoginLimitPerIP is the failed logins per LoginWindow after
	// which an address is refused whatever user it tries (default 20).
	// Window default 15 min.
	LoginLimitPerIP   int
	LoginLimitPerUser int
	LoginWindow       time.Duration
	// LoginUserCeiling is the failed logins of a user from all addresses
	// together per LoginWindow after which its attempts are spaced out: 1 s
	// after the next failure, doubling up to LoginMaxDelay (defaults 50 and
	// 30 s). The account is slowed, never locked.
	LoginUserCeiling int
	LoginMaxDelay    time.Duration
	// TrustedProxies are the reverse proxies whose X-Forwarded-For header
	// names the client IP for rate limiting. Empty: the peer address is the
	// client.
	TrustedProxies []netip.Prefix
	// TrustedOrigins are other origins (scheme://host[:port]) allowed to
	// send state-changing requests, e.g. when a proxy rewrites Host.
	TrustedOrigins []string
	// PageSize is the number of clients per search page (default 25).
	PageSize int
	// AuditLimit is the number of audit entries listed (default 100).
	AuditLimit int
	// BackendTimeout bounds each call to Flags and Status (default 10 s).
	BackendTimeout time.Duration
	// Now is the clock; nil means time.Now. Tests set it to move time.
	Now func() time.Time
}

func (o Options) withDefaults() (Options, error) {
	setDur := func(d *time.Duration, def time.Duration, name string) error {
		switch {
		case *d == 0:
			*d = def
		case *d < 0:
			return fmt.Errorf("console option %s is negative (%v)", name, *d)
		}
		return nil
	}
	setInt := func(n *int, def int, name string) error {
		switch {
		case *n == 0:
			*n = def
		case *n < 0:
			return fmt.Errorf("console option %s is negative (%d)", name, *n)
		}
		return nil
	}
	for _, err := range []error{
		setDur(&o.IdleTimeout, DefaultIdleTimeout, "IdleTimeout"),
		setDur(&o.SessionLifetime, DefaultSessionLifetime, "SessionLifetime"),
		setDur(&o.LoginWindow, DefaultLoginWindow, "LoginWindow"),
		setDur(&o.LoginMaxDelay, DefaultLoginMaxDelay, "LoginMaxDelay"),
		setInt(&o.MaxSessionsPerUser, DefaultMaxSessionsPerUser, "MaxSessionsPerUser"),
		setInt(&o.LoginUserCeiling, DefaultLoginUserCeiling, "LoginUserCeiling"),
		setDur(&o.BackendTimeout, DefaultBackendTimeout, "BackendTimeout"),
		setInt(&o.MaxSessions, DefaultMaxSessions, "MaxSessions"),
		setInt(&o.LoginLimitPerIP, DefaultLoginLimitPerIP, "LoginLimitPerIP"),
		setInt(&o.LoginLimitPerUser, DefaultLoginLimitPerUser, "LoginLimitPerUser"),
		setInt(&o.PageSize, DefaultPageSize, "PageSize"),
		setInt(&o.AuditLimit, DefaultAuditLimit, "AuditLimit"),
	} {
		if err != nil {
			return o, err
		}
	}
	if o.IdleTimeout > o.SessionLifetime {
		return o, fmt.Errorf("console option IdleTimeout (%v) exceeds SessionLifetime (%v)", o.IdleTimeout, o.SessionLifetime)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}
