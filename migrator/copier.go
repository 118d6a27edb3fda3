package migrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/internal/lifecycle"
	"github.com/switchyard/switchyard/stores"
)

// Target is what the copier and repair need from the target store.
type Target interface {
	stores.Writer
	stores.Reader
}

// copier pulls chunks from the work queue and copies each: a keyset scan
// of the source range in pages of batchRows, each page one IfAbsent Apply
// on the target at the source rows' versions. Any number of copiers, in any
// number of processes, share one queue.
type copier struct {
	source    stores.Reader
	target    stores.Writer
	state     *State
	queue     *workQueue
	throttle  *Throttle
	run       BackfillRun
	batchRows int
	// cache holds rows this process's planner already read (may be nil).
	cache *pageCache
	log   *slog.Logger
	// copied counts rows this process wrote or skipped, for its own rate.
	copied *atomic.Int64
}

// errStopped says the copier stopped between pages because its context
// ended; the chunk is handed back for another copier.
var errStopped = errors.New("copier stopped")

// loop copies chunks until stop ends (then the current chunk is handed back
// at the next page boundary) or a chunk fails with an error that retrying
// cannot fix. Store calls run under work, which outlives stop by the drain
// period so an in-flight Apply can commit.
func (c *copier) loop(stop, work context.Context) error {
	for stop.Err() == nil {
		msg, err := c.queue.next(stop, time.Second)
		if err != nil {
			if stop.Err() != nil {
				return nil
			}
			c.log.Warn("fetching a chunk failed; retrying", "err", err)
			if lifecycle.Sleep(stop, time.Second) != nil {
				return nil
			}
			continue
		}
		if msg == nil {
			continue
		}
		if err := c.handle(stop, work, msg); err != nil {
			return err
		}
	}
	return nil
}

// handle copies one chunk and acknowledges it after its checkpoint is
// recorded. A chunk of another run is discarded; a stopped copy is handed
// back (Nak) for immediate redelivery.
func (c *copier) handle(stop, work context.Context, msg jetstream.Msg) error {
	var task chunkTask
	if err := json.Unmarshal(msg.Data(), &task); err != nil {
		c.log.Error("discarding a malformed chunk descriptor", "err", err)
		_ = msg.Term()
		return nil
	}
	if task.Run != c.run.ID {
		return c.foreignChunk(work, msg, task)
	}
	done, err := c.state.chunkFinished(work, task.Run, task.Entity, task.Chunk.Index)
	if err == nil && done {
		return ackChunk(msg)
	}
	beat := make(chan struct{})
	go c.queue.heartbeat(msg, beat)
	stats, err := c.copyChunk(stop, work, task)
	close(beat)
	if errors.Is(err, errStopped) || (err != nil && stop.Err() != nil) {
		_ = msg.Nak()
		return nil
	}
	if err != nil {
		_ = msg.Nak()
		return fmt.Errorf("copy chunk %d of %s (%q, %q]: %w", task.Chunk.Index, task.Entity, task.Chunk.After, task.Chunk.Through, err)
	}
	p, err := retryAlways(work, c.log, "record finished chunk", func() (EntityProgress, error) {
		return c.state.finishChunk(work, task.Run, task.Entity, task.Chunk.Index, stats)
	})
	if err != nil {
		_ = msg.Nak()
		return err
	}
	if p.Done {
		c.log.Info("entity copied", "entity", task.Entity, "rows", p.Scanned, "inserted", p.Inserted, "skipped", p.Skipped, "tombstones", p.Tombstones)
	}
	return ackChunk(msg)
}

// foreignChunk handles a chunk of another run. If that run is the current
// one, this process is the stale one (the backfill was restarted
// elsewhere): it hands the chunk back and stops. Otherwise the chunk is
// left over from an older run and is discarded.
func (c *copier) foreignChunk(ctx context.Context, msg jetstream.Msg, task chunkTask) error {
	current, found, err := c.state.BackfillRun(ctx)
	if err != nil {
		_ = msg.Nak()
		return err
	}
	if found && current.ID == task.Run {
		_ = msg.Nak()
		return fmt.Errorf("the backfill was restarted elsewhere as run %s; this process worked for run %s: %w", current.ID, c.run.ID, ErrRunMismatch)
	}
	c.log.Info("discarding a chunk of an older backfill run", "run", task.Run, "entity", task.Entity)
	_ = msg.Term()
	return nil
}

