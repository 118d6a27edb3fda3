package quickstart

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/controlplane"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/all"
	"github.com/switchyard/switchyard/subscriptions"
	"github.com/switchyard/switchyard/workers"

	_ "github.com/switchyard/switchyard/stores/sqlite" // the quickstart's stores
)

// Run runs the quickstart until ctx ends, then stops it cleanly: the
// producer stops, the workers drain (finish and ack their batches), the
// console and the read demo stop, and the broker shuts down with everything
// on disk for the next run.
//
// The phases, each visible in the live display:
//  1. the broker, the stream and the legacy subscription (into legacy.db)
//     start, and the to-do producer publishes;
//  2. after TargetDelay the target subscription is created, starting at the
//     next event, with its workers (into target.db);
//  3. the backfill waits for the legacy subscription to pass the target's
//     start (the watermark), then copies what only legacy.db holds;
//  4. verify compares both stores;
//  5. the console switches clients' reads, which the read demo follows.
func Run(ctx context.Context, cfg Config) error {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return fmt.Errorf("quickstart folder: %w", err)
	}
	srv, err := startBroker(cfg.Dir, cfg.NATSPort)
	if err != nil {
		return err
	}
	defer func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	}()
	nc, err := nats.Connect(srv.ClientURL(), nats.Name("switchyard-dev"), nats.MaxReconnects(-1))
	if err != nil {
		return fmt.Errorf("connect to the embedded broker: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}

	legacyDSN := "sqlite:" + filepath.Join(cfg.Dir, legacyFile)
	targetDSN := "sqlite:" + filepath.Join(cfg.Dir, targetFile)
	legacy, err := all.Open(ctx, legacyDSN)
	if err != nil {
		return err
	}
	defer legacy.Close()
	target, err := all.Open(ctx, targetDSN)
	if err != nil {
		return err
	}
	defer target.Close()

	if err := ensureLegacy(ctx, js); err != nil {
		return err
	}
	cp, err := controlplane.Open(ctx, js, controlplane.Config{Log: cfg.Log})
	if err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	metrics, err := workers.NewMetrics(reg)
	if err != nil {
		return err
	}
	d := &display{cfg: cfg, js: js, state: cp.State, flags: cp.Flags, startedAt: time.Now()}
	d.phase.Store("starting")

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	spawn := func(name string, fn func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(runCtx); err != nil && !errors.Is(err, context.Canceled) {
				errs <- fmt.Errorf("%s: %w", name, err)
				stop()
			}
		}()
	}

	legacyWorker, err := newWorker(js, legacy, LegacyConsumer, metrics, cfg)
	if err != nil {
		return err
	}
	d.legacy.Store(legacyWorker)
	spawn("legacy worker", legacyWorker.Run)

	prod := newProducer(events.NewPublisher(js, ""))
	d.producer = prod
	spawn("producer", func(ctx context.Context) error { return prod.loop(ctx, cfg.Rate) })

	reads, err := startReads(runCtx, js, cp, legacy, target, reg, cfg)
	if err != nil {
		stop()
		wg.Wait()
		return err
	}
	d.reads = reads
	defer reads.close()

	if cfg.ConsoleAddr != "off" {
		users, err := startConsole(runCtx, cfg, js, cp, reads.router, spawn)
		if err != nil {
			stop()
			wg.Wait()
			return err
		}
		d.consoleURL, d.consoleUsers = "http://"+cfg.ConsoleAddr, users
	}

	spawn("migration", func(ctx context.Context) error {
		return migrate(ctx, js, cp, legacy, target, legacyDSN, targetDSN, metrics, cfg, d, spawn)
	})
	spawn("display", d.loop)

	select {
	case <-ctx.Done():
	case <-runCtx.Done():
	}
	stop()
	wg.Wait()
	close(errs)
	d.final()
	return <-errs // nil when nothing failed
}

// ensureLegacy declares the event stream, its dead-letter stream and the
// legacy subscription, which starts at the stream's first event.
func ensureLegacy(ctx context.Context, js jetstream.JetStream) error {
	_, err := subscriptions.Ensure(ctx, js, subscriptions.StreamSpec{
		Name: Stream, Subjects: []string{events.SubjectFilter("")},
	}, subscriptions.ConsumerSpec{
		Name: LegacyConsumer, Role: "legacy",
		Start: subscriptions.StartPosition{Kind: subscriptions.StartAll}, VersionSource: string(events.VersionFromStream),
	})
	return err
}

func newWorker(js jetstream.JetStream, sink stores.Writer, consumer string, m *workers.Metrics, cfg Config) (*workers.Worker, error) {
	return workers.New(js, sink, workers.Config{
		Stream: Stream, Consumer: consumer, VersionSource: events.VersionFromStream,
		BatchSize: 200, Concurrency: 1, LagInterval: time.Second, Grace: 5 * time.Second,
	}, cfg.Log.With("subscription", consumer), workers.WithMetrics(m))
}
