package quickstart

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/controlplane"
	"github.com/switchyard/switchyard/internal/lifecycle"
	"github.com/switchyard/switchyard/migrator"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/subscriptions"
	"github.com/switchyard/switchyard/workers"
)

// migrate walks the migration: it adds the target subscription (on the
// first run, TargetDelay after the start, so there is a gap to fill), runs
// its workers, backfills and verifies. A later run finds the subscription
// and the finished backfill in the broker and goes straight to verify.
func migrate(ctx context.Context, js jetstream.JetStream, cp *controlplane.ControlPlane, legacy, target stores.Store,
	legacyDSN, targetDSN string, metrics *workers.Metrics, cfg Config, d *display, spawn func(string, func(context.Context) error)) error {
	if _, err := js.Consumer(ctx, Stream, TargetConsumer); errors.Is(err, jetstream.ErrConsumerNotFound) {
		d.setPhase(fmt.Sprintf("only the legacy subscription runs; the target subscription is added %v after the start", cfg.TargetDelay))
		if lifecycle.Sleep(ctx, cfg.TargetDelay) != nil {
			return nil
		}
		if _, err := subscriptions.EnsureConsumer(ctx, js, subscriptions.ConsumerSpec{
			Stream: Stream, Name: TargetConsumer, Role: "target",
			Start: subscriptions.StartPosition{Kind: subscriptions.StartNew}, VersionSource: string(events.VersionFromStream),
		}); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	w, err := newWorker(js, target, TargetConsumer, metrics, cfg)
	if err != nil {
		return err
	}
	d.target.Store(w)
	spawn("target worker", w.Run)

	entities := []string{TaskEntity}
	done, _, err := cp.State.BackfillComplete(ctx)
	if err != nil {
		return err
	}
	if !done {
		d.setPhase("backfilling: waiting for the legacy subscription to pass the target's start, then copying")
		if _, err := migrator.Backfill(ctx, migrator.BackfillConfig{
			Source: legacy, Target: target, SourceName: legacyDSN, TargetName: targetDSN,
			Entities: entities, JS: js, State: cp.State,
			Stream: Stream, TargetConsumer: TargetConsumer, LegacyConsumer: LegacyConsumer,
			ChunkRows: 200, Log: cfg.Log.With("component", "backfill"),
		}); err != nil {
			return ignoreStop(ctx, err)
		}
	}
	d.setPhase("verifying legacy.db against target.db")
	res, err := migrator.Verify(ctx, migrator.VerifyConfig{
		Source: legacy, Target: target, SourceName: legacyDSN, TargetName: targetDSN,
		Entities: entities, State: cp.State, Restart: true,
		JS: js, Stream: Stream, TargetConsumer: TargetConsumer, LegacyConsumer: LegacyConsumer,
		Log: cfg.Log.With("component", "verify"),
	})
	if err != nil {
		return ignoreStop(ctx, err)
	}
	d.verify.Store(&res)
	d.setPhase("switching: move clients' reads in the console and watch the reads line")
	return nil
}

// ignoreStop hides the error of a phase cut short by Ctrl-C: its checkpoint
// is kept and the next run resumes it.
func ignoreStop(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}