// ackChunk acknowledges a chunk and waits for the server's confirmation;
// a lost ack only causes a redelivery, which the checkpoint absorbs.
func ackChunk(msg jetstream.Msg) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = msg.DoubleAck(ctx)
	return nil
}

// copyChunk copies one chunk range page by page: from the rows the local
// planner read, when it cached them, or by scanning the source.
func (c *copier) copyChunk(stop, work context.Context, task chunkTask) (chunkStats, error) {
	var st chunkStats
	after := task.Chunk.After
	writes := make([]stores.Write, 0, c.batchRows)
	var cached []stores.Record
	fromCache := false
	if c.cache != nil {
		cached, fromCache = c.cache.take(chunkID{run: task.Run, entity: task.Entity, index: task.Chunk.Index})
	}
	for {
		if stop.Err() != nil {
			return st, errStopped
		}
		var page []stores.Record
		if fromCache {
			page, cached = cached[:min(len(cached), c.batchRows)], cached[min(len(cached), c.batchRows):]
		} else {
			var err error
			page, err = retryTransient(work, c.log, "scan source "+task.Entity, func() ([]stores.Record, error) {
				return c.source.Scan(work, task.Entity, stores.Range{After: after, Through: task.Chunk.Through, Limit: c.batchRows})
			})
			if err != nil {
				return st, fmt.Errorf("scan source: %w", err)
			}
		}
		if len(page) == 0 {
			return st, nil
		}
		writes = writes[:0]
		for _, r := range page {
			writes = append(writes, BackfillWrite(task.Entity, r))
			if r.Deleted {
				st.Tombstones++
			}
		}
		if err := c.throttle.Wait(stop, len(writes)); err != nil {
			return st, errStopped
		}
		res, rejected, err := c.apply(work, writes)
		if err != nil {
			return st, err
		}
		st.Scanned += int64(len(page))
		st.Inserted += int64(res.Applied)
		st.Skipped += int64(res.Skipped + res.Duplicates)
		st.Rejected += int64(rejected)
		st.LastKey = page[len(page)-1].Key
		c.copied.Add(int64(len(page)))
		after = st.LastKey
		if (fromCache && len(cached) == 0) || (!fromCache && len(page) < c.batchRows) {
			return st, nil
		}
	}
}

// apply writes one page, retrying transient errors. A write the target can
// never hold is logged with its key, left out, and the rest applied again.
func (c *copier) apply(ctx context.Context, writes []stores.Write) (stores.ApplyResult, int, error) {
	rejected := 0
	for {
		start := time.Now()
		res, err := retryTransient(ctx, c.log, "write target", func() (stores.ApplyResult, error) {
			return c.target.Apply(ctx, writes)
		})
		c.throttle.ObserveWrite(time.Since(start))
		var rej *stores.RejectError
		if errors.As(err, &rej) && rej.Index >= 0 && rej.Index < len(writes) {
			c.log.Error("the target store rejects a source row; leaving it out", "entity", rej.Entity, "key", rej.Key, "reason", rej.Reason)
			writes = append(writes[:rej.Index:rej.Index], writes[rej.Index+1:]...)
			rejected++
			if len(writes) == 0 {
				return stores.ApplyResult{}, rejected, nil
			}
			continue
		}
		return res, rejected, err
	}
}

// BackfillWrite is the write that copies one source row: insert-if-absent
// at the source row's version. A source tombstone is copied as an IfAbsent
// tombstone, so a stale event arriving late through the target subscription
// cannot resurrect a record the legacy store deleted.
func BackfillWrite(entity string, r stores.Record) stores.Write {
	w := stores.Write{Entity: entity, Key: r.Key, Client: r.Client, Version: r.Version, IfAbsent: true, Deleted: r.Deleted}
	if !r.Deleted {
		w.Data = r.Data
	}
	return w
}
