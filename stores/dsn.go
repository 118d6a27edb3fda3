package stores

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/switchyard/switchyard/internal/redact"
)

// Opener opens a store from a DSN whose secrets are already resolved.
type Opener func(ctx context.Context, dsn string) (Store, error)

// RoleOpener opens a store from a DSN whose secrets are already resolved,
// for a role: RoleSource must write nothing. role is "" when the caller
// did not say (Open), and the adapter then keeps its default, a writer.
type RoleOpener func(ctx context.Context, dsn string, role Role) (Store, error)

var (
	registryMu sync.RWMutex
	registry   = map[string]RoleOpener{}
)

// Register makes an adapter available under a DSN scheme ("sqlite",
// "postgres", ...), for an adapter that opens every role alike. Adapters
// call it from init; registering a scheme twice panics, as
// database/sql.Register does, because it is a programming error.
func Register(scheme string, open Opener) {
	RegisterRole(scheme, func(ctx context.Context, dsn string, _ Role) (Store, error) { return open(ctx, dsn) })
}

// RegisterRole is Register for an adapter whose opening depends on the
// role, such as one that creates its bookkeeping tables only as a writer.
func RegisterRole(scheme string, open RoleOpener) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[scheme]; dup {
		panic("stores: Register called twice for scheme " + scheme)
	}
	registry[scheme] = open
}

// Schemes lists the registered DSN schemes, sorted.
func Schemes() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	out := make([]string, 0, len(registry))
	for s := range registry {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Scheme returns the scheme of a DSN: the text before the first ':'.
func Scheme(dsn string) string {
	if i := strings.IndexByte(dsn, ':'); i > 0 {
		return strings.ToLower(dsn[:i])
	}
	return ""
}

// Open resolves the secrets of dsn (see ResolveSecrets) and opens the store
// registered for its scheme. It fails with an error matching
// ErrUnknownScheme when no adapter is registered for the scheme; errors never
// contain the resolved secrets.
//
// Open leaves the role to the adapter (a writer, unless the DSN says
// otherwise); commands that only read a store use OpenRole.
func Open(ctx context.Context, dsn string) (Store, error) {
	return open(ctx, dsn, "")
}

// OpenRole is Open for a role: a store opened as RoleSource writes nothing,
// not even its own bookkeeping tables, so read-only credentials suffice.
// The backfill's and verify's source and the read router's legacy store are
// opened as RoleSource; the worker's sink and the backfill's target as
// RoleTarget.
func OpenRole(ctx context.Context, dsn string, role Role) (Store, error) {
	if !role.Valid() {
		return nil, fmt.Errorf("store %s: unknown role %q", Redact(dsn), role)
	}
	return open(ctx, dsn, role)
}

func open(ctx context.Context, dsn string, role Role) (Store, error) {
	scheme := Scheme(dsn)
	registryMu.RLock()
	opener, ok := registry[scheme]
	registryMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("store %q: %w (known: %s)", Redact(dsn), ErrUnknownScheme, strings.Join(Schemes(), ", "))
	}
	resolved, err := ResolveSecrets(dsn)
	if err != nil {
		return nil, err
	}
	st, err := opener(ctx, resolved, role)
	if err != nil {
		// The error names only the redacted DSN; errors.Is and errors.As
		// still see the adapter's chain (ErrTransient, ErrSchemaMismatch,
		// driver types).
		return nil, redact.WrapDSN(err, "store", dsn, resolved)
	}
	return st, nil
}

var secretRef = regexp.MustCompile(`\$\{(env|file):([^}]+)\}`)

// ResolveSecrets replaces ${env:NAME} with the environment variable NAME and
// ${file:PATH} with the contents of the file PATH (without a trailing
// newline), so a DSN in configuration, flags or logs never holds a password.
// A missing variable or unreadable file is an error naming it.
func ResolveSecrets(dsn string) (string, error) {
	var firstErr error
	out := secretRef.ReplaceAllStringFunc(dsn, func(ref string) string {
		m := secretRef.FindStringSubmatch(ref)
		kind, name := m[1], m[2]
		switch kind {
		case "env":
			v, ok := os.LookupEnv(name)
			if !ok && firstErr == nil {
				firstErr = fmt.Errorf("DSN secret: environment variable %s is not set", name)
			}
			return url.PathEscape(v)
		default:
			b, err := os.ReadFile(name)
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("DSN secret: %w", err)
			}
			return url.PathEscape(strings.TrimRight(string(b), "\r\n"))
		}
	})
	return out, firstErr
}

// Redact returns dsn fit for logs, errors and status output (see
// redact.DSN): passwords and secret parameters masked, key=value DSNs
// redacted, and a DSN that cannot be parsed shown as its scheme plus
// "<unparseable>", never as written. Secret references (${env:…},
// ${file:…}) name where the secret is and are masked like passwords.
func Redact(dsn string) string { return redact.DSN(dsn) }
