package migrator

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/switchyard/switchyard/stores"
)

// planner splits an entity's source keys into chunks of chunkRows rows
// (tombstones included) and hands them to the work queue. Every backfill process runs a
// planner per entity; they coordinate through compare-and-set on the
// entity checkpoint, so each chunk index is recorded, with its bounds,
// exactly once, before it is published. Walking the keys costs one keyset
// page per chunk.
type planner struct {
	source    stores.Reader
	state     *State
	queue     *workQueue
	run       BackfillRun
	chunkRows int
	// cache, when set, keeps the rows read to bound each chunk for a local
	// copier (see pageCache).
	cache *pageCache
	log   *slog.Logger
}

// plan plans the entity to its end. It first republishes the last chunk
// recorded (a planner may have died between recording and publishing it;
// the stream drops the duplicate otherwise).
func (pl *planner) plan(ctx context.Context, entity string) error {
	p, err := pl.state.startEntity(ctx, pl.run, entity)
	if err != nil {
		return err
	}
	if p.Planned > 0 {
		if err := pl.publish(ctx, chunkTask{Run: pl.run.ID, Entity: entity, Chunk: p.LastChunk}); err != nil {
			return err
		}
	}
	for !p.PlanDone {
		after := ""
		if p.Planned > 0 {
			after = p.LastChunk.Through
		}
		// One keyset page of the source, tombstones included, bounds the
		// chunk: its last key is the chunk's upper bound. Only the keys are
		// used; reading them is cheaper than summing a checksum.
		page, err := retryTransient(ctx, pl.log, "plan "+entity, func() ([]stores.Record, error) {
			return pl.source.Scan(ctx, entity, stores.Range{After: after, Limit: pl.chunkRows})
		})
		if err != nil {
			return fmt.Errorf("plan %s after %q: %w", entity, after, err)
		}
		last := len(page) < pl.chunkRows
		chunk := ChunkRange{Index: p.Planned, After: after}
		if last {
			// The final chunk has no upper bound: rows inserted into the
			// source after planning are copied too.
			chunk.Through = ""
		} else {
			chunk.Through = page[len(page)-1].Key
		}
		estimate := int64(len(page))
		recorded, err := retryAlways(ctx, pl.log, "record chunk of "+entity, func() (bool, error) {
			return pl.state.recordChunk(ctx, pl.run.ID, entity, chunk, estimate, last)
		})
		if err != nil {
			return err
		}
		if recorded {
			// The final chunk is unbounded and is always scanned by its
			// copier; a bounded chunk's rows are exactly the page.
			if pl.cache != nil && !last {
				id := chunkID{run: pl.run.ID, entity: entity, index: chunk.Index}
				if err := pl.cache.put(ctx, id, page, pl.finishedElsewhere); err != nil {
					return err
				}
			}
			if err := pl.publish(ctx, chunkTask{Run: pl.run.ID, Entity: entity, Chunk: chunk}); err != nil {
				return err
			}
		}
		if p, err = pl.progress(ctx, entity); err != nil {
			return err
		}
	}
	return nil
}

func (pl *planner) publish(ctx context.Context, t chunkTask) error {
	_, err := retryAlways(ctx, pl.log, "enqueue chunk", func() (struct{}, error) {
		return struct{}{}, pl.queue.publish(ctx, t)
	})
	return err
}

func (pl *planner) progress(ctx context.Context, entity string) (EntityProgress, error) {
	return retryAlways(ctx, pl.log, "read checkpoint of "+entity, func() (EntityProgress, error) {
		p, _, err := pl.state.EntityProgress(ctx, entity)
		return p, err
	})
}

// finishedElsewhere returns the cached chunks another process finished.
func (pl *planner) finishedElsewhere(ctx context.Context, ids []chunkID) []chunkID {
	var done []chunkID
	progress := map[string]EntityProgress{}
	for _, id := range ids {
		p, ok := progress[id.entity]
		if !ok {
			cur, found, err := pl.state.EntityProgress(ctx, id.entity)
			if err != nil || !found {
				continue
			}
			p, progress[id.entity] = cur, cur
		}
		if p.RunID == id.run && p.chunkDone(id.index) {
			done = append(done, id)
		}
	}
	return done
}
