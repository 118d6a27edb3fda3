package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/term"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/ops"
	"github.com/switchyard/switchyard/stores"
	_ "github.com/switchyard/switchyard/stores/all" // every store scheme
	"github.com/switchyard/switchyard/subscriptions"
	"github.com/switchyard/switchyard/workers"
)

const workerUsage = `worker --consumer NAME --sink DSN [flags]

Pulls events from the durable consumer --consumer of --stream in batches,
applies each batch to the store --sink in one transaction, and acknowledges
it after the commit. Poison events go to the dead-letter stream. Run as many
worker processes on one consumer as throughput needs.

SIGTERM or SIGINT drains: no new batch is pulled, the batches in flight are
finished and acknowledged, and the process exits within --grace.

With --ensure the stream and its dead-letter stream are created when
missing, or checked and left alone when they exist, and the consumer is
created or updated at start (the subs ensure flags apply, --update-stream
too); without it they must exist. See docs/workers.md.`

// defaultWorkerGCPercent is the worker's garbage collection target. Its
// live heap is small (the batches in flight), so Go's default of 100
// collects several times a second under load; 400 cut the process's CPU
// per event by about a fifth in the pipeline benchmark for about 20 MiB
// more peak RSS (60 instead of 40 MiB at the defaults).
const defaultWorkerGCPercent = 400

// workerFlags are the flags of the worker command.
type workerFlags struct {
	nats                        cli.NATSFlags
	ensure                      ensureFlags
	stream, consumer, sink      string
	batchSize, concurrency      int
	prefetch, maxEventBytes     int
	deadLetterAfter             int
	maxWait, grace              time.Duration
	retryMin, retryMax          time.Duration
	httpAddr                    string
	logFormat, logLevel         string
	doEnsure                    bool
	ledgerRetention, ledgerTick time.Duration
	gcPercent                   int
}

func (f *workerFlags) register(fs *cli.FlagSet) {
	f.nats.Register(fs)
	f.ensure.register(fs)
	fs.StringVar(&f.stream, "stream", "EVENTS", "event stream name")
	fs.StringVar(&f.consumer, "consumer", "", "durable consumer to work on (required)")
	fs.StringVar(&f.sink, "sink", "", "store DSN, such as sqlite:target.db or postgres://user:${env:PGPASSWORD}@host/db (required)")
	fs.IntVar(&f.batchSize, "batch-size", workers.DefaultBatchSize, "most events applied in one transaction")
	fs.IntVar(&f.concurrency, "concurrency", workers.DefaultConcurrency, "batches applied at the same time by this process")
	fs.IntVar(&f.prefetch, "prefetch", 0, "events pulled ahead of the batches in work; 0 means --batch-size")
	fs.IntVar(&f.maxEventBytes, "max-event-bytes", events.DefaultMaxEventBytes, "largest event payload; larger ones are dead-lettered")
	fs.IntVar(&f.deadLetterAfter, "dead-letter-after", 0, "dead-letter an event delivered more than this many times; 0 means never")
	fs.DurationVar(&f.maxWait, "max-wait", workers.DefaultMaxWait, "how long a batch waits to fill after its first event")
	fs.DurationVar(&f.grace, "grace", workers.DefaultGrace, "drain deadline after SIGTERM")
	fs.DurationVar(&f.retryMin, "retry-min", 200*time.Millisecond, "first delay after a failed batch")
	fs.DurationVar(&f.retryMax, "retry-max", 10*time.Second, "longest delay after failed batches")
	fs.StringVar(&f.httpAddr, "http", ":9090", "address of /metrics, /healthz and /readyz; empty disables")
	fs.StringVar(&f.logFormat, "log-format", "auto", "log format: json, text, or auto (text on a terminal, json otherwise)")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.BoolVar(&f.doEnsure, "ensure", false, "create or update the stream, dead-letter stream and consumer at start")
	fs.DurationVar(&f.ledgerRetention, "ledger-retention", 7*24*time.Hour, "how long the store remembers applied event ids; must outlast any producer retry; 0 disables pruning")
	fs.DurationVar(&f.ledgerTick, "ledger-prune-interval", time.Hour, "how often the ledger is pruned")
	fs.IntVar(&f.gcPercent, "gc-percent", defaultWorkerGCPercent, "Go garbage collection target of the process (GOGC; an environment GOGC wins)")
}

