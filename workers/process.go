package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard/switchyard/internal/lifecycle"
	"github.com/switchyard/switchyard/internal/ops"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/subscriptions"
)

// ProcessConfig is one worker process (the worker command): the worker, the
// store it writes, how it reaches NATS, what it serves, and the pruning of
// the store's ledger.
type ProcessConfig struct {
	// Worker is the worker's configuration, defaults applied and valid.
	Worker Config
	// Sink is the DSN of the store written, opened through Adapters (in
	// the adapter's default role, a writer).
	Sink     string
	Adapters stores.Adapters
	// Connect connects to NATS, waiting while it is unreachable. Required.
	Connect func(ctx context.Context, log *slog.Logger) (*nats.Conn, jetstream.JetStream, error)
	// Ensure creates or updates the stream, its dead-letter stream (both
	// StreamSpec) and the consumer (ConsumerSpec) at start. Without it they
	// must exist: the dead-letter stream is checked here, the consumer by
	// the worker.
	Ensure       bool
	StreamSpec   subscriptions.StreamSpec
	ConsumerSpec subscriptions.ConsumerSpec
	// HTTPAddr is the address of /metrics, /healthz and /readyz; empty
	// serves nothing.
	HTTPAddr string
	// Registry receives the worker's metrics and is served on /metrics.
	// Required.
	Registry *prometheus.Registry
	// LedgerRetention is how long the store remembers applied event ids
	// (0 disables pruning); LedgerPruneInterval how often it is pruned.
	LedgerRetention, LedgerPruneInterval time.Duration
	// GCPercent is the Go garbage collection target set at start, unless
	// GOGC is set in the environment; zero leaves it.
	GCPercent int
	// MaxProcs is how many threads run the process's Go code at once
	// (GOMAXPROCS), set at start unless the environment sets GOMAXPROCS;
	// zero leaves Go's choice (every CPU, or the container's CPU limit).
	MaxProcs int
	// Log receives the process's messages; nil discards them.
	Log *slog.Logger
}

// Defaults of a worker process.
const (
	// DefaultOpsAddr is where the ops endpoints are served.
	DefaultOpsAddr = ":9090"
	// DefaultLedgerRetention is how long the store remembers applied event
	// ids: it must outlast any producer retry.
	DefaultLedgerRetention = 7 * 24 * time.Hour
	// DefaultLedgerPruneInterval is how often the ledger is pruned.
	DefaultLedgerPruneInterval = time.Hour
	// DefaultGCPercent is a worker process's garbage collection target. Its
	// live heap is small (the batches in flight), so Go's default of 100
	// collects several times a second under load; 400 cut the process's
	// CPU per event by about a fifth in the pipeline benchmark for about
	// 20 MiB more peak RSS (60 instead of 40 MiB at the defaults).
	DefaultGCPercent = 400
	// DefaultMaxProcs is a worker process's GOMAXPROCS. Its work per event
	// is a chain of hand-overs (the client's read loop, the batch filler,
	// the apply loops), each short; with a second processor idle, every
	// hand-over wakes another thread to take it. On one processor the
	// process spent 9 to 15 % less CPU per event in the pipeline benchmark
	// with one process, and four processes on one consumer on two cores
	// moved 16 % more events. One processor carries about 150,000 events/s
	// of the worker's own work; beyond that, more processes (the fleet) add
	// capacity.
	DefaultMaxProcs = 1
)

// RunProcess runs a worker process until ctx ends, then drains:
//  1. the ops server answers liveness at once; readiness waits for the
//     connections (it fails with an error matching ErrOpsServer when it
//     cannot listen);
//  2. NATS is connected, the subscription prepared and the sink opened and
//     checked (stores.RequireRole), each retried with the worker's backoff
//     while unreachable;
//  3. the worker runs (Worker.Run) with the ledger pruned in the background.
//
// A ctx that ends during 1 or 2 is a clean stop (nil): there is nothing to
// drain. The error of the sink's checks or of Worker.Run is returned as is.
func RunProcess(ctx context.Context, cfg ProcessConfig) error {
	// The start-up retries use the worker's backoff and stream: a library
	// caller's zero values mean the defaults here too.
	cfg.Worker = cfg.Worker.WithDefaults()
	setRuntime(cfg)
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	log := cfg.Log
	var natsConn atomic.Pointer[nats.Conn]
	var sinkStore atomic.Pointer[stores.Store]
	srv, err := startOps(cfg.HTTPAddr, cfg.Registry, log, &natsConn, &sinkStore)
	if err != nil {
		return err
	}
	defer srv.Stop(ctx)
	stopDraining := context.AfterFunc(ctx, srv.SetDraining)
	defer stopDraining()

	nc, js, err := cfg.Connect(ctx, log)
	if err != nil {
		return stoppedBeforeReady(ctx, err, log)
	}
	defer nc.Close()
	natsConn.Store(nc)
	store, err := cfg.open(ctx, js)
	if err != nil {
		return stoppedBeforeReady(ctx, err, log)
	}
	defer store.Close()
	// The sink is written: it must pass the cheap checks of a writer.
	if err := requireSink(ctx, store, cfg.Sink, log); err != nil {
		return err
	}
	sinkStore.Store(&store)
	return cfg.run(ctx, js, store, srv.Addr())
}

