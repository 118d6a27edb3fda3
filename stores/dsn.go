package stores

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/switchyard/switchyard/internal/redact"
)

// RoleOpener opens a store from a DSN whose secrets are already resolved,
// for a role: RoleSource must write nothing. role is "" when the caller
// did not say (Open), and the adapter then keeps its default, a writer.
type RoleOpener func(ctx context.Context, dsn string, role Role) (Store, error)

// Adapter opens the stores of one DSN scheme.
type Adapter struct {
	// Scheme is the DSN scheme, such as "sqlite" or "postgres".
	Scheme string
	// Open opens a store of the scheme.
	Open RoleOpener
}

// Adapters is an explicit table of adapters, one per scheme, that opens
// stores by DSN. stores/all holds the table of every adapter of this
// module; a program or test may build its own.
type Adapters []Adapter

// Schemes lists the table's DSN schemes, sorted.
func (a Adapters) Schemes() []string {
	out := make([]string, 0, len(a))
	for _, ad := range a {
		out = append(out, ad.Scheme)
	}
	sort.Strings(out)
	return out
}

// lookup returns the opener of a scheme.
func (a Adapters) lookup(scheme string) (RoleOpener, bool) {
	for _, ad := range a {
		if ad.Scheme == scheme {
			return ad.Open, true
		}
	}
	return nil, false
}

// Scheme returns the scheme of a DSN: the text before the first ':'.
func Scheme(dsn string) string {
	if i := strings.IndexByte(dsn, ':'); i > 0 {
		return strings.ToLower(dsn[:i])
	}
	return ""
}

// Open resolves the secrets of dsn (see ResolveSecrets) and opens the store
// of the table's adapter for its scheme. It fails with an error matching
// ErrUnknownScheme when the table has no adapter for the scheme; errors
// never contain the resolved secrets.
//
// Open leaves the role to the adapter (a writer, unless the DSN says
// otherwise); commands that only read a store use OpenRole.
func (a Adapters) Open(ctx context.Context, dsn string) (Store, error) {
	return a.open(ctx, dsn, "")
}

// OpenRole is Open for a role: a store opened as RoleSource writes nothing,
// not even its own bookkeeping tables, so read-only credentials suffice.
// The backfill's and verify's source and the read router's legacy store are
// opened as RoleSource; the worker's sink and the backfill's target as
// RoleTarget.
func (a Adapters) OpenRole(ctx context.Context, dsn string, role Role) (Store, error) {
	if !role.Valid() {
		return nil, fmt.Errorf("store %s: unknown role %q", Redact(dsn), role)
	}
	return a.open(ctx, dsn, role)
}

func (a Adapters) open(ctx context.Context, dsn string, role Role) (Store, error) {
	opener, ok := a.lookup(Scheme(dsn))
	if !ok {
		return nil, fmt.Errorf("store %q: %w (known: %s)", Redact(dsn), ErrUnknownScheme, strings.Join(a.Schemes(), ", "))
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
