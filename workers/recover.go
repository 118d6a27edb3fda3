package workers

import (
	"context"
	"log/slog"
	"runtime/debug"
)

// Recover turns a panic in the wrapped handler into a *PanicError (matching
// ErrPanic), so the batch is negatively acknowledged and the process keeps
// running. The stack is logged once, at error level.
func Recover(log *slog.Logger) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, b *Batch) (err error) {
			defer func() {
				if v := recover(); v != nil {
					pe := &PanicError{Value: v, Stack: debug.Stack()}
					log.Error("handler panicked; the batch will be redelivered",
						"panic", v, "messages", len(b.Messages), "event_ids", b.eventIDs(10), "stack", string(pe.Stack))
					err = pe
				}
			}()
			return next(ctx, b)
		}
	}
}
