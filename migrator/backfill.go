package migrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"golang.org/x/sync/errgroup"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/lifecycle"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/subscriptions"
)

// BackfillConfig configures a backfill. Zero values take the defaults named
// on each field.
type BackfillConfig struct {
	// Source is the legacy store read in key order; Target the store written.
	Source stores.Reader
	Target Target
	// SourceName and TargetName are the stores' DSNs; they are recorded
	// with passwords redacted.
	SourceName, TargetName string
	// Entities to copy, at least one.
	Entities []string

	JS    jetstream.JetStream
	State *State
	// Stream carries the events; TargetConsumer is the new subscription,
	// which must exist; LegacyConsumer is the subscription feeding the
	// source store, required unless SkipWatermarkWait.
	Stream, TargetConsumer, LegacyConsumer string
	// SkipWatermarkWait starts copying without waiting for the legacy
	// subscription; only correct when the source is not fed by it.
	SkipWatermarkWait bool
	// WatermarkPoll is how often the wait checks (default 1 s).
	WatermarkPoll time.Duration

	// ChunkRows is the number of source rows per work-queue chunk (default
	// 10000); BatchRows the rows per Apply (default 1000, at most ChunkRows).
	ChunkRows, BatchRows int
	// Copiers is the number of copier goroutines of this process (default 2).
	Copiers int
	// Restart forgets the checkpoints and queued chunks and starts over.
	Restart bool
	// WorkStream is the work-queue stream (default DefaultWorkStream).
	WorkStream string
	// WorkStreamReplicas are the work-queue stream's replicas when the
	// backfill creates it; zero means 1. An existing one is left as it is.
	WorkStreamReplicas int
	// AckWait is how long a chunk may go without a heartbeat before it is
	// handed to another copier (default 30 s).
	AckWait time.Duration

	// MaxRate caps rows per second per process (0: none); it is stored in
	// the backfill control, where `backfill rate` changes it while running.
	MaxRate int
	// MaxLag and MaxLatency back the copy off while the target subscription's
	// lag or the target's batch write time exceeds them (0: off).
	MaxLag     uint64
	MaxLatency time.Duration

	// DrainTimeout bounds how long, after ctx ends, in-flight writes may
	// take to commit before they are cancelled (default 10 s).
	DrainTimeout time.Duration
	// Log receives what the backfill does (nil: discarded); Progress, when
	// set, shows progress every ProgressEvery (default 1 s).
	Log           *slog.Logger
	Progress      *Progress
	ProgressEvery time.Duration
}

func (c *BackfillConfig) defaults() error {
	var problems []string
	if c.Source == nil || c.Target == nil {
		problems = append(problems, "a source and a target store are required")
	}
	if c.JS == nil {
		problems = append(problems, "a JetStream connection is required")
	}
	if len(c.Entities) == 0 {
		problems = append(problems, "at least one entity is required")
	}
	for _, e := range c.Entities {
		if !events.ValidEntity(e) {
			problems = append(problems, fmt.Sprintf("entity %q does not match ^[a-z][a-z0-9_]{0,62}$", e))
		}
	}
	if c.Stream == "" || c.TargetConsumer == "" {
		problems = append(problems, "the stream and the target consumer are required")
	}
	if c.LegacyConsumer == "" && !c.SkipWatermarkWait {
		problems = append(problems, "the legacy consumer is required to wait for the watermark (or skip the wait explicitly)")
	}
	if c.ChunkRows < 0 || c.BatchRows < 0 || c.Copiers < 0 || c.MaxRate < 0 {
		problems = append(problems, "chunk, batch, copiers and max rate must not be negative")
	}
	if len(problems) > 0 {
		return fmt.Errorf("backfill: %s", strings.Join(problems, "; "))
	}
	if c.ChunkRows == 0 {
		c.ChunkRows = DefaultChunkRows
	}
	if c.BatchRows == 0 {
		c.BatchRows = DefaultBatchRows
	}
	c.BatchRows = min(c.BatchRows, c.ChunkRows)
	if c.Copiers == 0 {
		c.Copiers = DefaultCopiers
	}
	if c.WorkStream == "" {
		c.WorkStream = DefaultWorkStream
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = 10 * time.Second
	}
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = time.Second
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	c.Entities = slices.Compact(slices.Sorted(slices.Values(c.Entities)))
	return nil
}

