package workers

import (
	"errors"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/kinderr"
	"github.com/switchyard/switchyard/stores"
)

// ErrProcessConfig matches the errors of ProcessConfig.Validate: a setting
// of the worker process out of range. Nothing was started.
var ErrProcessConfig = errors.New("worker process configuration")

// processConfigErrorf is a setting out of range, named as the worker
// command's flag that sets it.
func processConfigErrorf(cause error, format string, args ...any) error {
	return kinderr.Errorf(ErrProcessConfig, cause, format, args...)
}

// Validate checks c as given, before Config.WithDefaults, and returns the
// first setting out of range, named as the worker command's flag that sets
// it: a count or duration the command always sets must be positive, zero is
// no default here. Then the version source is parsed and Worker, defaults
// applied, must pass Config.Validate. Its errors match ErrProcessConfig.
func (c ProcessConfig) Validate() error {
	w, schemes := c.Worker, strings.Join(c.Adapters.Schemes(), ", ")
	for _, r := range []struct {
		bad    bool
		format string
		args   []any
	}{
		{w.BatchSize < 1, "--batch-size %d must be positive", []any{w.BatchSize}},
		{w.Concurrency < 1, "--concurrency %d must be positive", []any{w.Concurrency}},
		{w.MaxEventBytes < 1, "--max-event-bytes %d must be positive", []any{w.MaxEventBytes}},
		{c.GCPercent < 1, "--gc-percent %d must be positive", []any{c.GCPercent}},
		{w.MaxWait <= 0, "--max-wait %v must be positive", []any{w.MaxWait}},
		{w.Grace <= 0, "--grace %v must be positive", []any{w.Grace}},
		{w.Backoff.Min <= 0, "--retry-min %v must be positive", []any{w.Backoff.Min}},
		{w.Backoff.Max <= 0, "--retry-max %v must be positive", []any{w.Backoff.Max}},
		{c.LedgerPruneInterval <= 0, "--ledger-prune-interval %v must be positive", []any{c.LedgerPruneInterval}},
		{w.Consumer == "", "--consumer is required", nil},
		{c.Sink == "", "--sink is required (a store DSN; known schemes: %s)", []any{schemes}},
		{!slices.Contains(c.Adapters.Schemes(), stores.Scheme(c.Sink)), "--sink %q: unknown or missing scheme (known: %s)", []any{stores.Redact(c.Sink), schemes}},
		{w.Prefetch < 0, "--prefetch %d must not be negative (0 means --batch-size)", []any{w.Prefetch}},
		{w.MaxDeliveries < 0, "--dead-letter-after %d must not be negative (0 means never)", []any{w.MaxDeliveries}},
		{c.MaxProcs < 0, "--max-procs %d must not be negative (0 means Go's choice: every CPU, or the container's CPU limit)", []any{c.MaxProcs}},
		{c.LedgerRetention < 0, "--ledger-retention %v must not be negative (0 disables pruning)", []any{c.LedgerRetention}},
		{w.Backoff.Max < w.Backoff.Min, "--retry-max %v must be at least --retry-min %v", []any{w.Backoff.Max, w.Backoff.Min}},
	} {
		if r.bad {
			return processConfigErrorf(nil, r.format, r.args...)
		}
	}
	if _, err := events.ParseVersionSource(string(c.Worker.VersionSource)); err != nil {
		return processConfigErrorf(err, "--version-source: %v", err)
	}
	if err := c.Worker.WithDefaults().Validate(); err != nil {
		return processConfigErrorf(err, "%v", err)
	}
	return nil
}
