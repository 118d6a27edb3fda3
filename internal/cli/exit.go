package cli

import (
	"errors"
	"fmt"
)

// Exit codes of every command; docs/cli.md documents them.
const (
	// ExitOK: the command did what it was asked, and every check passed.
	ExitOK = 0
	// ExitCheckFailed: the command ran, and a check or gate it applies
	// failed (verify found differences, a promotion or readiness gate
	// refused, a stream cannot serve, invalid input lines were refused).
	ExitCheckFailed = 1
	// ExitUsage: bad flags, arguments or configuration; nothing was done.
	ExitUsage = 2
	// ExitError: something went wrong while working (NATS unreachable,
	// a store error, a missing stream or bucket).
	ExitError = 3
)

// ErrCheckFailed matches errors meaning that a check or gate failed, as
// opposed to an error that happened (ExitCheckFailed, not ExitError).
var ErrCheckFailed = errors.New("check failed")

// CheckError is a failed check: the command worked, and its result is
// not clean. It matches ErrCheckFailed and unwraps to its cause, if any.
type CheckError struct {
	Msg   string
	Cause error
}

func (e *CheckError) Error() string {
	if e.Cause != nil {
		return e.Msg + ": " + e.Cause.Error()
	}
	return e.Msg
}

// Is matches ErrCheckFailed.
func (e *CheckError) Is(target error) bool { return target == ErrCheckFailed }

// Unwrap returns the cause.
func (e *CheckError) Unwrap() error { return e.Cause }

// CheckFailedf builds a *CheckError.
func CheckFailedf(format string, args ...any) error {
	return &CheckError{Msg: fmt.Sprintf(format, args...)}
}
