package benchpipeline

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/all"
)

// backfillEntity is the table the backfill measurement fills; copyTable
// is the raw COPY's table of the same shape.
const (
	backfillEntity = "bench_fill"
	copyTable      = "bench_copy"
)

// backfillVsCopy measures, in one fresh schema, alternating for
// cfg.Rounds rounds, the backfill's write path and a raw COPY of the same
// rows (the best round of each counts):
//
//   - backfill: cfg.BackfillRows IfAbsent writes without event ids (what
//     the backfill's copiers send) through Store.Apply, cfg.BackfillBatch
//     per call, cfg.BackfillCopiers calls in flight; each call looks up the
//     keys that exist, then COPYs the rest in one transaction;
//   - raw COPY: one binary pgx.CopyFrom of the same rows into a table of
//     the same shape (primary key on key COLLATE "C", the (client, key)
//     index), no lookup, no fence.
//
// The backfill's reading of the source, planning and checkpoints are the
// migrator's (see its BenchmarkBackfillPostgres); this is the part that
// competes with COPY for the target.
func backfillVsCopy(ctx context.Context, cfg Config, dsn string) (fill, raw Measurement, err error) {
	resolved, err := stores.ResolveSecrets(dsn)
	if err != nil {
		return fill, raw, err
	}
	sink, err := all.Open(ctx, dsn)
	if err != nil {
		return fill, raw, err
	}
	defer sink.Close()
	conn, err := pgx.Connect(ctx, resolved)
	if err != nil {
		return fill, raw, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `CREATE TABLE `+copyTable+` (
  key text COLLATE "C" PRIMARY KEY, client text NOT NULL, version bigint NOT NULL,
  deleted boolean NOT NULL, data jsonb, updated_at timestamptz NOT NULL)`); err != nil {
		return fill, raw, fmt.Errorf("create the COPY table: %w", err)
	}
	if _, err := conn.Exec(ctx, `CREATE INDEX ON `+copyTable+` (client, key)`); err != nil {
		return fill, raw, err
	}
	evs := genEvents(0, cfg.BackfillRows, cfg.BackfillRows, cfg.Size)
	writes := make([]stores.Write, len(evs))
	for i, ev := range evs {
		writes[i] = stores.Write{Entity: backfillEntity, Key: ev.Key, Client: ev.Client, Version: int64(i + 1), Data: ev.Data, IfAbsent: true}
	}
	// The store creates its table on first use; that is not part of the run.
	if _, err := sink.Apply(ctx, writes[:1]); err != nil {
		return fill, raw, err
	}

	// Alternating rounds, the best of each counting, as for the worker and
	// the raw ceiling: a burst of load elsewhere does not decide the ratio.
	for round := 0; round < cfg.Rounds; round++ {
		if _, err := conn.Exec(ctx, `TRUNCATE `+backfillEntity+`, `+copyTable); err != nil {
			return fill, raw, err
		}
		db := startDatabaseCPU()
		begin := time.Now()
		applied, err := applyInParallel(ctx, sink, writes, cfg.BackfillBatch, cfg.BackfillCopiers)
		m := Measurement{Events: len(writes), Elapsed: time.Since(begin), DatabaseCPU: db()}
		if err != nil {
			return fill, raw, fmt.Errorf("backfill: %w", err)
		}
		if applied != len(writes) {
			return fill, raw, fmt.Errorf("backfill applied %d of %d rows", applied, len(writes))
		}
		fill = best(fill, m)

		db = startDatabaseCPU()
		begin = time.Now()
		now := time.Now()
		n, err := conn.CopyFrom(ctx, pgx.Identifier{copyTable}, []string{"key", "client", "version", "deleted", "data", "updated_at"},
			pgx.CopyFromSlice(len(writes), func(i int) ([]any, error) {
				w := writes[i]
				return []any{w.Key, w.Client, w.Version, false, []byte(w.Data), now}, nil
			}))
		m = Measurement{Events: int(n), Elapsed: time.Since(begin), DatabaseCPU: db()}
		if err != nil {
			return fill, raw, fmt.Errorf("raw COPY: %w", err)
		}
		raw = best(raw, m)
	}
	return fill, raw, nil
}

// applyInParallel applies writes in batches of batch, copiers calls in
// flight, and returns how many rows were applied.
func applyInParallel(ctx context.Context, sink stores.Writer, writes []stores.Write, batch, copiers int) (int, error) {
	next := make(chan []stores.Write)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		applied  int
		firstErr error
	)
	for range copiers {
		wg.Go(func() {
			for b := range next {
				res, err := sink.Apply(ctx, b)
				mu.Lock()
				applied += res.Applied
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	for i := 0; i < len(writes); i += batch {
		select {
		case next <- writes[i:min(i+batch, len(writes))]:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return applied, firstErr
}