// config validates the flags and returns the worker configuration.
func (f *workerFlags) config() (workers.Config, error) {
	known := map[string]bool{}
	for _, scheme := range stores.Schemes() {
		known[scheme] = true
	}
	positive := []struct {
		flag  string
		value int
	}{{"--batch-size", f.batchSize}, {"--concurrency", f.concurrency}, {"--max-event-bytes", f.maxEventBytes}, {"--gc-percent", f.gcPercent}}
	for _, p := range positive {
		if p.value < 1 {
			return workers.Config{}, cli.Usagef("%s %d must be positive", p.flag, p.value)
		}
	}
	durations := []struct {
		flag  string
		value time.Duration
	}{{"--max-wait", f.maxWait}, {"--grace", f.grace}, {"--retry-min", f.retryMin}, {"--retry-max", f.retryMax}, {"--ledger-prune-interval", f.ledgerTick}}
	for _, d := range durations {
		if d.value <= 0 {
			return workers.Config{}, cli.Usagef("%s %v must be positive", d.flag, d.value)
		}
	}
	switch {
	case f.consumer == "":
		return workers.Config{}, cli.Usagef("--consumer is required")
	case f.sink == "":
		return workers.Config{}, cli.Usagef("--sink is required (a store DSN; known schemes: %s)", strings.Join(stores.Schemes(), ", "))
	case !known[stores.Scheme(f.sink)]:
		return workers.Config{}, cli.Usagef("--sink %q: unknown or missing scheme (known: %s)", stores.Redact(f.sink), strings.Join(stores.Schemes(), ", "))
	case f.prefetch < 0:
		return workers.Config{}, cli.Usagef("--prefetch %d must not be negative (0 means --batch-size)", f.prefetch)
	case f.deadLetterAfter < 0:
		return workers.Config{}, cli.Usagef("--dead-letter-after %d must not be negative (0 means never)", f.deadLetterAfter)
	case f.ledgerRetention < 0:
		return workers.Config{}, cli.Usagef("--ledger-retention %v must not be negative (0 disables pruning)", f.ledgerRetention)
	case f.retryMax < f.retryMin:
		return workers.Config{}, cli.Usagef("--retry-max %v must be at least --retry-min %v", f.retryMax, f.retryMin)
	}
	source, err := events.ParseVersionSource(f.ensure.VersionSource)
	if err != nil {
		return workers.Config{}, cli.Usagef("--version-source: %v", err)
	}
	cfg := workers.Config{
		Stream:        f.stream,
		Consumer:      f.consumer,
		SubjectPrefix: f.ensure.Prefix,
		VersionSource: source,
		BatchSize:     f.batchSize,
		MaxWait:       f.maxWait,
		Concurrency:   f.concurrency,
		Prefetch:      f.prefetch,
		MaxEventBytes: f.maxEventBytes,
		MaxDeliveries: f.deadLetterAfter,
		Backoff:       workers.Backoff{Min: f.retryMin, Max: f.retryMax},
		Grace:         f.grace,
	}.WithDefaults()
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
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(f.gcPercent)
	}
	var streamSpec subscriptions.StreamSpec
	var consumerSpec subscriptions.ConsumerSpec
	if f.doEnsure {
		if streamSpec, consumerSpec, err = f.ensure.specs(f.stream, f.consumer); err != nil {
			return err
		}
	}
	if f.logFormat != "auto" && f.logFormat != "json" && f.logFormat != "text" {
		return cli.Usagef("--log-format %q is not one of auto, json, text", f.logFormat)
	}
	log, err := cli.NewLogger(stderr, logFormatFor(f.logFormat, stderr), f.logLevel)
	if err != nil {
		return err
	}
	log = log.With("subscription", f.consumer)

	// Phase 1: the ops server answers liveness at once; readiness waits for
	// the connections made below.
	reg := processRegistry()
	var natsConn atomic.Pointer[nats.Conn]
	var sinkStore atomic.Pointer[stores.Store]
	srv, err := startOps(f.httpAddr, reg, log, &natsConn, &sinkStore)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			log.Warn("ops server shutdown", "err", err)
		}
	}()
	stopDraining := context.AfterFunc(ctx, srv.SetDraining)
	defer stopDraining()

	// Phase 2: connect, retrying while NATS or the store is unreachable.
	f.nats.Name = "switchyard worker " + f.consumer
	nc, js, err := f.nats.ConnectWithRetry(ctx, log)
	if err != nil {
		return stoppedBeforeReady(ctx, err, log)
	}
	defer nc.Close()
	natsConn.Store(nc)
	if err := retryTransient(ctx, cfg.Backoff, log, "waiting to prepare the subscription", nil, func() error {
		return prepareSubscription(ctx, js, f.doEnsure, streamSpec, consumerSpec, f.stream, log)
	}); err != nil {
		return stoppedBeforeReady(ctx, err, log)
	}
	store, err := openStoreWithRetry(ctx, f.sink, cfg.Backoff, log)
	if err != nil {
		return stoppedBeforeReady(ctx, err, log)
	}
	defer store.Close()
	// The sink is written: it must pass the cheap checks of a writer.
	if err := requireSink(ctx, store, f.sink, log); err != nil {
		return err
	}
	sinkStore.Store(&store)

	// Phase 3: run until the signal, then drain.
	w, err := workers.New(js, store, cfg, log, workers.WithRegisterer(reg))
	if err != nil {
		return err
	}
	var background sync.WaitGroup
	pruneCtx, stopPrune := context.WithCancel(ctx)
	defer func() { stopPrune(); background.Wait() }()
	if f.ledgerRetention > 0 {
		background.Go(func() { workers.PruneLedger(pruneCtx, store, f.ledgerRetention, f.ledgerTick, log) })
	}
	log.Info("worker ready", "stream", f.stream, "sink", stores.Redact(f.sink), "http", srv.Addr())
	runErr := w.Run(ctx)
	st := w.Stats()
	log.Info("worker exited", "applied", st.Applied, "skipped", st.Skipped, "duplicates", st.Duplicates,
		"dead_lettered", st.DeadLettered, "failed_batches", st.FailedBatches)
	return runErr
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

