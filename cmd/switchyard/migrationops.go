package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/ops"
	"github.com/switchyard/switchyard/migrator"
)

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
