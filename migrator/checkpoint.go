package migrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// chunkStats is what copying one chunk did.
type chunkStats struct {
	Scanned, Inserted, Skipped, Tombstones, Rejected int64
	LastKey                                          string
}

// startEntity makes the entity's checkpoint belong to run, resetting a
// checkpoint left by an older run. It returns the checkpoint.
func (s *State) startEntity(ctx context.Context, run BackfillRun, entity string) (EntityProgress, error) {
	return s.updateEntity(ctx, entity, func(p *EntityProgress, found bool) error {
		if found && p.RunID == run.ID {
			return errNoChange
		}
		now := s.now()
		*p = EntityProgress{Entity: entity, RunID: run.ID, StartedAt: now, UpdatedAt: now}
		return nil
	})
}

// errPlanRace says another planner recorded the chunk first.
var errPlanRace = fmt.Errorf("chunk planned elsewhere: %w", errNoChange)

// recordChunk records chunk as planned, with estimate live rows, if it is
// the next chunk of the entity; last marks the final, unbounded chunk. It
// reports false when another planner recorded that index first (the caller
// then continues from the new checkpoint).
func (s *State) recordChunk(ctx context.Context, runID, entity string, chunk ChunkRange, estimate int64, last bool) (bool, error) {
	recorded := false
	_, err := s.updateEntity(ctx, entity, func(p *EntityProgress, found bool) error {
		recorded = false
		if !found || p.RunID != runID {
			return fmt.Errorf("checkpoint of %s belongs to another backfill run: %w", entity, ErrRunMismatch)
		}
		if p.PlanDone || p.Planned != chunk.Index {
			return errPlanRace
		}
		p.Planned++
		p.LastChunk = chunk
		p.Estimate += estimate
		p.PlanDone = last
		p.UpdatedAt = s.now()
		recorded = true
		return nil
	})
	return recorded, err
}

// finishChunk marks a chunk finished and adds its counts, once: a chunk
// finished again (redelivered after its copier died before acknowledging
// it) changes nothing. The copier that finishes the last chunk marks the
// entity done. It returns the checkpoint after the update.
func (s *State) finishChunk(ctx context.Context, runID, entity string, index int, st chunkStats) (EntityProgress, error) {
	return s.updateEntity(ctx, entity, func(p *EntityProgress, found bool) error {
		if !found || p.RunID != runID {
			return fmt.Errorf("checkpoint of %s belongs to another backfill run: %w", entity, ErrRunMismatch)
		}
		if p.chunkDone(index) {
			return errNoChange
		}
		p.markChunk(index)
		p.ChunksDone++
		p.Scanned += st.Scanned
		p.Inserted += st.Inserted
		p.Skipped += st.Skipped
		p.Tombstones += st.Tombstones
		p.Rejected += st.Rejected
		if st.LastKey > p.LastKey {
			p.LastKey = st.LastKey
		}
		now := s.now()
		p.UpdatedAt = now
		if p.complete() && !p.Done {
			p.Done, p.FinishedAt = true, &now
		}
		return nil
	})
}

// chunkFinished reports whether a chunk of the run was already finished.
func (s *State) chunkFinished(ctx context.Context, runID, entity string, index int) (bool, error) {
	p, found, err := s.EntityProgress(ctx, entity)
	if err != nil {
		return false, err
	}
	return found && p.RunID == runID && p.chunkDone(index), nil
}

