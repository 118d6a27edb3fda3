// Package kinderr is the one error type behind a package's sentinel
// errors: an error with its own message that matches one sentinel (its
// kind) through errors.Is and, when there is one, wraps its cause. It
// saves each package a private twin of the same three methods, and keeps
// the sentinel's text out of the message, which fmt.Errorf("%w") would
// put in.
package kinderr

import "fmt"

// Error matches Kind through errors.Is, prints Msg and unwraps to Cause
// (nil when there is none).
type Error struct {
	Kind  error
	Msg   string
	Cause error
}

func (e *Error) Error() string        { return e.Msg }
func (e *Error) Is(target error) bool { return target == e.Kind }
func (e *Error) Unwrap() error        { return e.Cause }

// New returns an *Error of kind with the message msg and no cause.
func New(kind error, msg string) error { return &Error{Kind: kind, Msg: msg} }

// Errorf returns an *Error of kind, with the message formatted as by
// fmt.Sprintf (a %w verb is not special) and cause, which may be nil.
func Errorf(kind, cause error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...), Cause: cause}
}
