package main

import (
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/term"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/all"
	"github.com/switchyard/switchyard/workers"
)

var workerUsage = usageText("worker")

// workerFlags are the flags of the worker command: most set the library's
// configuration directly.
type workerFlags struct {
	nats                cli.NATSFlags
	ensure              ensureFlags
	worker              workers.Config
	process             workers.ProcessConfig
	logFormat, logLevel string
	gcPercent           int
}

func (f *workerFlags) register(fs *cli.FlagSet) {
	w, p := &f.worker, &f.process
	f.nats.Register(fs)
	f.ensure.register(fs)
	fs.StringVar(&w.Stream, "stream", "EVENTS", "event stream name")
	fs.StringVar(&w.Consumer, "consumer", "", "durable consumer to work on (required)")
	fs.StringVar(&p.Sink, "sink", "", "store DSN, such as sqlite:target.db or postgres://user:${env:PGPASSWORD}@host/db (required)")
	fs.IntVar(&w.BatchSize, "batch-size", workers.DefaultBatchSize, "most events applied in one transaction")
	fs.IntVar(&w.Concurrency, "concurrency", workers.DefaultConcurrency, "batches applied at the same time by this process")
	fs.IntVar(&w.Prefetch, "prefetch", 0, "events pulled ahead of the batches in work; 0 means --batch-size")
	fs.IntVar(&w.MaxEventBytes, "max-event-bytes", events.DefaultMaxEventBytes, "largest event payload; larger ones are dead-lettered")
	fs.IntVar(&w.MaxDeliveries, "dead-letter-after", 0, "dead-letter an event delivered more than this many times; 0 means never")
	fs.DurationVar(&w.MaxWait, "max-wait", workers.DefaultMaxWait, "how long a batch waits to fill after its first event")
	fs.DurationVar(&w.Grace, "grace", workers.DefaultGrace, "drain deadline after SIGTERM")
	fs.DurationVar(&w.Backoff.Min, "retry-min", workers.DefaultRetryMin, "first delay after a failed batch")
	fs.DurationVar(&w.Backoff.Max, "retry-max", workers.DefaultRetryMax, "longest delay after failed batches")
	fs.StringVar(&p.HTTPAddr, "http", workers.DefaultOpsAddr, "address of /metrics, /healthz and /readyz; empty disables")
	fs.StringVar(&f.logFormat, "log-format", "auto", "log format: json, text, or auto (text on a terminal, json otherwise)")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.BoolVar(&p.Ensure, "ensure", false, "create or update the stream, dead-letter stream and consumer at start")
	fs.DurationVar(&p.LedgerRetention, "ledger-retention", workers.DefaultLedgerRetention, "how long the store remembers applied event ids; must outlast any producer retry; 0 disables pruning")
	fs.DurationVar(&p.LedgerPruneInterval, "ledger-prune-interval", workers.DefaultLedgerPruneInterval, "how often the ledger is pruned")
	fs.IntVar(&f.gcPercent, "gc-percent", workers.DefaultGCPercent, "Go garbage collection target of the process (GOGC; an environment GOGC wins)")
}

// check refuses the first flag out of range, naming it.
func (f *workerFlags) check() error {
	w, p, schemes := f.worker, f.process, strings.Join(all.Schemes(), ", ")
	for _, c := range []struct {
		bad    bool
		format string
		args   []any
	}{
		{w.BatchSize < 1, "--batch-size %d must be positive", []any{w.BatchSize}},
		{w.Concurrency < 1, "--concurrency %d must be positive", []any{w.Concurrency}},
		{w.MaxEventBytes < 1, "--max-event-bytes %d must be positive", []any{w.MaxEventBytes}},
		{f.gcPercent < 1, "--gc-percent %d must be positive", []any{f.gcPercent}},
		{w.MaxWait <= 0, "--max-wait %v must be positive", []any{w.MaxWait}},
		{w.Grace <= 0, "--grace %v must be positive", []any{w.Grace}},
		{w.Backoff.Min <= 0, "--retry-min %v must be positive", []any{w.Backoff.Min}},
		{w.Backoff.Max <= 0, "--retry-max %v must be positive", []any{w.Backoff.Max}},
		{p.LedgerPruneInterval <= 0, "--ledger-prune-interval %v must be positive", []any{p.LedgerPruneInterval}},
		{w.Consumer == "", "--consumer is required", nil},
		{p.Sink == "", "--sink is required (a store DSN; known schemes: %s)", []any{schemes}},
		{!slices.Contains(all.Schemes(), stores.Scheme(p.Sink)), "--sink %q: unknown or missing scheme (known: %s)", []any{stores.Redact(p.Sink), schemes}},
		{w.Prefetch < 0, "--prefetch %d must not be negative (0 means --batch-size)", []any{w.Prefetch}},
		{w.MaxDeliveries < 0, "--dead-letter-after %d must not be negative (0 means never)", []any{w.MaxDeliveries}},
		{p.LedgerRetention < 0, "--ledger-retention %v must not be negative (0 disables pruning)", []any{p.LedgerRetention}},
		{w.Backoff.Max < w.Backoff.Min, "--retry-max %v must be at least --retry-min %v", []any{w.Backoff.Max, w.Backoff.Min}},
		{!slices.Contains([]string{"auto", "json", "text"}, f.logFormat), "--log-format %q is not one of auto, json, text", []any{f.logFormat}},
	} {
		if c.bad {
			return cli.Usagef(c.format, c.args...)
		}
	}
	return nil
}

// config checks the flags and returns the worker configuration.
func (f *workerFlags) config() (workers.Config, error) {
	if err := f.check(); err != nil {
		return workers.Config{}, err
	}
	source, err := events.ParseVersionSource(f.ensure.VersionSource)
	if err != nil {
		return workers.Config{}, cli.Usagef("--version-source: %v", err)
	}
	cfg := f.worker
	cfg.SubjectPrefix, cfg.VersionSource = f.ensure.Prefix, source
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return workers.Config{}, cli.Usagef("%v", err)
	}
	return cfg, nil
}

func runWorker(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("worker", workerUsage, stderr)
	var f workerFlags
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := fs.NoArgs(); err != nil {
		return err
	}
	cfg, err := f.config()
	if err != nil {
		return err
	}
	p := f.process
	if p.Ensure {
		if p.StreamSpec, p.ConsumerSpec, err = f.ensure.specs(cfg.Stream, cfg.Consumer); err != nil {
			return err
		}
	}
	log, err := cli.NewLogger(stderr, logFormatFor(f.logFormat, stderr), f.logLevel)
	if err != nil {
		return err
	}
	f.nats.Name = "switchyard worker " + cfg.Consumer
	p.Worker, p.Adapters, p.Connect = cfg, all.Adapters, f.nats.ConnectWithRetry
	p.Registry, p.Log, p.GCPercent = processRegistry(), log.With("subscription", cfg.Consumer), f.gcPercent
	switch err := workers.RunProcess(ctx, p); {
	case errors.Is(err, workers.ErrOpsServer):
		return cli.Usagef("--http: %v", err)
	case errors.Is(err, stores.ErrUnknownScheme):
		return cli.Usagef("--sink: %v", err)
	default:
		return err
	}
}

// logFormatFor resolves "auto": readable text for a person at a terminal,
// JSON lines for a container's log collector.
func logFormatFor(format string, w io.Writer) string {
	if format != "auto" {
		return format
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return "text"
	}
	return "json"
}