// BackfillReport is the outcome of one Backfill call.
type BackfillReport struct {
	Run BackfillRun `json:"run"`
	// Joined is true when this process joined a run started elsewhere (or
	// found it already complete).
	Joined bool `json:"joined"`
	// Complete is true when every entity is done.
	Complete bool             `json:"complete"`
	Entities []EntityProgress `json:"entities"`
	// RowsThisProcess counts the rows this process copied or skipped.
	RowsThisProcess int64 `json:"rows_this_process"`
	// Elapsed is encoded as elapsed_seconds.
	Elapsed time.Duration `json:"-"`
}

// MarshalJSON encodes the report with its duration in seconds
// (elapsed_seconds), as every JSON output of Switchyard does.
func (r BackfillReport) MarshalJSON() ([]byte, error) {
	type fields BackfillReport
	return json.Marshal(struct {
		fields
		ElapsedSeconds float64 `json:"elapsed_seconds"`
	}{fields(r), r.Elapsed.Seconds()})
}

// Backfill copies every record of the configured entities from the source
// to the target, in explicit phases:
//
//  0. the stores pass their cheap checks, the source as a reader and the
//     target as a writer (stores.RequireRole; a failure matches
//     stores.ErrInspectFailed and names each reason);
//  1. the target subscription must exist (ErrNoTargetSubscription);
//  2. a run is started, or an unfinished one with the same entities and
//     subscriptions is joined (a different one fails with ErrRunMismatch
//     unless Restart);
//  3. for a new run, the legacy subscription must reach the watermark
//     (WaitForLegacy) and the run, with the watermark, is recorded before
//     any row is read;
//  4. planners split each entity into chunks on the work queue while the
//     copiers copy them with IfAbsent writes at the source versions,
//     recording each finished chunk in the entity checkpoint.
//
// It returns when every entity is done, with the report. When ctx ends it
// stops taking chunks, lets in-flight writes commit (DrainTimeout), hands
// unfinished chunks back and returns ctx's error: the next call resumes.
func Backfill(ctx context.Context, cfg BackfillConfig) (BackfillReport, error) {
	if err := cfg.defaults(); err != nil {
		return BackfillReport{}, err
	}
	if cfg.State == nil {
		return BackfillReport{}, errors.New("backfill: a state bucket is required")
	}
	if err := requireStores(ctx, cfg, stores.RoleTarget); err != nil {
		return BackfillReport{}, err
	}
	started := time.Now()
	log := cfg.Log

	// Phase 1: the target subscription exists and has a start position.
	wm, err := TargetWatermark(ctx, cfg.JS, cfg.Stream, cfg.TargetConsumer)
	if err != nil {
		return BackfillReport{}, err
	}
	wm.LegacyConsumer = cfg.LegacyConsumer
	queue, err := openWorkQueue(ctx, cfg.JS, cfg.WorkStream, cfg.AckWait, cfg.WorkStreamReplicas)
	if err != nil {
		return BackfillReport{}, err
	}

	// Phases 2 and 3: the run, with its watermark.
	run, joined, err := establishRun(ctx, cfg, wm, queue)
	if err != nil {
		return BackfillReport{}, err
	}
	report := BackfillReport{Run: run, Joined: joined}
	if run.FinishedAt != nil {
		_, report.Entities, _, err = cfg.State.BackfillProgress(ctx)
		report.Complete = err == nil
		log.Info("backfill already complete; nothing to do (use --restart to copy again)", "run", run.ID, "finished_at", run.FinishedAt)
		return report, err
	}
	if err := cfg.State.Advance(ctx, PhaseBackfilling); err != nil && !errors.Is(err, ErrPhaseBackward) {
		return report, err
	}

	// Phase 4: plan and copy.
	copied := new(atomic.Int64)
	report.Entities, err = runCopy(ctx, cfg, run, queue, copied)
	report.RowsThisProcess = copied.Load()
	report.Elapsed = time.Since(started)
	if err != nil {
		return report, err
	}
	report.Complete = true
	if run, err = finishRun(ctx, cfg.State, run); err != nil {
		return report, err
	}
	report.Run = run
	return report, nil
}

