package workers_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/workers"
)

func TestChainOrderFirstIsOutermost(t *testing.T) {
	var trace []string
	mw := func(name string) workers.Middleware {
		return func(next workers.Handler) workers.Handler {
			return func(ctx context.Context, b *workers.Batch) error {
				trace = append(trace, name+">")
				err := next(ctx, b)
				trace = append(trace, "<"+name)
				return err
			}
		}
	}
	h := workers.Chain(func(context.Context, *workers.Batch) error { trace = append(trace, "core"); return nil }, mw("a"), mw("b"))
	if err := h(context.Background(), &workers.Batch{}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(trace, " "); got != "a> b> core <b <a" {
		t.Fatalf("order %q", got)
	}
}

func TestRecoverAndRetryTurnAPanicIntoADelayedRetry(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	h := workers.Chain(func(context.Context, *workers.Batch) error { panic("boom") },
		workers.Retry(workers.Backoff{Min: 5 * time.Millisecond, Max: 10 * time.Millisecond, Jitter: -1}, log), workers.Recover(log))
	err := h(context.Background(), &workers.Batch{})
	var re *workers.RetryError
	if !errors.As(err, &re) || !errors.Is(err, workers.ErrPanic) || re.Delay != 5*time.Millisecond {
		t.Fatalf("err = %v; want a RetryError with delay 5ms wrapping ErrPanic", err)
	}
}

// rejectOutOfRange is a store that rejects with an index that names no
// write: the worker must not loop or drop anything.
type rejectOutOfRange struct{}

func (rejectOutOfRange) Apply(context.Context, []stores.Write) (stores.ApplyResult, error) {
	return stores.ApplyResult{}, &stores.RejectError{Index: 99, Reason: "bogus"}
}

func TestApplyHandlerRejectOutsideTheBatchIsAFailure(t *testing.T) {
	b := &workers.Batch{Messages: []workers.Message{{Write: stores.Write{Entity: "tasks", Key: "k", Version: 1, Data: []byte(`{}`)}}}}
	err := workers.ApplyHandler(rejectOutOfRange{})(context.Background(), b)
	if err == nil || errors.Is(err, stores.ErrRejected) {
		t.Fatalf("err = %v; want a store failure that is not a reject", err)
	}
	if b.Messages[0].Poison != nil {
		t.Fatal("a message was marked poison by a reject that did not name it")
	}
}
