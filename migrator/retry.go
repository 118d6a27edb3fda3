package migrator

import (
	"context"
	"errors"
	"log/slog"
	"time"

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

func retry[T any](ctx context.Context, log *slog.Logger, what string, retryable func(error) bool, fn func() (T, error)) (T, error) {
	delay := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		v, err := fn()
		if err == nil || !retryable(err) || ctx.Err() != nil {
			if err != nil && ctx.Err() != nil {
				return v, ctx.Err()
			}
			return v, err
		}
		log.Warn("retrying", "what", what, "attempt", attempt, "err", err, "retry_in", delay)
		if serr := sleepCtx(ctx, delay); serr != nil {
			return v, serr
		}
		delay = min(delay*2, 5*time.Second)
	}
}
