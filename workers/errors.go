package workers

import (
	"errors"
	"fmt"
	"time"
)

var (
	// ErrRunning: Run was called on a Worker that is already running.
	ErrRunning = errors.New("worker is already running")
	// ErrGraceExpired: the drain did not finish within Config.Grace; the
	// batches still in flight were cancelled and will be redelivered.
	ErrGraceExpired = errors.New("drain did not finish within the grace period")
	// ErrPanic matches a *PanicError.
	ErrPanic = errors.New("handler panicked")
	// ErrVersionSourceMismatch: the consumer records another version source
	// than the worker is configured with.
	ErrVersionSourceMismatch = errors.New("version source does not match the consumer")
	// ErrOpsServer: RunProcess could not serve its ops endpoints (the
	// address is taken or invalid).
	ErrOpsServer = errors.New("ops server cannot listen")
)

// PanicError is a panic in a handler, recovered and turned into an error.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string        { return fmt.Sprintf("handler panicked: %v", e.Value) }
func (e *PanicError) Is(target error) bool { return target == ErrPanic }

// RetryError carries the delay the retry middleware chose for a failed
// batch: the worker negatively acknowledges the batch with it and pauses as
// long before pulling the next batch.
type RetryError struct {
	Err   error
	Delay time.Duration
}

func (e *RetryError) Error() string { return e.Err.Error() }
func (e *RetryError) Unwrap() error { return e.Err }
