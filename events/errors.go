package events

import (
	"errors"
	"fmt"
)

// ErrInvalid matches every error that Decode and Validate return, so callers
// can tell bad input (send it to the dead-letter stream) from other failures.
var ErrInvalid = errors.New("invalid event")

// FieldError says which field of an event is wrong and why.
type FieldError struct {
	// Field is the JSON name of the field, or "" when the payload as a whole
	// is wrong (not JSON, too large, not an object).
	Field string
	// Reason says what is wrong, in words an operator can act on.
	Reason string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return "invalid event: " + e.Reason
	}
	return fmt.Sprintf("invalid event: field %q: %s", e.Field, e.Reason)
}

// Is makes errors.Is(err, ErrInvalid) true for every FieldError.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