// BackfillRun describes the backfill in progress or last finished. It is
// written once, before the copy starts, with the watermark it relies on.
type BackfillRun struct {
	// ID names the run; chunk descriptors of another run are discarded.
	ID       string   `json:"id"`
	Entities []string `json:"entities"`
	// Source and Target are the stores' DSNs with passwords redacted.
	Source string `json:"source"`
	Target string `json:"target"`
	// Stream, TargetConsumer and LegacyConsumer name the subscriptions.
	Stream         string `json:"stream"`
	TargetConsumer string `json:"target_consumer"`
	LegacyConsumer string `json:"legacy_consumer,omitempty"`
	// Watermark is the target subscription's start sequence: every event
	// below it was processed by the legacy subscription before the copy
	// started (unless WatermarkSkipped).
	Watermark uint64 `json:"watermark"`
	// WatermarkSkipped records that the copy started without waiting.
	WatermarkSkipped bool `json:"watermark_skipped,omitempty"`
	// Chunk is the number of live rows per chunk.
	Chunk      int        `json:"chunk"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// ChunkRange is one key range of a backfill: (After, Through], Through ""
// meaning no upper bound.
type ChunkRange struct {
	Index   int    `json:"index"`
	After   string `json:"after"`
	Through string `json:"through"`
}

// EntityProgress is the checkpoint of one entity's backfill.
type EntityProgress struct {
	Entity string `json:"entity"`
	RunID  string `json:"run_id"`
	// Planned counts the chunks handed out so far; LastChunk is the last one.
	Planned   int        `json:"planned"`
	LastChunk ChunkRange `json:"last_chunk"`
	// PlanDone is set once the last (unbounded) chunk was handed out.
	PlanDone bool `json:"plan_done"`
	// Estimate is the number of source rows (tombstones included) in the
	// planned chunks when they were planned.
	Estimate int64 `json:"estimate"`
	// ChunksDone counts finished chunks; DoneBits marks them, so a chunk
	// finished twice (redelivered after its copier died before the ack)
	// counts once.
	ChunksDone int    `json:"chunks_done"`
	DoneBits   []byte `json:"done_bits,omitempty"`
	// LastKey is the highest key of any finished chunk.
	LastKey string `json:"last_key,omitempty"`
	// Scanned counts source rows read, tombstones included; Inserted the
	// rows written; Skipped the rows the target already had (or a tombstone
	// of); Tombstones the source tombstones copied or skipped.
	Scanned    int64 `json:"scanned"`
	Inserted   int64 `json:"inserted"`
	Skipped    int64 `json:"skipped"`
	Tombstones int64 `json:"tombstones"`
	// Rejected counts source rows the target store can never hold (see the
	// copier's log for their keys); they are left out, not retried.
	Rejected int64 `json:"rejected,omitempty"`
	// Done is set by the copier that finishes the last chunk.
	Done       bool       `json:"done"`
	StartedAt  time.Time  `json:"started_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

func (p *EntityProgress) chunkDone(i int) bool {
	return i/8 < len(p.DoneBits) && p.DoneBits[i/8]&(1<<(i%8)) != 0
}

func (p *EntityProgress) markChunk(i int) {
	for len(p.DoneBits) <= i/8 {
		p.DoneBits = append(p.DoneBits, 0)
	}
	p.DoneBits[i/8] |= 1 << (i % 8)
}

// complete reports whether every planned chunk is finished.
func (p *EntityProgress) complete() bool { return p.PlanDone && p.ChunksDone >= p.Planned }

// Fraction is the share of the estimate copied, between 0 and 1.
func (p EntityProgress) Fraction() float64 {
	switch {
	case p.Done:
		return 1
	case p.Estimate <= 0:
		return 0
	}
	return min(1, float64(p.Scanned)/float64(p.Estimate))
}

// BackfillRun returns the current run; found is false when no backfill
// was started.
func (s *State) BackfillRun(ctx context.Context) (run BackfillRun, found bool, err error) {
	run, _, found, err = getJSON[BackfillRun](ctx, s.kv, keyBackfillRun)
	return run, found, err
}

// EntityProgress returns the checkpoint of one entity.
func (s *State) EntityProgress(ctx context.Context, entity string) (EntityProgress, bool, error) {
	p, _, found, err := getJSON[EntityProgress](ctx, s.kv, prefixEntity+entity)
	return p, found, err
}

// BackfillProgress returns the checkpoints of the current run's entities,
// in the run's order (an entity not started yet has a zero checkpoint with
// only its name set).
func (s *State) BackfillProgress(ctx context.Context) (BackfillRun, []EntityProgress, bool, error) {
	run, found, err := s.BackfillRun(ctx)
	if err != nil || !found {
		return run, nil, found, err
	}
	out := make([]EntityProgress, 0, len(run.Entities))
	for _, e := range run.Entities {
		p, ok, err := s.EntityProgress(ctx, e)
		if err != nil {
			return run, nil, true, err
		}
		if !ok || p.RunID != run.ID {
			p = EntityProgress{Entity: e, RunID: run.ID}
		}
		out = append(out, p)
	}
	return run, out, true, nil
}

// updateEntity is a compare-and-set update of one entity's checkpoint.
func (s *State) updateEntity(ctx context.Context, entity string, fn func(p *EntityProgress, found bool) error) (EntityProgress, error) {
	return updateJSON(ctx, s.kv, prefixEntity+entity, fn)
}

// BackfillComplete reports whether a backfill ran to the end for every
// entity of its run, with a one-line reason either way (what is missing,
// or what completed when). It is the first promotion and cleanup gate.
func (s *State) BackfillComplete(ctx context.Context) (bool, string, error) {
	run, progress, found, err := s.BackfillProgress(ctx)
	if err != nil {
		return false, "", err
	}
	if !found {
		return false, "no backfill has been started", nil
	}
	var pending []string
	for _, p := range progress {
		if !p.Done {
			pending = append(pending, fmt.Sprintf("%s (%d of %d chunks, %d rows)", p.Entity, p.ChunksDone, p.Planned, p.Scanned))
		}
	}
	if len(pending) > 0 {
		return false, "backfill " + run.ID + " still copying: " + strings.Join(pending, ", "), nil
	}
	if run.WatermarkSkipped {
		return true, fmt.Sprintf("backfill %s complete for %s (started without waiting for the watermark)", run.ID, strings.Join(run.Entities, ", ")), nil
	}
	return true, fmt.Sprintf("backfill %s complete for %s", run.ID, strings.Join(run.Entities, ", ")), nil
}

// BackfillControl steers running copiers. Copiers watch it, so a change
// applies within a second, without a restart.
type BackfillControl struct {
	// Paused stops every copier after its current batch.
	Paused bool `json:"paused"`
	// MaxRate caps the rows per second each copier process writes; 0 means
	// no cap.
	MaxRate   int       `json:"max_rate"`
	Reason    string    `json:"reason,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// BackfillControl returns the current control (the zero value, running
// without a cap, when none was set).
func (s *State) BackfillControl(ctx context.Context) (BackfillControl, error) {
	c, _, _, err := getJSON[BackfillControl](ctx, s.kv, keyBackfillControl)
	return c, err
}

// UpdateBackfillControl changes the control with fn, atomically.
func (s *State) UpdateBackfillControl(ctx context.Context, fn func(*BackfillControl)) (BackfillControl, error) {
	return updateJSON(ctx, s.kv, keyBackfillControl, func(c *BackfillControl, _ bool) error {
		fn(c)
		if c.MaxRate < 0 {
			return fmt.Errorf("max rate %d: must not be negative", c.MaxRate)
		}
		c.UpdatedAt = s.now()
		return nil
	})
}

// WatchBackfillControl sends the current control and every change until ctx
// ends; the channel is closed then.
func (s *State) WatchBackfillControl(ctx context.Context) (<-chan BackfillControl, error) {
	w, err := s.kv.Watch(ctx, keyBackfillControl)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", keyBackfillControl, err)
	}
	out := make(chan BackfillControl, 1)
	go func() {
		defer close(out)
		defer func() { _ = w.Stop() }()
		sent := false
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				var c BackfillControl
				if e == nil { // initial values delivered
					if sent {
						continue
					}
				} else if e.Operation() == jetstream.KeyValuePut {
					if json.Unmarshal(e.Value(), &c) != nil {
						continue
					}
				}
				sent = true
				select {
				case out <- c:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

// resetBackfill forgets the run and every entity checkpoint.
func (s *State) resetBackfill(ctx context.Context, entities []string) error {
	keys := append([]string{keyBackfillRun}, func() []string {
		out := make([]string, len(entities))
		for i, e := range entities {
			out[i] = prefixEntity + e
		}
		return out
	}()...)
	for _, k := range keys {
		if err := s.kv.Purge(ctx, k); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			return fmt.Errorf("reset %s: %w", k, err)
		}
	}
	return nil
}
