package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard/switchyard/internal/lifecycle"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/subscriptions"
)

// Worker consumes one subscription (a durable pull consumer) into one store.
// Any number of Workers, in one process or many, may share the consumer.
type Worker struct {
	js       jetstream.JetStream
	cfg      Config
	log      *slog.Logger
	prep     preparer
	handler  Handler
	metrics  *Metrics
	counters counters
	running  atomic.Bool
}

// Option adjusts a Worker at construction.
type Option func(*options)

type options struct {
	metrics *Metrics
	reg     prometheus.Registerer
	extra   []Middleware
}

// WithMetrics records the worker's metrics on m (shared by the workers of a
// process).
func WithMetrics(m *Metrics) Option { return func(o *options) { o.metrics = m } }

// WithRegisterer creates the worker's metrics on reg (see NewMetrics).
func WithRegisterer(reg prometheus.Registerer) Option { return func(o *options) { o.reg = reg } }

// WithMiddleware adds middleware around the apply handler, inside the
// standard chain (metrics, retry, recovery, dead-lettering), first outermost.
func WithMiddleware(mws ...Middleware) Option {
	return func(o *options) { o.extra = append(o.extra, mws...) }
}

// New returns a worker that applies the events of cfg.Consumer to sink.
// Zero fields of cfg take their defaults; New fails when the result does not
// Validate or the metrics cannot be registered. It does not contact the
// server: Run does. A nil logger discards logs.
func New(js jetstream.JetStream, sink stores.Writer, cfg Config, log *slog.Logger, opts ...Option) (*Worker, error) {
	if js == nil || sink == nil {
		return nil, errors.New("worker: a JetStream context and a store are required")
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("stream", cfg.Stream, "consumer", cfg.Consumer)
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.metrics == nil && o.reg != nil {
		m, err := NewMetrics(o.reg)
		if err != nil {
			return nil, fmt.Errorf("worker metrics: %w", err)
		}
		o.metrics = m
	}
	var mws []Middleware
	if o.metrics != nil {
		mws = append(mws, o.metrics.Middleware(cfg.Consumer))
	}
	mws = append(mws,
		Retry(cfg.Backoff, log),
		Recover(log),
		NewDeadLetterer(js, cfg, log).Middleware(),
	)
	mws = append(mws, o.extra...)
	return &Worker{
		js:      js,
		cfg:     cfg,
		log:     log,
		prep:    newPreparer(cfg),
		handler: Chain(ApplyHandler(sink), mws...),
		metrics: o.metrics,
	}, nil
}

// Config returns the worker's configuration, defaults applied.
func (w *Worker) Config() Config { return w.cfg }

// Stats returns a snapshot of the worker's counters. It is safe to call
// from any goroutine, while the worker runs or after.
func (w *Worker) Stats() Stats { return w.counters.snapshot() }

// Run binds to the consumer and processes batches until ctx is cancelled,
// then drains: it stops pulling, finishes and acknowledges the batches in
// flight, returns prefetched messages for redelivery, and returns nil.
//
// Config.Grace bounds the drain: when it is over, the store calls still in
// flight are cancelled, their batches left unacknowledged (redelivered to
// another worker), and Run returns an error matching ErrGraceExpired.
//
// Run fails at start with an error matching subscriptions.ErrNotFound when
// the stream or consumer does not exist, ErrVersionSourceMismatch when the
// consumer records another version source, and ErrRunning when the worker
// already runs. Later it fails only when the consumer is deleted or the
// connection is closed for good; server restarts and store outages are
// waited out.
func (w *Worker) Run(ctx context.Context) error {
	if !w.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer w.running.Store(false)
	consumer, err := w.bind(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	w.log.Info("worker started", "batch_size", w.cfg.BatchSize, "concurrency", w.cfg.Concurrency,
		"prefetch", w.cfg.Prefetch, "version_source", w.cfg.VersionSource)

	// Two stages: pull ends with ctx (or a fatal pull error); hard ends
	// Grace after pull, and cancels the store calls still in flight.
	pull, stopPull := context.WithCancel(ctx)
	defer stopPull()
	drain := lifecycle.StartDrain(pull, w.cfg.Grace)
	defer drain.Finish()
	hard := drain.Hard()
	var tasks sync.WaitGroup
	tasks.Go(func() { w.refreshLag(pull, consumer) })

	free := make(chan *Batch, w.cfg.Concurrency+1)
	for range w.cfg.Concurrency + 1 {
		free <- newBatch(w.cfg.BatchSize)
	}
	batches := make(chan *Batch)
	var loops sync.WaitGroup
	for range w.cfg.Concurrency {
		loops.Go(func() {
			for b := range batches {
				w.process(pull, hard, b)
				free <- b
			}
		})
	}
	col := &collector{consumer: consumer, conn: w.js.Conn(), prep: w.prep, cfg: w.cfg, log: w.log}
	pullErr := col.run(pull, hard, free, batches)
	stopPull() // a fatal pull error drains like a cancellation
	loops.Wait()
	graceExpired := drain.Finish()
	tasks.Wait()
	switch {
	case graceExpired:
		w.log.Warn("drain cut short by the grace period; unacknowledged messages will be redelivered", "grace", w.cfg.Grace)
		return fmt.Errorf("worker %s: %w (%v)", w.cfg.Consumer, ErrGraceExpired, w.cfg.Grace)
	case pullErr != nil:
		w.log.Error("worker stopped", "err", pullErr)
		return pullErr
	}
	w.log.Info("worker drained and stopped")
	return nil
}

// bind looks the consumer up, waiting while JetStream is unreachable, and
// checks its recorded version source.
func (w *Worker) bind(ctx context.Context) (jetstream.Consumer, error) {
	policy := lifecycle.Policy{Backoff: w.cfg.Backoff, Log: w.log, Waiting: "waiting for JetStream to look up the consumer"}
	return lifecycle.RetryValue(ctx, policy, func() (jetstream.Consumer, error) {
		c, err := w.js.Consumer(ctx, w.cfg.Stream, w.cfg.Consumer)
		switch {
		case err == nil:
			if rec := c.CachedInfo().Config.Metadata[subscriptions.MetaVersionSource]; rec != "" && rec != string(w.cfg.VersionSource) {
				return nil, lifecycle.Permanent(fmt.Errorf("consumer %s on %s records version source %q, the worker uses %q: %w",
					w.cfg.Consumer, w.cfg.Stream, rec, w.cfg.VersionSource, ErrVersionSourceMismatch))
			}
			return c, nil
		case errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound):
			return nil, lifecycle.Permanent(fmt.Errorf("consumer %s on stream %s: %w: %w", w.cfg.Consumer, w.cfg.Stream, subscriptions.ErrNotFound, err))
		case errors.Is(err, jetstream.ErrInvalidStreamName) || errors.Is(err, jetstream.ErrInvalidConsumerName):
			return nil, lifecycle.Permanent(fmt.Errorf("consumer %s on stream %s: %w", w.cfg.Consumer, w.cfg.Stream, err))
		}
		return nil, err
	})
}

// process handles one prepared batch through the middleware chain and
// settles it: acks after success, naks with the chosen delay after failure
// (then pauses that long, unless draining). The batch is reset for reuse on
// return.
func (w *Worker) process(pull, hard context.Context, b *Batch) {
	defer b.reset()
	start := time.Now()
	err := w.handler(hard, b)
	if err == nil {
		w.ack(b)
		w.counters.record(b, 0, nil, time.Since(start))
		return
	}
	delay := w.cfg.Backoff.Min
	var re *RetryError
	if errors.As(err, &re) {
		delay = re.Delay
	}
	failed := 0
	for i := range b.Messages {
		if m := &b.Messages[i]; m.disposition == Pending {
			_ = m.Msg.NakWithDelay(delay) // if lost, the ack wait redelivers it
			failed++
		}
	}
	w.counters.record(b, failed, err, time.Since(start))
	if hard.Err() == nil {
		_ = lifecycle.Sleep(pull, delay) // do not run the rest of the backlog into the same failure
	}
}

// ack acknowledges every pending message of a committed batch: fire-and-
// forget publishes, pushed out by one flush for the whole batch.
func (w *Worker) ack(b *Batch) {
	var ackErr error
	for i := range b.Messages {
		m := &b.Messages[i]
		switch {
		case m.disposition != Pending:
		case m.Poison != nil:
			// Never acknowledge poison that was not dead-lettered (a chain
			// without the dead-letter middleware): it must come back.
			_ = m.Msg.NakWithDelay(w.cfg.Backoff.Max)
			m.disposition = Requeued
		default:
			if err := m.Msg.Ack(); err != nil && ackErr == nil {
				ackErr = err
			}
		}
	}
	if ackErr == nil {
		ackErr = w.js.Conn().FlushTimeout(w.cfg.FlushTimeout)
	}
	if ackErr != nil {
		// The batch is committed; unacked messages come back and the
		// version fence turns them into no-ops.
		w.log.Warn("acknowledging a committed batch failed; its messages will be redelivered and skipped",
			"messages", len(b.Messages), "err", ackErr)
	}
}

// refreshLag reads the consumer's lag, and the depth of its dead letters,
// every LagInterval until ctx ends.
func (w *Worker) refreshLag(ctx context.Context, consumer jetstream.Consumer) {
	t := time.NewTicker(w.cfg.LagInterval)
	defer t.Stop()
	for {
		info, err := consumer.Info(ctx)
		if err == nil {
			lag := info.NumPending + uint64(info.NumAckPending)
			w.counters.lag.Store(lag)
			w.counters.lagAt.Store(time.Now().UnixNano())
			if w.metrics != nil {
				w.metrics.SetLag(w.cfg.Consumer, lag)
			}
		} else if ctx.Err() == nil {
			w.log.Debug("reading consumer lag failed", "err", err)
		}
		if w.metrics != nil {
			if depth, err := subscriptions.DeadLetterDepth(ctx, w.js, w.cfg.Stream, w.cfg.Consumer); err == nil {
				w.metrics.SetDeadLetters(w.cfg.Consumer, depth)
			} else if ctx.Err() == nil {
				w.log.Debug("reading dead-letter depth failed", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
