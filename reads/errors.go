package reads

import (
	"fmt"
	"unicode/utf8"

	"github.com/switchyard/switchyard/flags"
)

// invalid reports bad input as the control plane does: an
// *flags.InvalidError, which matches flags.ErrInvalid, so callers of the
// read path and of the flag store test for one error.
func invalid(field, format string, args ...any) error {
	return &flags.InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// truncate cuts s to at most n bytes on a rune boundary, so that an error
// message quoting caller input stays short.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// validName reports whether s is 1 to 64 letters, digits, '-' or '_'.
func validName(s string) bool {
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
