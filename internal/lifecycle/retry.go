package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
)

// Policy says how Retry retries: which errors, how long it waits between
// attempts, how often, and what it logs while it waits.
type Policy struct {
	// Backoff spaces the attempts: the wait after the n-th failure is
	// Backoff.Delay(n).
	Backoff Backoff
	// Retryable reports whether an error is worth another attempt; nil
	// retries every error. An error wrapped by Permanent is never retried.
	Retryable func(error) bool
	// MaxAttempts bounds the attempts; zero means until ctx ends.
	MaxAttempts int64
	// Log receives one warning per wait; nil discards them.
	Log *slog.Logger
	// Waiting is the message of that warning: what is waited for.
	Waiting string
	// Attrs are added to that warning, before "attempt", "err" and
	// "retry_in".
	Attrs []any
}

// Retry calls op until it succeeds, fails for good or ctx ends. It returns
//   - nil once op succeeds;
//   - the error of op, unwrapped, when op marked it Permanent;
//   - the error of op when the policy does not retry it, or after
//     MaxAttempts;
//   - an *InterruptedError (matching ctx's error) when ctx ends, whether
//     during a wait or as op failed.
func Retry(ctx context.Context, p Policy, op func() error) error {
	for attempt := int64(1); ; attempt++ {
		err := op()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return &InterruptedError{Cause: ctx.Err(), Last: err}
		}
		var perm *permanentError
		if errors.As(err, &perm) {
			return perm.err
		}
		if (p.Retryable != nil && !p.Retryable(err)) || (p.MaxAttempts > 0 && attempt >= p.MaxAttempts) {
			return err
		}
		delay := p.Backoff.Delay(attempt)
		if p.Log != nil {
			p.Log.Warn(p.Waiting, append(slices.Clip(p.Attrs), "attempt", attempt, "err", err, "retry_in", delay)...)
		}
		if cerr := Sleep(ctx, delay); cerr != nil {
			return &InterruptedError{Cause: cerr, Last: err}
		}
	}
}

// RetryValue is Retry for an operation that returns a value: the value of
// the last attempt is returned with its outcome.
func RetryValue[T any](ctx context.Context, p Policy, op func() (T, error)) (T, error) {
	var v T
	err := Retry(ctx, p, func() error {
		var err error
		v, err = op()
		return err
	})
	return v, err
}

// InterruptedError says that ctx ended before an attempt succeeded. It
// matches Cause (ctx's error) with errors.Is.
type InterruptedError struct {
	// Cause is ctx's error.
	Cause error
	// Last is the error of the last attempt.
	Last error
}

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("%v (last error: %v)", e.Cause, e.Last)
}

func (e *InterruptedError) Unwrap() error { return e.Cause }

// Permanent marks err as not worth another attempt: Retry returns err as
// it is, whatever the policy says. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }
