package main

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/controlplane"
	"github.com/switchyard/switchyard/internal/ops"
	"github.com/switchyard/switchyard/migrator"
)

// controlEnv is what a migration command opened of the control plane.
type controlEnv struct {
	nc  *nats.Conn
	js  jetstream.JetStream
	cp  *controlplane.ControlPlane
	log *slog.Logger
}

// open builds the logger, connects to NATS and opens parts of the control
// plane: the state bucket (only if it exists when readOnly), and the flag
// store in flagsBucket for StateAndReadStages.
func (f *migrationFlags) open(ctx context.Context, name string, parts controlplane.Parts, flagsBucket string, stderr io.Writer) (*controlEnv, error) {
	log, err := cli.NewLogger(stderr, f.logFormat, f.logLevel)
	if err != nil {
		return nil, err
	}
	if !f.readOnly && (f.replicas < 1 || f.replicas > 5) {
		return nil, cli.Usagef("--replicas %d must be 1 to 5", f.replicas)
	}
	f.nats.Name = "switchyard " + name
	nc, js, err := f.nats.Connect(ctx, log)
	if err != nil {
		return nil, err
	}
	cp, err := controlplane.Open(ctx, js, controlplane.Config{
		Parts: parts, MigrationBucket: f.bucket, FlagsBucket: flagsBucket, Replicas: f.replicas, MustExist: f.readOnly, Log: log,
	})
	if err != nil {
		nc.Close()
		return nil, err
	}
	return &controlEnv{nc: nc, js: js, cp: cp, log: log}, nil
}

// startMigrationOps serves /metrics, /healthz and /readyz for a backfill or
// verify on addr (nothing when addr is empty) and returns the progress
// metrics to attach to its Progress, and a function that stops the server.
func startMigrationOps(ctx context.Context, addr string, nc *nats.Conn, log *slog.Logger) (*migrator.ProgressMetrics, func(), error) {
	reg := processRegistry()
	metrics, err := migrator.NewProgressMetrics(reg)
	if err != nil {
		return nil, nil, err
	}
	if addr == "" {
		return metrics, func() {}, nil
	}
	srv, err := ops.New(ops.Config{Addr: addr, Gatherer: reg, Log: log, Checks: []ops.Check{ops.NATSConnected("nats", nc)}})
	if err != nil {
		return nil, nil, err
	}
	if err := srv.Start(); err != nil {
		return nil, nil, cli.Usagef("--http: %v", err)
	}
	stop := func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			log.Warn("ops server shutdown", "err", err)
		}
	}
	return metrics, stop, nil
}

// processRegistry returns a fresh registry (never the global one) holding
// the Go runtime and process collectors every command's /metrics exports.
func processRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}
