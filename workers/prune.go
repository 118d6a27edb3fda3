package workers

import (
	"context"
	"log/slog"
	"time"
)

// LedgerPruner is the part of a store that forgets old event ids
// (stores.Store implements it).
type LedgerPruner interface {
	PruneLedger(ctx context.Context, cutoff time.Time) (int64, error)
}

// PruneLedger removes ledger entries older than retention from p, at once
// and then every interval, until ctx ends. Failures are logged and retried
// at the next interval; they never stop the worker. Retention must outlast
// any producer retry (the ledger is what catches retries that arrive after
// the stream's duplicate window); interval defaults to one hour when zero.
func PruneLedger(ctx context.Context, p LedgerPruner, retention, interval time.Duration, log *slog.Logger) {
	if interval <= 0 {
		interval = time.Hour
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		cutoff := time.Now().Add(-retention)
		n, err := p.PruneLedger(ctx, cutoff)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("pruning the event-id ledger failed; retrying at the next interval", "err", err, "retry_in", interval)
		case err == nil && n > 0:
			log.Info("pruned the event-id ledger", "removed", n, "older_than", cutoff.UTC().Format(time.RFC3339))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
