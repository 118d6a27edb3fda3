package migrator

import (
	"context"
	"errors"
	"log/slog"

	"github.com/switchyard/switchyard/internal/lifecycle"
	"github.com/switchyard/switchyard/stores"
)

// retryTransient calls fn until it succeeds, fails with an error that is
// not transient (stores.IsTransient), or ctx ends. Between attempts it waits
// from 100 ms doubling up to 5 s and logs what it waits for, so a store
// that is down stalls the copy instead of failing it.
func retryTransient[T any](ctx context.Context, log *slog.Logger, what string, fn func() (T, error)) (T, error) {
	return retry(ctx, log, what, stores.IsTransient, fn)
}

// retryAlways retries every error but the migrator's own verdicts
// (ErrRunMismatch, ErrConflict) until ctx ends: for NATS requests, which
// fail while the broker restarts and succeed once it is back.
func retryAlways[T any](ctx context.Context, log *slog.Logger, what string, fn func() (T, error)) (T, error) {
	return retry(ctx, log, what, func(err error) bool {
		return !errors.Is(err, ErrRunMismatch) && !errors.Is(err, ErrConflict)
	}, fn)
}

// retry runs fn under lifecycle.Retry; a retry cut short by ctx returns
// ctx's error.
func retry[T any](ctx context.Context, log *slog.Logger, what string, retryable func(error) bool, fn func() (T, error)) (T, error) {
	policy := lifecycle.Policy{Backoff: lifecycle.DefaultBackoff, Retryable: retryable, Log: log, Waiting: "retrying", Attrs: []any{"what", what}}
	v, err := lifecycle.RetryValue(ctx, policy, fn)
	if ie, ok := errors.AsType[*lifecycle.InterruptedError](err); ok {
		return v, ie.Cause
	}
	return v, err
}