// open prepares the subscription and opens the sink, each retried while it
// fails for a reason that may pass: a store that is down, a JetStream
// request timing out while a cluster elects a leader. A worker starting
// during a fault waits it out.
func (cfg ProcessConfig) open(ctx context.Context, js jetstream.JetStream) (stores.Store, error) {
	retry := func(waiting string, attrs []any, op func() error) error {
		policy := lifecycle.Policy{Backoff: cfg.Worker.Backoff, Log: cfg.Log, Waiting: waiting, Attrs: attrs,
			Retryable: func(err error) bool {
				return !errors.Is(err, subscriptions.ErrNotFound) && !errors.Is(err, subscriptions.ErrStreamUnusable) && !errors.Is(err, stores.ErrUnknownScheme)
			}}
		err := lifecycle.Retry(ctx, policy, op)
		if _, stopped := errors.AsType[*lifecycle.InterruptedError](err); stopped {
			return fmt.Errorf("%s: %w", waiting, err)
		}
		return err
	}
	if err := retry("waiting to prepare the subscription", nil, func() error { return cfg.prepare(ctx, js) }); err != nil {
		return nil, err
	}
	var st stores.Store
	err := retry("waiting for the store", []any{"sink", stores.Redact(cfg.Sink)}, func() error {
		var err error
		st, err = cfg.Adapters.Open(ctx, cfg.Sink)
		return err
	})
	return st, err
}

// prepare ensures the streams and consumer (with Ensure) or checks that the
// dead-letter stream exists (the worker checks the consumer itself).
func (cfg ProcessConfig) prepare(ctx context.Context, js jetstream.JetStream) error {
	if cfg.Ensure {
		declared, err := subscriptions.Ensure(ctx, js, cfg.StreamSpec, cfg.ConsumerSpec)
		declared.Stream.Log(cfg.Log)
		declared.DeadLetters.Log(cfg.Log)
		if err != nil {
			return err
		}
		cfg.Log.Info("ensured stream, dead-letter stream and consumer", "stream", cfg.StreamSpec.Name, "consumer", cfg.ConsumerSpec.Name)
		return nil
	}
	dlq := subscriptions.DLQStreamName(cfg.Worker.Stream)
	if _, err := js.Stream(ctx, dlq); err != nil {
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			return fmt.Errorf("dead-letter stream %s does not exist: run switchyard subs ensure, or pass --ensure: %w", dlq, subscriptions.ErrNotFound)
		}
		return fmt.Errorf("dead-letter stream %s: %w", dlq, err)
	}
	return nil
}

// run runs the worker until ctx ends, pruning the ledger meanwhile.
func (cfg ProcessConfig) run(ctx context.Context, js jetstream.JetStream, store stores.Store, httpAddr string) error {
	log := cfg.Log
	w, err := New(js, store, cfg.Worker, log, WithRegisterer(cfg.Registry))
	if err != nil {
		return err
	}
	var background sync.WaitGroup
	pruneCtx, stopPrune := context.WithCancel(ctx)
	defer func() { stopPrune(); background.Wait() }()
	if cfg.LedgerRetention > 0 {
		background.Go(func() { PruneLedger(pruneCtx, store, cfg.LedgerRetention, cfg.LedgerPruneInterval, log) })
	}
	log.Info("worker ready", "stream", cfg.Worker.Stream, "sink", stores.Redact(cfg.Sink), "http", httpAddr)
	runErr := w.Run(ctx)
	st := w.Stats()
	log.Info("worker exited", "applied", st.Applied, "skipped", st.Skipped, "duplicates", st.Duplicates,
		"dead_lettered", st.DeadLettered, "failed_batches", st.FailedBatches)
	return runErr
}

// stoppedBeforeReady turns a start-up error caused by the end of ctx into
// a clean exit: a worker asked to stop while it still waited for NATS or
// the store has nothing to drain.
func stoppedBeforeReady(ctx context.Context, err error, log *slog.Logger) error {
	if ctx.Err() != nil {
		log.Info("stopped before the worker was ready", "reason", err)
		return nil
	}
	return err
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

// startOps starts the ops server (or a server that is never started when
// addr is empty) with the NATS and store readiness checks.
func startOps(addr string, reg *prometheus.Registry, log *slog.Logger, nc *atomic.Pointer[nats.Conn], st *atomic.Pointer[stores.Store]) (*ops.Server, error) {
	srv, err := ops.Serve(ops.Config{
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
	if errors.Is(err, ops.ErrListen) {
		return nil, fmt.Errorf("%w: %w", ErrOpsServer, err)
	}
	return srv, err
}

// setRuntime applies the process's garbage collection target and
// GOMAXPROCS, each unless the environment already sets it (GOGC,
// GOMAXPROCS) or it is zero.
func setRuntime(cfg ProcessConfig) {
	if _, set := os.LookupEnv("GOGC"); !set && cfg.GCPercent > 0 {
		debug.SetGCPercent(cfg.GCPercent)
	}
	if _, set := os.LookupEnv("GOMAXPROCS"); !set && cfg.MaxProcs > 0 {
		runtime.GOMAXPROCS(cfg.MaxProcs)
	}
}
