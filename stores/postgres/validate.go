package postgres

import (
	"unicode/utf8"

	"github.com/switchyard/switchyard/stores"
)

// validate adds PostgreSQL's limits to stores.Validate, so that a write the
// server would refuse fails the call with a *stores.RejectError before the
// transaction starts, instead of aborting it: text must be valid UTF-8
// without NUL, and jsonb refuses the escape \u0000 and unpaired UTF-16
// surrogate escapes.
func validate(writes []stores.Write) error {
	if err := stores.Validate(writes); err != nil {
		return err
	}
	for i, w := range writes {
		switch {
		case !usableEntity(w.Entity):
			return stores.Reject(i, w, "entity name %q is reserved", w.Entity)
		case !validText(w.Key) || !validText(w.Client):
			return stores.Reject(i, w, "key and client must be valid UTF-8 without NUL")
		case w.EventID != "" && !validText(w.EventID):
			return stores.Reject(i, w, "event id must be valid UTF-8 without NUL")
		}
		if w.Deleted {
			continue
		}
		if !utf8.Valid(w.Data) {
			return stores.Reject(i, w, "data must be valid UTF-8")
		}
		if reason := jsonbEscapes(w.Data); reason != "" {
			return stores.Reject(i, w, "data: %s", reason)
		}
	}
	return nil
}

func validText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return false
		}
	}
	return true
}

// jsonbEscapes finds the \u escapes jsonb cannot store in a valid JSON
// document. In valid JSON a backslash only occurs inside strings, so a
// byte scan suffices.
func jsonbEscapes(doc []byte) string {
	for i := 0; i < len(doc); i++ {
		if doc[i] != '\\' {
			continue
		}
		i++ // the escaped character
		if i >= len(doc) || doc[i] != 'u' {
			continue
		}
		cp, ok := hex4(doc, i+1)
		if !ok {
			return "malformed \\u escape"
		}
		i += 4
		switch {
		case cp == 0:
			return "the escape \\u0000 cannot be stored in jsonb"
		case cp >= 0xDC00 && cp <= 0xDFFF:
			return "unpaired UTF-16 low surrogate escape"
		case cp >= 0xD800 && cp <= 0xDBFF:
			if i+2 >= len(doc) || doc[i+1] != '\\' || doc[i+2] != 'u' {
				return "unpaired UTF-16 high surrogate escape"
			}
			low, ok := hex4(doc, i+3)
			if !ok || low < 0xDC00 || low > 0xDFFF {
				return "unpaired UTF-16 high surrogate escape"
			}
			i += 6
		}
	}
	return ""
}

func hex4(doc []byte, at int) (rune, bool) {
	if at+4 > len(doc) {
		return 0, false
	}
	var cp rune
	for _, c := range doc[at : at+4] {
		cp <<= 4
		switch {
		case c >= '0' && c <= '9':
			cp |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			cp |= rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			cp |= rune(c-'A') + 10
		default:
			return 0, false
		}
	}
	return cp, true
}
