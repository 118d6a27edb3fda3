package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/ops"
	"github.com/switchyard/switchyard/reads"
	"github.com/switchyard/switchyard/stores/all"
)

var readAPIUsage = usageText("read-api")

func runReadAPI(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("read-api", readAPIUsage, stderr)
	f := flagsFlags{longRunning: true}
	f.register(fs, "info")
	cfg := reads.DefaultServerConfig()
	cfg.Adapters = all.Adapters
	registerReadAPIFlags(fs, &cfg)
	fs.DurationVar(&f.flushInterval, "stats-flush-interval", flags.DefaultFlushInterval, "how often shadow counters and seen clients are written to NATS")
	if err := fs.ParseFlags(args); err != nil {
		return err
	}
	if f.flushInterval <= 0 {
		return cli.Usagef("read-api: --stats-flush-interval must be positive")
	}
	srv, err := reads.Open(ctx, cfg)
	if ie := (*flags.InvalidError)(nil); errors.As(err, &ie) {
		return cli.Usagef("read-api: --%s %s", ie.Field, ie.Reason)
	} else if err != nil {
		return err
	}
	env, err := f.open(ctx, "read-api", stderr)
	if err != nil {
		_ = srv.Close()
		return err
	}
	defer env.close()
	if err := srv.Serve(ctx, reads.ControlPlane{JS: env.js, FlagsBucket: f.bucket, Flags: env.store, Shadow: env.shadow,
		Samples: env.samples, Clients: env.registry, Metrics: ops.NewProcessRegistry(), Log: env.log}); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "read API stopped")
	return nil
}

// registerReadAPIFlags binds the read API's flags to cfg, whose values are
// their defaults.
func registerReadAPIFlags(fs *cli.FlagSet, cfg *reads.ServerConfig) {
	fs.StringVar(&cfg.Listen, "listen", cfg.Listen, "address to serve on; give :8081 to serve every interface")
	fs.StringVar(&cfg.AccessFile, "access-file", "", "JSON file of the callers, their tokens or certificate names, and the clients each may read (required)")
	fs.DurationVar(&cfg.AccessReload, "access-reload", cfg.AccessReload, "how often --access-file is read again (a mounted secret changes in place)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "PEM certificate to serve HTTPS with (with --tls-key)")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.StringVar(&cfg.ClientCA, "client-ca", "", "PEM CA bundle that signs client certificates; enables mutual TLS (needs --tls-cert)")
	fs.DurationVar(&cfg.HTTPReadTimeout, "http-read-timeout", cfg.HTTPReadTimeout, "longest the server waits to read a whole request")
	fs.DurationVar(&cfg.HTTPWriteTimeout, "http-write-timeout", 0, "longest the server takes to write a response (default: --request-timeout plus 5s)")
	fs.DurationVar(&cfg.HTTPIdleTimeout, "http-idle-timeout", cfg.HTTPIdleTimeout, "how long an idle keep-alive connection stays open")
	fs.StringVar(&cfg.Legacy, "legacy", "", "DSN of the legacy store (required; secrets as ${env:NAME} or ${file:PATH})")
	fs.StringVar(&cfg.Target, "target", "", "DSN of the target store (required)")
	fs.DurationVar(&cfg.ShadowBudget, "shadow-budget", cfg.ShadowBudget, "time a background shadow read may take before it counts as an error")
	fs.IntVar(&cfg.MaxShadowInFlight, "max-shadow-in-flight", cfg.MaxShadowInFlight, "concurrent shadow reads; beyond it shadow reads are dropped and counted")
	fs.IntVar(&cfg.MismatchSamples, "mismatch-samples", cfg.MismatchSamples, "recent mismatching keys kept for /v1/_mismatches")
	fs.DurationVar(&cfg.SettleDelay, "settle-delay", cfg.SettleDelay, "wait before a differing key is read again, so events in flight land first; raise it above the subscriptions' usual lag")
	fs.IntVar(&cfg.SettleChecks, "settle-checks", cfg.SettleChecks, "re-reads of a key that keeps changing before it counts as unsettled")
	fs.BoolVar(&cfg.Repair, "repair", false, "re-copy a mismatching key from legacy to the target after a shadow mismatch")
	fs.Float64Var(&cfg.AutoRollbackErrorRate, "auto-rollback-error-rate", 0, "roll a client back to legacy when this share (0..1) of its target reads fail; 0 disables")
	fs.Int64Var(&cfg.AutoRollbackMinReads, "auto-rollback-min-reads", cfg.AutoRollbackMinReads, "target reads in a window before the error rate counts")
	fs.DurationVar(&cfg.AutoRollbackWindow, "auto-rollback-window", cfg.AutoRollbackWindow, "window of the automatic rollback's error rate")
	fs.IntVar(&cfg.MaxInFlight, "max-in-flight", cfg.MaxInFlight, "concurrent reads; beyond it requests get 503 with Retry-After")
	fs.DurationVar(&cfg.RequestTimeout, "request-timeout", cfg.RequestTimeout, "longest the serving store may take to answer one read; past it the read gets 504 and counts as a store failure")
	fs.DurationVar(&cfg.ShutdownGrace, "shutdown-grace", cfg.ShutdownGrace, "how long open requests and shadow reads may finish at shutdown")
}
