package benchpipeline

import (
	"context"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/switchyard/switchyard/stores"
)

// rawCeiling applies the same events as the worker, as the same batches of
// writes (batchSize, concurrency batches at a time), straight to the store
// with no NATS, decoding or acknowledging: the best the worker can do with
// this store's batched SQL.
func rawCeiling(ctx context.Context, cfg Config, sink stores.Writer) (time.Duration, error) {
	writes := rawWrites(cfg)
	batches := make(chan []stores.Write)
	begin := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	for range cfg.Concurrency {
		g.Go(func() error {
			for batch := range batches {
				if _, err := sink.Apply(gctx, batch); err != nil {
					return err
				}
			}
			return nil
		})
	}
send:
	for i := 0; i < len(writes); i += cfg.BatchSize {
		select {
		case batches <- writes[i:min(i+cfg.BatchSize, len(writes))]:
		case <-gctx.Done():
			break send
		}
	}
	close(batches)
	err := g.Wait()
	if err == nil {
		err = ctx.Err()
	}
	return time.Since(begin), err
}

// rawWrites is the backlog's events as the writes the worker makes of them:
// the version is the stream sequence (the bench's worker runs with
// --version-source stream) and the event id goes to the ledger.
func rawWrites(cfg Config) []stores.Write {
	evs := genEvents(0, cfg.Events, cfg.Keys, cfg.Size)
	writes := make([]stores.Write, len(evs))
	for i, ev := range evs {
		writes[i] = stores.Write{
			Entity: ev.Entity, Key: ev.Key, Client: ev.Client, Version: int64(i + 1),
			Data: ev.Data, EventID: ev.ID,
		}
	}
	return writes
}
