package main

import (
	"context"
	"errors"
	"io"
	"slices"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/ops"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/all"
	"github.com/switchyard/switchyard/subscriptions"
	"github.com/switchyard/switchyard/workers"
)

var workerUsage = usageText("worker")

// workerFlags are the flags of the worker command: most set the library's
// configuration directly.
type workerFlags struct {
	nats                cli.NATSFlags
	ensure              subscriptions.Declaration
	process             workers.ProcessConfig
	logFormat, logLevel string
	gcPercent           int
}

func (f *workerFlags) register(fs *cli.FlagSet) {
	p, w := &f.process, &f.process.Worker
	f.nats.Register(fs)
	cli.RegisterDeclaration(fs, &f.ensure)
	fs.StringVar(&w.Stream, "stream", subscriptions.DefaultStream, "event stream name")
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
	fs.IntVar(&p.MaxProcs, "max-procs", workers.DefaultMaxProcs, "threads running Go code at once (GOMAXPROCS; an environment GOMAXPROCS wins); 0 means every CPU or the container's CPU limit")
}

// config checks the flags and returns the worker process's configuration.
func (f *workerFlags) config() (p workers.ProcessConfig, err error) {
	p = f.process
	p.GCPercent, p.Adapters = f.gcPercent, all.Adapters
	p.Worker.SubjectPrefix, p.Worker.VersionSource = f.ensure.Prefix, events.VersionSource(f.ensure.VersionSource)
	if err := p.Validate(); err != nil {
		return p, cli.Usagef("%v", err)
	}
	if !slices.Contains([]string{"auto", "json", "text"}, f.logFormat) {
		return p, cli.Usagef("--log-format %q is not one of auto, json, text", f.logFormat)
	}
	if p.Worker = p.Worker.WithDefaults(); p.Ensure {
		if p.StreamSpec, p.ConsumerSpec, err = f.ensure.Specs(p.Worker.Stream, p.Worker.Consumer); err != nil {
			return p, cli.Usagef("%v", err)
		}
	}
	return p, nil
}

func runWorker(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("worker", workerUsage, stderr)
	var f workerFlags
	f.register(fs)
	if err := fs.ParseFlags(args); err != nil {
		return err
	}
	p, err := f.config()
	if err != nil {
		return err
	}
	log, err := cli.NewLogger(stderr, cli.LogFormatFor(f.logFormat, stderr), f.logLevel)
	if err != nil {
		return err
	}
	f.nats.Name = "switchyard worker " + p.Worker.Consumer
	p.Connect, p.Registry, p.Log = f.nats.ConnectWithRetry, ops.NewProcessRegistry(), log.With("subscription", p.Worker.Consumer)
	switch err := workers.RunProcess(ctx, p); {
	case errors.Is(err, workers.ErrOpsServer):
		return cli.Usagef("--http: %v", err)
	case errors.Is(err, stores.ErrUnknownScheme):
		return cli.Usagef("--sink: %v", err)
	default:
		return err
	}
}
