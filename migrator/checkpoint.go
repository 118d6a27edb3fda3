package migrator

import (
	"context"
	"fmt"
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
