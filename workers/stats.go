package workers

import (
	"sync/atomic"
	"time"
)

// Stats is a snapshot of what a Worker did since it was created, for live
// displays. Counts are events unless named otherwise.
type Stats struct {
	// Applied writes changed a row; Skipped lost to the version fence;
	// Duplicates were dropped by the store's event-id ledger.
	Applied, Skipped, Duplicates uint64
	// DeadLettered events were copied to the dead-letter stream.
	DeadLettered uint64
	// Failed events were negatively acknowledged because their batch failed.
	Failed uint64
	// Batches counts batches handled, FailedBatches those that failed.
	Batches, FailedBatches uint64
	// LastBatchSize and LastBatchLatency describe the last batch handled
	// (latency from the start of its handling to its acks being flushed).
	LastBatchSize    int
	LastBatchLatency time.Duration
	// Lag is the consumer's pending plus unacknowledged messages, read every
	// Config.LagInterval; LagAt is when (zero before the first reading).
	Lag   uint64
	LagAt time.Time
}

// counters is the live, lock-free form of Stats.
type counters struct {
	applied, skipped, duplicates, deadLettered, failed atomic.Uint64
	batches, failedBatches                             atomic.Uint64
	lastBatchSize                                      atomic.Int64
	lastBatchLatency                                   atomic.Int64
	lag                                                atomic.Uint64
	lagAt                                              atomic.Int64 // unix nanoseconds
}

func (c *counters) snapshot() Stats {
	s := Stats{
		Applied:          c.applied.Load(),
		Skipped:          c.skipped.Load(),
		Duplicates:       c.duplicates.Load(),
		DeadLettered:     c.deadLettered.Load(),
		Failed:           c.failed.Load(),
		Batches:          c.batches.Load(),
		FailedBatches:    c.failedBatches.Load(),
		LastBatchSize:    int(c.lastBatchSize.Load()),
		LastBatchLatency: time.Duration(c.lastBatchLatency.Load()),
		Lag:              c.lag.Load(),
	}
	if at := c.lagAt.Load(); at != 0 {
		s.LagAt = time.Unix(0, at)
	}
	return s
}

// record adds the outcome of one settled batch.
func (c *counters) record(b *Batch, failed int, err error, latency time.Duration) {
	c.batches.Add(1)
	c.lastBatchSize.Store(int64(len(b.Messages)))
	c.lastBatchLatency.Store(int64(latency))
	c.deadLettered.Add(uint64(b.count(DeadLettered)))
	if err != nil {
		c.failedBatches.Add(1)
		c.failed.Add(uint64(failed))
		return
	}
	c.applied.Add(uint64(b.Result.Applied))
	c.skipped.Add(uint64(b.Result.Skipped))
	c.duplicates.Add(uint64(b.Result.Duplicates))
}
