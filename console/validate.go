package console

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ValidateClientID checks the syntax of a client id: 1 to
// MaxClientIDBytes bytes of UTF-8 without control characters or surrounding
// white space. Errors are *InputError (ErrInvalidInput).
func ValidateClientID(id string) error {
	switch {
	case id == "":
		return &InputError{Field: "client id", Msg: "is empty"}
	case len(id) > MaxClientIDBytes:
		return &InputError{Field: "client id", Msg: fmt.Sprintf("is %d bytes long, at most %d allowed", len(id), MaxClientIDBytes)}
	case !utf8.ValidString(id):
		return &InputError{Field: "client id", Msg: "is not valid UTF-8"}
	case strings.TrimSpace(id) != id:
		return &InputError{Field: "client id", Msg: "has leading or trailing white space"}
	}
	for _, r := range id {
		if unicode.IsControl(r) {
			return &InputError{Field: "client id", Msg: fmt.Sprintf("contains the control character %U", r)}
		}
	}
	return nil
}

// lineBreaks folds multi-line reasons onto one line: audit entries are
// single-line records.
var lineBreaks = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")

// validateReason trims and checks a change reason: required, at most
// MaxReasonChars characters and MaxReasonBytes bytes, no control
// characters except tabs. Line breaks become spaces.
func validateReason(reason string) (string, error) {
	if !utf8.ValidString(reason) {
		return "", &InputError{Field: "reason", Msg: "is not valid UTF-8"}
	}
	reason = strings.TrimSpace(lineBreaks.Replace(reason))
	if reason == "" {
		return "", &InputError{Field: "reason", Msg: "is required: say why the stage changes"}
	}
	if n := utf8.RuneCountInString(reason); n > MaxReasonChars {
		return "", &InputError{Field: "reason", Msg: fmt.Sprintf("is %d characters long, at most %d allowed", n, MaxReasonChars), TooLarge: true}
	}
	if len(reason) > MaxReasonBytes {
		return "", &InputError{Field: "reason", Msg: fmt.Sprintf("is %d bytes long, at most %d allowed", len(reason), MaxReasonBytes), TooLarge: true}
	}
	for _, r := range reason {
		if unicode.IsControl(r) && r != '\t' {
			return "", &InputError{Field: "reason", Msg: fmt.Sprintf("contains the control character %U", r)}
		}
	}
	return reason, nil
}

// validateQuery checks a search query.
func validateQuery(q string) (string, error) {
	q = strings.TrimSpace(q)
	if len(q) > MaxQueryBytes {
		return "", &InputError{Field: "q", Msg: fmt.Sprintf("is %d bytes long, at most %d allowed", len(q), MaxQueryBytes), TooLarge: true}
	}
	if !utf8.ValidString(q) {
		return "", &InputError{Field: "q", Msg: "is not valid UTF-8"}
	}
	for _, r := range q {
		if unicode.IsControl(r) {
			return "", &InputError{Field: "q", Msg: fmt.Sprintf("contains the control character %U", r)}
		}
	}
	return q, nil
}

// parsePage reads a 1-based page number; empty means 1.
func parsePage(s string) (int, error) {
	if s == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 1_000_000 {
		return 0, &InputError{Field: "page", Msg: fmt.Sprintf("%q is not a page number (1 or more)", truncateForMessage(s))}
	}
	return n, nil
}

// parseStage reads a stage name.
func parseStage(field, s string) (Stage, error) {
	st := Stage(s)
	if !st.Valid() {
		return "", &InputError{Field: field, Msg: fmt.Sprintf("%q is not one of legacy, shadow, target-shadow, target", truncateForMessage(s))}
	}
	return st, nil
}

// truncateForMessage shortens user input echoed in an error message.
func truncateForMessage(s string) string {
	const max = 40
	if len(s) <= max {
		return strings.ToValidUTF8(s, "?")
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.ToValidUTF8(s[:cut], "?") + "…"
}
