package redact

import (
	"net/url"
	"sort"
	"strings"
)

// minFragment is the shortest piece of a secret that Scrub masks on its
// own. Parsers quote pieces of a value cut at delimiters (`invalid port
// ":S3cret" after host`); shorter pieces would mask ordinary words.
const minFragment = 3

// secretDelimiters are where a parser may cut a secret when it quotes it.
const secretDelimiters = "/?#@:%&;=,'\"{} \t\r\n\\[]"

// Secrets returns the secrets a DSN or NATS URL list carries: URL
// passwords and tokens, secret parameters and key=value secrets, each as
// written, unescaped and escaped, and the pieces a parser might quote.
// Secret references (${env:…}) are not secrets and are left out.
func Secrets(value string) []string {
	var raw []string
	for _, part := range strings.Split(value, ",") {
		raw = append(raw, secretsOf(strings.TrimSpace(part))...)
	}
	if strings.Contains(value, ",") {
		// A password may hold a comma: read the list as one URL too.
		raw = append(raw, secretsOf(value)...)
	}
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if len(s) >= minFragment && !seen[s] && !isReference(s) {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, s := range raw {
		add(s)
		if u, err := url.PathUnescape(s); err == nil {
			add(u)
		}
		if u, err := url.QueryUnescape(s); err == nil {
			add(u)
		}
		add(url.PathEscape(s))
		add(url.QueryEscape(s))
		for _, piece := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(secretDelimiters, r) }) {
			add(piece)
		}
	}
	// Longest first, so a secret is masked whole before its pieces.
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

func isReference(s string) bool {
	return strings.HasPrefix(s, "${") && strings.HasSuffix(s, "}") && strings.Count(s, "}") == 1
}

func secretsOf(s string) []string {
	var out []string
	_, rest, isURL := splitScheme(s)
	if isURL {
		if at := strings.LastIndexByte(rest, '@'); at >= 0 {
			userinfo := rest[:at]
			if _, pw, ok := strings.Cut(userinfo, ":"); ok {
				out = append(out, pw)
			} else {
				out = append(out, userinfo) // a NATS token
			}
			rest = rest[at+1:]
		}
	}
	if _, query, ok := strings.Cut(rest, "?"); ok {
		for _, p := range strings.FieldsFunc(query, func(r rune) bool { return r == '&' || r == ';' }) {
			if k, v, ok := strings.Cut(p, "="); ok {
				if key, err := url.QueryUnescape(k); err != nil || isSecretKey(key) {
					out = append(out, v)
				}
			}
		}
	}
	if !isURL {
		if _, secrets, ok := parseKeyValue(s); ok {
			out = append(out, secrets...)
		} else {
			// Unparseable key=value text: everything after a secret key
			// may be the secret.
			lower := strings.ToLower(s)
			for k := range secretKeys {
				for i := strings.Index(lower, k+"="); i >= 0; {
					out = append(out, s[i+len(k)+1:])
					next := strings.Index(lower[i+1:], k+"=")
					if next < 0 {
						break
					}
					i += 1 + next
				}
			}
		}
	}
	return out
}

// Scrub returns msg with each of values replaced by its redacted form and
// every secret they carry masked. Use it on text from drivers and parsers
// that may quote a DSN or NATS URL.
func Scrub(msg string, values ...string) string {
	for _, v := range values {
		if v == "" {
			continue
		}
		if strings.Contains(v, ",") && strings.Contains(v, "://") {
			msg = strings.ReplaceAll(msg, v, URLs(v))
		} else {
			msg = strings.ReplaceAll(msg, v, DSN(v))
		}
		for _, s := range Secrets(v) {
			msg = strings.ReplaceAll(msg, s, Mask)
		}
	}
	return msg
}

func splitList(urls string) []string {
	var out []string
	for _, u := range strings.Split(urls, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}
