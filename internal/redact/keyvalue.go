package redact

import "strings"

// redactKeyValue redacts a key=value DSN: PostgreSQL's space-separated
// "host=h password='p w'" or SQL Server's semicolon-separated
// "server=h;user id=u;password={p;w}". It fails (ok false) unless every
// part is a well-formed pair, so a value that breaks the syntax never
// prints.
func redactKeyValue(s string) (string, bool) {
	out, _, ok := parseKeyValue(s)
	return out, ok
}

// parseKeyValue returns the redacted form and the secret values.
func parseKeyValue(s string) (string, []string, bool) {
	if !strings.Contains(s, "=") {
		return "", nil, false
	}
	var secrets []string
	var out string
	var ok bool
	if strings.Contains(s, ";") {
		out, ok = redactSemicolonPairs(s, &secrets)
	} else {
		out, ok = redactSpacePairs(s, &secrets)
	}
	return out, secrets, ok
}

// redactSpacePairs follows libpq: key = value, values optionally in single
// quotes with \' and \\ escapes.
func redactSpacePairs(s string, secrets *[]string) (string, bool) {
	var out []string
	i := 0
	skipSpace := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++
		}
	}
	for {
		skipSpace()
		if i >= len(s) {
			break
		}
		start := i
		for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || s[i] >= '0' && s[i] <= '9' || s[i] == '_') {
			i++
		}
		key := s[start:i]
		skipSpace()
		if key == "" || i >= len(s) || s[i] != '=' {
			return "", false
		}
		i++
		skipSpace()
		vstart := i
		if i < len(s) && s[i] == '\'' {
			i++
			closed := false
			for i < len(s) {
				switch s[i] {
				case '\\':
					i += 2
					continue
				case '\'':
					closed = true
				}
				i++
				if closed {
					break
				}
			}
			if !closed || i > len(s) {
				return "", false
			}
		} else {
			for i < len(s) && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r' {
				if s[i] == '\\' || s[i] == '\'' {
					return "", false
				}
				i++
			}
		}
		value := s[vstart:i]
		if isSecretKey(key) {
			*secrets = append(*secrets, value, strings.Trim(value, "'\"{}"))
			value = Mask
		}
		out = append(out, key+"="+value)
	}
	if len(out) == 0 {
		return "", false
	}
	return strings.Join(out, " "), true
}

// redactSemicolonPairs follows SQL Server's connection strings: pairs
// separated by ';', values optionally quoted with "…", '…' (a doubled quote
// escapes it) or {…} (a doubled '}' escapes it).
func redactSemicolonPairs(s string, secrets *[]string) (string, bool) {
	var out []string
	i := 0
	for i < len(s) {
		for i < len(s) && (s[i] == ';' || s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			break
		}
		eq := strings.IndexByte(s[i:], '=')
		if eq < 0 {
			return "", false
		}
		key := strings.TrimSpace(s[i : i+eq])
		if key == "" || strings.ContainsAny(key, ";'\"{}") {
			return "", false
		}
		i += eq + 1
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		vstart := i
		if i < len(s) && (s[i] == '"' || s[i] == '\'' || s[i] == '{') {
			closeQuote := s[i]
			if closeQuote == '{' {
				closeQuote = '}'
			}
			i++
			closed := false
			for i < len(s) {
				if s[i] == closeQuote {
					if i+1 < len(s) && s[i+1] == closeQuote {
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				i++
			}
			if !closed {
				return "", false
			}
			for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
				i++
			}
			if i < len(s) && s[i] != ';' {
				return "", false
			}
		} else {
			for i < len(s) && s[i] != ';' {
				if s[i] == '"' || s[i] == '\'' || s[i] == '{' || s[i] == '}' || s[i] == '=' {
					return "", false
				}
				i++
			}
		}
		value := strings.TrimSpace(s[vstart:i])
		if isSecretKey(key) {
			*secrets = append(*secrets, value, strings.Trim(value, "'\"{}"))
			value = Mask
		}
		out = append(out, key+"="+value)
	}
	if len(out) == 0 {
		return "", false
	}
	return strings.Join(out, ";"), true
}
