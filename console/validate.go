package console

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/gate"
)

// ValidateClientID checks a client id with the flag model's rule
// (flags.ValidateClient), so the console accepts exactly the ids the CLI
// and the APIs accept. Errors are *InputError (ErrInvalidInput).
func ValidateClientID(id string) error {
	if err := flags.ValidateClient(id); err != nil {
		return inputErrorFrom("client id", err)
	}
	return nil
}

// inputErrorFrom turns the flag model's validation error into the
// console's, naming field.
func inputErrorFrom(field string, err error) error {
	var inv *flags.InvalidError
	if errors.As(err, &inv) {
		return &InputError{Field: field, Msg: inv.Reason}
	}
	return &InputError{Field: field, Msg: err.Error()}
}

// lineBreaks folds multi-line reasons onto one line: audit entries are
// single-line records.
var lineBreaks = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")

// validateReason folds line breaks into spaces, trims, and checks a change
// reason with the flag model's rule (flags.ValidateReason: visible text,
// NFC, no control, format or invisible characters except tabs), and the
// console's length limit of MaxReasonChars characters.
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
	if err := flags.ValidateReason(reason); err != nil {
		return "", inputErrorFrom("reason", err)
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
		return "", &InputError{Field: field, Msg: fmt.Sprintf("%q is not one of "+gate.StageNames, truncateForMessage(s))}
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