// stoppedBeforeReady turns a start-up error caused by SIGTERM into a clean
// exit: a worker asked to stop while it still waited for NATS or the store
// has nothing to drain.
func stoppedBeforeReady(ctx context.Context, err error, log *slog.Logger) error {
	if ctx.Err() != nil {
		log.Info("stopped before the worker was ready", "reason", err)
		return nil
	}
	return err
}

// startOps starts the ops server (or a server that is never started when
// addr is empty) with the NATS and store readiness checks.
func startOps(addr string, reg *prometheus.Registry, log *slog.Logger, nc *atomic.Pointer[nats.Conn], st *atomic.Pointer[stores.Store]) (*ops.Server, error) {
	srv, err := ops.New(ops.Config{
		Addr:     addr,
		Gatherer: reg,
		Log:      log,
		Checks: []ops.Check{
			{Name: "nats", Probe: func(ctx context.Context) error {
				c := nc.Load()
				if c == nil {
					return errors.New("not connected yet")
				}
				return ops.NATSConnected("nats", c).Probe(ctx)
			}},
			{Name: "sink", Probe: func(ctx context.Context) error {
				s := st.Load()
				if s == nil {
					return errors.New("not opened yet")
				}
				return (*s).Ping(ctx)
			}},
		},
	})
	if err != nil {
		return nil, err
	}
	if addr == "" {
		return srv, nil
	}
	if err := srv.Start(); err != nil {
		return nil, cli.Usagef("--http: %v", err)
	}
	return srv, nil
}

// prepareSubscription ensures the streams and consumer (with --ensure) or
// checks that the dead-letter stream exists (the worker checks the
// consumer itself).
func prepareSubscription(ctx context.Context, js jetstream.JetStream, ensure bool, stream subscriptions.StreamSpec, consumer subscriptions.ConsumerSpec, streamName string, log *slog.Logger) error {
	if ensure {
		declared, err := subscriptions.Ensure(ctx, js, stream, consumer)
		logStreamReport(log, declared.Stream)
		logStreamReport(log, declared.DeadLetters)
		if err != nil {
			return err
		}
		log.Info("ensured stream, dead-letter stream and consumer", "stream", stream.Name, "consumer", consumer.Name)
		return nil
	}
	dlq := subscriptions.DLQStreamName(streamName)
	if _, err := js.Stream(ctx, dlq); err != nil {
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			return fmt.Errorf("dead-letter stream %s does not exist: run switchyard subs ensure, or pass --ensure: %w", dlq, subscriptions.ErrNotFound)
		}
		return fmt.Errorf("dead-letter stream %s: %w", dlq, err)
	}
	return nil
}

// retryTransient runs op until it succeeds, fails for good (a stream or
// consumer that is missing or unusable, a usage error) or ctx ends. Other
// errors, such as a store that is down or a JetStream request timing out
// while a cluster elects a leader, are retried with backoff, each logged
// as waiting (with attrs, the error and the delay): a worker starting
// during a fault waits it out.
func retryTransient(ctx context.Context, backoff workers.Backoff, log *slog.Logger, waiting string, attrs []any, op func() error) error {
	for attempt := int64(1); ; attempt++ {
		err := op()
		if err == nil || errors.Is(err, subscriptions.ErrNotFound) || errors.Is(err, subscriptions.ErrStreamUnusable) || errors.Is(err, cli.ErrUsage) {
			return err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w (last error: %v)", waiting, ctx.Err(), err)
		}
		delay := backoff.Delay(attempt)
		log.Warn(waiting, append(slices.Clip(attrs), "err", err, "retry_in", delay)...)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (last error: %v)", waiting, ctx.Err(), err)
		case <-time.After(delay):
		}
	}
}

// requireSink runs the sink's cheap checks (stores.RequireRole) and logs
// their warnings; a failing check refuses the start with every reason.
func requireSink(ctx context.Context, store stores.Store, dsn string, log *slog.Logger) error {
	checks, err := stores.RequireRole(ctx, store, stores.RoleTarget, dsn)
	for _, c := range checks {
		if c.Status == stores.CheckWarn {
			log.Warn("store check", "check", c.Name, "detail", c.Detail)
		}
	}
	return err
}

// openStoreWithRetry opens the store, retrying with backoff while it is
// unreachable and logging what it waits for. An unknown scheme is a usage
// error and is not retried.
func openStoreWithRetry(ctx context.Context, dsn string, backoff workers.Backoff, log *slog.Logger) (stores.Store, error) {
	var st stores.Store
	err := retryTransient(ctx, backoff, log, "waiting for the store", []any{"sink", stores.Redact(dsn)}, func() error {
		var err error
		st, err = stores.Open(ctx, dsn)
		if errors.Is(err, stores.ErrUnknownScheme) {
			return cli.Usagef("--sink: %v", err)
		}
		return err
	})
	return st, err
}
