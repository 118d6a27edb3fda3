package textlimit

import (
	"strings"
	"unicode/utf8"
)

// Truncate cuts s to at most n bytes on a rune boundary and marks the cut
// with an ellipsis, so that an error message quoting caller input stays
// short and valid UTF-8.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// IsName reports whether s is 1 to 64 ASCII letters, digits, '-' or '_':
// safe in a key-value key and in a log line.
func IsName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// OneLine folds s onto one line, each run of white space (newlines
// included) one space: a multi-line driver message or reason keeps one
// table row or log line.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
