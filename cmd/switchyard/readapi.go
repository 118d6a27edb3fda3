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
	cfg.RegisterFlags(fs)
	fs.DurationVar(&f.cp.FlushInterval, "stats-flush-interval", flags.DefaultFlushInterval, "how often shadow counters and seen clients are written to NATS")
	if err := fs.ParseFlags(args); err != nil {
		return err
	}
	if f.cp.FlushInterval <= 0 {
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
	defer env.close(ctx)
	if err := srv.Serve(ctx, reads.ControlPlane{JS: env.js, FlagsBucket: f.cp.FlagsBucket, Flags: env.cp.Flags, Shadow: env.cp.Shadow,
		Samples: env.cp.Samples, Clients: env.cp.Registry, Metrics: ops.NewProcessRegistry(), Log: env.log}); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "read API stopped")
	return nil
}
