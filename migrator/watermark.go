package migrator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/internal/lifecycle"
	"github.com/switchyard/switchyard/subscriptions"
)

// Watermark is the position a backfill relies on: the target subscription
// delivers every event from StartSeq on, so the legacy store must hold the
// effect of every event below it before the copy reads it.
type Watermark struct {
	Stream         string
	TargetConsumer string
	LegacyConsumer string
	// StartSeq is the target subscription's recorded start sequence.
	StartSeq uint64
}

// TargetWatermark reads the target subscription's start sequence. It fails
// with ErrNoTargetSubscription when the consumer (or the stream) does not
// exist, and with ErrNoStartSeq when the consumer did not record one (it
// was not created by Switchyard).
func TargetWatermark(ctx context.Context, js jetstream.JetStream, stream, targetConsumer string) (Watermark, error) {
	st, err := subscriptions.Inspect(ctx, js, stream, targetConsumer)
	if errors.Is(err, subscriptions.ErrNotFound) {
		return Watermark{}, fmt.Errorf("consumer %s on stream %s: %w; create it first (switchyard subscribe or the worker) so the live stream covers what the backfill cannot", targetConsumer, stream, ErrNoTargetSubscription)
	}
	if err != nil {
		return Watermark{}, err
	}
	if st.StartSeq == 0 {
		return Watermark{}, fmt.Errorf("consumer %s on stream %s: %w (metadata %s)", targetConsumer, stream, ErrNoStartSeq, subscriptions.MetaStartSeq)
	}
	return Watermark{Stream: stream, TargetConsumer: targetConsumer, StartSeq: st.StartSeq}, nil
}

// WaitForLegacy blocks until the legacy subscription has acknowledged every
// event below w.StartSeq (subscriptions.Status.Processed), checking every
// poll (zero means one second) and logging, at most every 10 seconds, what
// it waits for with the numbers. It returns ctx's error when ctx ends first
// and an error matching subscriptions.ErrNotFound when the legacy consumer
// does not exist.
func WaitForLegacy(ctx context.Context, js jetstream.JetStream, w Watermark, poll time.Duration, log *slog.Logger) error {
	if poll <= 0 {
		poll = time.Second
	}
	var lastLog time.Time
	for {
		st, err := subscriptions.Inspect(ctx, js, w.Stream, w.LegacyConsumer)
		if err != nil {
			return fmt.Errorf("legacy subscription: %w", err)
		}
		if st.Processed(w.StartSeq) {
			log.Info("watermark reached: the legacy subscription processed every event before the target subscription started",
				"legacy_consumer", w.LegacyConsumer, "ack_floor", st.AckFloor, "watermark", w.StartSeq)
			return nil
		}
		if time.Since(lastLog) >= 10*time.Second {
			lastLog = time.Now()
			behind := uint64(0)
			if w.StartSeq > st.AckFloor+1 {
				behind = w.StartSeq - 1 - st.AckFloor
			}
			log.Info("waiting for the legacy subscription to reach the watermark before copying",
				"legacy_consumer", w.LegacyConsumer, "ack_floor", st.AckFloor, "watermark", w.StartSeq,
				"events_behind", behind, "ack_pending", st.AckPending, "pending", st.Pending)
		}
		if err := lifecycle.Sleep(ctx, poll); err != nil {
			return fmt.Errorf("waiting for legacy subscription %s to reach sequence %d: %w", w.LegacyConsumer, w.StartSeq, err)
		}
	}
}