// establishRun joins the current run or starts a new one (after the
// watermark wait), and reports whether it joined.
func establishRun(ctx context.Context, cfg BackfillConfig, wm Watermark, queue *workQueue) (BackfillRun, bool, error) {
	log := cfg.Log
	for range casAttempts {
		existing, rev, found, err := getJSON[BackfillRun](ctx, cfg.State.kv, keyBackfillRun)
		if err != nil {
			return BackfillRun{}, false, err
		}
		if found && cfg.Restart {
			log.Warn("restarting the backfill: forgetting checkpoints and queued chunks", "old_run", existing.ID)
			if err := queue.purge(ctx); err != nil {
				return BackfillRun{}, false, err
			}
			if err := cfg.State.resetBackfill(ctx, append(slices.Clone(existing.Entities), cfg.Entities...)); err != nil {
				return BackfillRun{}, false, err
			}
			cfg.Restart = false // only once, even if another process races us
			continue
		}
		if found {
			same := sameRun(existing, cfg)
			switch {
			case same && existing.Watermark != wm.StartSeq:
				return BackfillRun{}, false, fmt.Errorf("run %s relied on the target subscription starting at %d, but %s now starts at %d (recreated?); start over with --restart: %w",
					existing.ID, existing.Watermark, cfg.TargetConsumer, wm.StartSeq, ErrRunMismatch)
			case same:
				if existing.FinishedAt == nil {
					log.Info("joining the backfill in progress", "run", existing.ID, "entities", existing.Entities, "watermark", existing.Watermark)
				}
				return existing, true, nil
			case existing.FinishedAt == nil:
				return BackfillRun{}, false, fmt.Errorf("run %s (entities %s, target consumer %s) is unfinished; finish it, or start over with --restart: %w",
					existing.ID, strings.Join(existing.Entities, ","), existing.TargetConsumer, ErrRunMismatch)
			}
			log.Info("the previous backfill finished with other entities; starting a new run", "previous_run", existing.ID)
		}
		if err := waitWatermark(ctx, cfg, wm); err != nil {
			return BackfillRun{}, false, err
		}
		run := BackfillRun{
			ID: nuid.Next(), Entities: cfg.Entities,
			Source: stores.Redact(cfg.SourceName), Target: stores.Redact(cfg.TargetName),
			Stream: cfg.Stream, TargetConsumer: cfg.TargetConsumer, LegacyConsumer: cfg.LegacyConsumer,
			Watermark: wm.StartSeq, WatermarkSkipped: cfg.SkipWatermarkWait,
			Chunk: cfg.ChunkRows, StartedAt: time.Now().UTC(),
		}
		b, err := jsonBytes(run)
		if err != nil {
			return BackfillRun{}, false, err
		}
		if found {
			_, err = cfg.State.kv.Update(ctx, keyBackfillRun, b, rev)
		} else {
			_, err = cfg.State.kv.Create(ctx, keyBackfillRun, b)
		}
		if err == nil {
			log.Info("backfill run recorded", "run", run.ID, "entities", run.Entities, "watermark", run.Watermark, "watermark_skipped", run.WatermarkSkipped)
			return run, false, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !isWrongSequence(err) {
			return BackfillRun{}, false, fmt.Errorf("record backfill run: %w", err)
		}
		// Another process recorded a run at the same moment: look again.
	}
	return BackfillRun{}, false, fmt.Errorf("record backfill run: %w", ErrConflict)
}

func sameRun(r BackfillRun, cfg BackfillConfig) bool {
	return slices.Equal(r.Entities, cfg.Entities) && r.Stream == cfg.Stream && r.TargetConsumer == cfg.TargetConsumer
}

// waitWatermark waits for the legacy subscription, or says loudly what
// skipping the wait risks.
func waitWatermark(ctx context.Context, cfg BackfillConfig, wm Watermark) error {
	if cfg.SkipWatermarkWait {
		cfg.Log.Warn("NOT WAITING FOR THE WATERMARK: copying without checking that the legacy subscription processed every event published before the target subscription started (sequence " +
			fmt.Sprint(wm.StartSeq) + "). If the legacy store is fed by a subscription that is behind, an update it has not applied yet is copied in its old state and the target never receives the newer one: a lost update. Use this only when the source store is not fed by a subscription.")
		return nil
	}
	return WaitForLegacy(ctx, cfg.JS, wm, cfg.WatermarkPoll, cfg.Log)
}

// runCopy runs the planners, the copiers and the progress display until
// every entity is done, ctx ends, or something fails.
func runCopy(ctx context.Context, cfg BackfillConfig, run BackfillRun, queue *workQueue, copied *atomic.Int64) ([]EntityProgress, error) {
	control, err := cfg.State.BackfillControl(ctx)
	if err != nil {
		return nil, err
	}
	if cfg.MaxRate > 0 && control.MaxRate != cfg.MaxRate {
		if control, err = cfg.State.UpdateBackfillControl(ctx, func(c *BackfillControl) { c.MaxRate = cfg.MaxRate }); err != nil {
			return nil, err
		}
	}
	throttle := NewThrottle(ThrottleConfig{
		MaxLag: cfg.MaxLag, MaxLatency: cfg.MaxLatency, Burst: cfg.BatchRows, Log: cfg.Log,
		Lag: func(ctx context.Context) (uint64, error) {
			st, err := subscriptions.Inspect(ctx, cfg.JS, cfg.Stream, cfg.TargetConsumer)
			return st.Lag, err
		},
	})
	throttle.Apply(control)
	if control.Paused {
		cfg.Log.Warn("the backfill is paused; resume with: switchyard backfill resume")
	}

	// stop ends when ctx ends or the work is done; work (for store writes)
	// outlives it by the drain timeout so in-flight batches commit.
	stop, stopCopy := context.WithCancel(ctx)
	defer stopCopy()
	g, stop := errgroup.WithContext(stop)
	drain := lifecycle.StartDrain(stop, cfg.DrainTimeout)
	defer drain.Finish()
	work := drain.Hard()

	changes, err := cfg.State.WatchBackfillControl(stop)
	if err != nil {
		return nil, err
	}
	g.Go(func() error { throttle.Follow(stop, changes); return nil })

	// Up to two chunks per copier wait in memory for a local copier.
	cache := newPageCache(2 * cfg.Copiers)
	pl := &planner{source: cfg.Source, state: cfg.State, queue: queue, run: run, chunkRows: cfg.ChunkRows, cache: cache, log: cfg.Log}
	g.Go(func() error {
		for _, e := range run.Entities {
			if err := pl.plan(stop, e); err != nil {
				if stop.Err() != nil {
					return nil
				}
				return err
			}
		}
		return nil
	})
	for i := range cfg.Copiers {
		cp := &copier{source: cfg.Source, target: cfg.Target, state: cfg.State, queue: queue, throttle: throttle,
			run: run, batchRows: cfg.BatchRows, cache: cache, log: cfg.Log.With("copier", i), copied: copied}
		g.Go(func() error { return cp.loop(stop, work) })
	}

	var final []EntityProgress
	var finished atomic.Bool
	g.Go(func() error {
		tick := time.NewTicker(cfg.ProgressEvery)
		defer tick.Stop()
		var meter rateMeter
		for {
			select {
			case <-stop.Done():
				return nil
			case now := <-tick.C:
				_, progress, _, err := cfg.State.BackfillProgress(stop)
				if err != nil {
					if stop.Err() != nil {
						return nil
					}
					cfg.Log.Warn("reading backfill progress failed", "err", err)
					continue
				}
				snap, done := summarize(progress)
				snap.Rate = meter.update(now, snap.Done)
				if throttle.Paused() {
					snap.Detail = "paused"
				}
				if cfg.Progress != nil {
					cfg.Progress.Report(snap)
				}
				if done {
					final = progress
					finished.Store(true)
					stopCopy() // every entity is done: stop the copiers
					return nil
				}
			}
		}
	})
	err = g.Wait()
	if cfg.Progress != nil {
		cfg.Progress.Done()
	}
	if err != nil {
		return nil, err
	}
	if !finished.Load() {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("backfill interrupted; run it again to resume from the checkpoints: %w", ctx.Err())
		}
		return nil, errors.New("backfill stopped before completion")
	}
	return final, nil
}

// summarize adds up the entity checkpoints for the progress display.
func summarize(progress []EntityProgress) (ProgressSnapshot, bool) {
	snap := ProgressSnapshot{Task: "backfill"}
	done := len(progress) > 0
	var working []string
	for _, p := range progress {
		snap.Done += p.Scanned
		snap.Total += max(p.Estimate, p.Scanned)
		if !p.Done {
			done = false
			working = append(working, p.Entity)
		}
	}
	snap.Detail = strings.Join(working, ",")
	return snap, done
}

// finishRun records the run's end, once.
func finishRun(ctx context.Context, st *State, run BackfillRun) (BackfillRun, error) {
	return updateJSON(ctx, st.kv, keyBackfillRun, func(r *BackfillRun, found bool) error {
		if !found || r.ID != run.ID {
			return fmt.Errorf("finish run %s: the run was replaced: %w", run.ID, ErrRunMismatch)
		}
		if r.FinishedAt != nil {
			return errNoChange
		}
		now := time.Now().UTC()
		r.FinishedAt = &now
		return nil
	})
}
