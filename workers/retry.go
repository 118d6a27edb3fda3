package workers

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"

	"github.com/switchyard/switchyard/stores"
)

// Retry turns the failure of a batch into a *RetryError carrying the delay
// before the next attempt: policy.Delay of the number of consecutive failed
// batches, shared by every loop of the worker (a store outage affects them
// all), reset by the first success. It logs what is being waited for.
//
// Cancellation by the grace deadline is returned unchanged: there is no next
// attempt in this process.
func Retry(policy Backoff, log *slog.Logger) Middleware {
	var failures atomic.Int64
	return func(next Handler) Handler {
		return func(ctx context.Context, b *Batch) error {
			err := next(ctx, b)
			if err == nil {
				if n := failures.Swap(0); n > 0 {
					log.Info("batch applied again after failures", "failed_batches", n)
				}
				return nil
			}
			if ctx.Err() != nil {
				return err
			}
			n := failures.Add(1)
			delay := policy.Delay(n)
			log.Warn("batch failed; it will be redelivered after a delay",
				"waiting_for", waitingFor(err), "kind", failureKind(err), "attempt", n, "retry_in", delay,
				"messages", b.count(Pending), "event_ids", b.eventIDs(10), "err", err)
			return &RetryError{Err: err, Delay: delay}
		}
	}
}

// failureKind is the "kind" label of switchyard_events_failed_total.
func failureKind(err error) string {
	switch {
	case errors.Is(err, ErrPanic):
		return "panic"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	case stores.IsTransient(err):
		return "transient"
	case errors.Is(err, stores.ErrRejected):
		return "rejected"
	}
	return "store"
}

func waitingFor(err error) string {
	switch failureKind(err) {
	case "transient":
		return "the store to become reachable"
	case "panic":
		return "a fix for the panicking handler"
	}
	return "the store to accept the batch"
}
