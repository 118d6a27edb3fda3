// Package redact is the one place that turns connection strings (store
// DSNs, NATS URLs) and the errors that quote them into text safe to print.
//
// It works by construction rather than by search and replace: the output is
// rebuilt from the parts of the input known to be harmless (scheme, user
// name, host, path, non-secret parameters). When a value cannot be taken
// apart with certainty it prints as its scheme plus "<unparseable>"; the
// input itself is never echoed as a fallback.
package redact

import (
	"net/url"
	"strings"
)

// Mask replaces every secret in redacted output.
const Mask = "xxxxx"

// Unparseable stands for the part of a value that could not be parsed.
const Unparseable = "<unparseable>"

// secretKeys are parameter names (lower case, without spaces or
// underscores) whose values are secrets, in URL queries and key=value DSNs.
var secretKeys = map[string]bool{
	"password": true, "pwd": true, "pass": true, "passwd": true, "secret": true,
	"token": true, "sslpassword": true, "accesstoken": true, "clientsecret": true,
	"authtoken": true, "apikey": true, "sharedaccesskey": true, "accountkey": true,
	"passphrase": true,
}

func isSecretKey(k string) bool {
	k = strings.ToLower(strings.NewReplacer(" ", "", "_", "", "-", "").Replace(strings.TrimSpace(k)))
	return secretKeys[k]
}

// DSN returns a store DSN fit for logs, errors and status output: a URL
// keeps its scheme, user name, host, path and parameters, with the password
// and secret parameters masked; a key=value DSN (PostgreSQL's
// "host=… password=…", SQL Server's "server=…;password=…") keeps its keys
// with secret values masked. Secret references (${env:…}, ${file:…}) are
// kept: they say where the secret is, not what it is.
func DSN(dsn string) string {
	return redactOne(dsn, false)
}

// URLs returns a comma-separated list of NATS server URLs fit for output.
// The whole user information is masked, since NATS carries tokens there
// as the user name.
func URLs(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		parts[i] = redactOne(strings.TrimSpace(p), true)
	}
	return strings.Join(parts, ",")
}

func redactOne(s string, maskUser bool) string {
	if s == "" {
		return ""
	}
	scheme, rest, isURL := splitScheme(s)
	if !isURL {
		if scheme != "" {
			// scheme:opaque (sqlite:/path/file.db?mode=...). An '@'
			// means user information in a value that is not a URL.
			if out, ok := redactOpaque(rest); ok && !strings.Contains(rest, "@") {
				return scheme + ":" + out
			}
			return scheme + ":" + Unparseable
		}
		if out, ok := redactKeyValue(s); ok {
			return out
		}
		if out, ok := redactHostOnly(s); ok {
			return out
		}
		return Unparseable
	}
	out, ok := redactHierarchical(rest, maskUser)
	if !ok {
		return scheme + "://" + Unparseable
	}
	return scheme + "://" + out
}

// splitScheme splits "scheme://rest" (isURL) or "scheme:rest".
func splitScheme(s string) (scheme, rest string, isURL bool) {
	i := strings.IndexByte(s, ':')
	if i <= 0 || !validScheme(s[:i]) {
		return "", s, false
	}
	scheme = strings.ToLower(s[:i])
	if r, ok := strings.CutPrefix(s[i+1:], "//"); ok {
		return scheme, r, true
	}
	return scheme, s[i+1:], false
}

func validScheme(s string) bool {
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return true
}

// redactHierarchical handles "userinfo@host/path?query" after "//". The
// user information ends at the last '@' of the whole value, whatever
// characters the password holds; an '@' that belonged to the path or query
// only makes the output hide more.
func redactHierarchical(rest string, maskUser bool) (string, bool) {
	var b strings.Builder
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		userinfo := rest[:at]
		rest = rest[at+1:]
		user, _, hasPassword := strings.Cut(userinfo, ":")
		switch {
		case maskUser:
			b.WriteString(Mask)
		case hasPassword:
			if !cleanUser(user) {
				b.WriteString(Mask)
			} else {
				b.WriteString(user)
			}
			b.WriteString(":" + Mask)
		default:
			if !cleanUser(userinfo) {
				return "", false
			}
			b.WriteString(userinfo)
		}
		b.WriteByte('@')
	}
	tail, ok := redactOpaque(rest)
	if !ok {
		return "", false
	}
	// What remains must be a well-formed URL, or it is not shown.
	if _, err := url.Parse("x://" + Mask + "@" + tail); err != nil {
		return "", false
	}
	b.WriteString(tail)
	return b.String(), true
}

// cleanUser accepts user names made of unreserved characters, secret
// references and percent escapes only.
func cleanUser(u string) bool {
	if strings.HasPrefix(u, "${") && strings.HasSuffix(u, "}") {
		return !strings.ContainsAny(u[2:len(u)-1], "{}")
	}
	if _, err := url.PathUnescape(u); err != nil {
		return false
	}
	for _, r := range u {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("-._~%", r):
		default:
			return false
		}
	}
	return true
}

// redactOpaque masks secret parameters of "path?query#fragment". A
// fragment is dropped: nothing uses it and it may hold the tail of a
// password.
func redactOpaque(s string) (string, bool) {
	path, query, hasQuery := strings.Cut(s, "?")
	if i := strings.IndexByte(path, '#'); i >= 0 {
		return path[:i], true
	}
	if !hasQuery {
		return path, true
	}
	if i := strings.IndexByte(query, '#'); i >= 0 {
		query = query[:i]
	}
	sep := "&"
	if !strings.Contains(query, "&") && strings.Contains(query, ";") {
		sep = ";"
	}
	pairs := strings.Split(query, sep)
	for i, p := range pairs {
		k, _, hasValue := strings.Cut(p, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return "", false
		}
		if isSecretKey(key) {
			pairs[i] = k + "=" + Mask
			continue
		}
		// A parameter without '=' may be the tail of a password that held
		// an '&'.
		if !hasValue && p != "" {
			return "", false
		}
	}
	return path + "?" + strings.Join(pairs, sep), true
}

// redactHostOnly accepts a bare "host[:port]" (a NATS server without
// scheme).
func redactHostOnly(s string) (string, bool) {
	if s == "" || strings.ContainsAny(s, "@/?#=; \t") {
		return "", false
	}
	if _, err := url.Parse("x://" + s); err != nil {
		return "", false
	}
	return s, true
}
