package main

import (
	"context"
	"io"
	"os"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/controlplane"
	"github.com/switchyard/switchyard/migrator"
)

var cleanupUsage = usageText("cleanup")

func runCleanup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runCleanupWith(ctx, args, os.Stdin, stdout, stderr)
}

func runCleanupWith(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("cleanup", cleanupUsage, stderr)
	var mf migrationFlags
	mf.register(fs)
	var g migrator.GatedCleanup
	cfg := &g.Config
	fs.StringVar(&cfg.LegacyConsumer, "legacy-consumer", "", "the legacy subscription (durable consumer) to remove (required)")
	fs.StringVar(&cfg.TargetConsumer, "target-consumer", "", "the target subscription (default: the one the backfill recorded)")
	fs.Uint64Var(&cfg.MaxLag, "max-lag", 0, "highest target subscription lag that passes")
	fs.DurationVar(&cfg.MaxVerifyAge, "max-verify-age", migrator.DefaultMaxVerifyAge, "how old the last verify may be")
	flagsBucket := fs.String("flags-bucket", flags.DefaultBucket, "flag bucket whose read stages are checked (empty: flags not in use)")
	fs.BoolVar(&cfg.Force, "force", false, "remove the subscription although a condition fails (needs --reason and confirmation)")
	fs.StringVar(&cfg.Reason, "reason", "", "why cleanup is forced; recorded in the state bucket")
	confirm := fs.String("confirm", "", "the consumer's name, to confirm --force when stdin is not a terminal")
	fs.BoolVar(&g.CheckOnly, "check", false, "print the readiness gate and remove nothing")
	if err := fs.ParseFlags(args); err != nil {
		return err
	}
	if err := g.Validate(); err != nil {
		return err
	}
	env, err := mf.open(ctx, "cleanup", controlplane.StateAndReadStages, *flagsBucket, stderr)
	if err != nil {
		return err
	}
	defer env.nc.Close()
	cfg.JS, cfg.State, cfg.Stream, cfg.ReadStages, cfg.Operator = env.js, env.cp.State, mf.stream, env.cp.ReadStages(), cli.Operator()
	g.Confirm = func() error { return cli.ConfirmForce(stdin, stdout, "cleanup", cfg.LegacyConsumer, *confirm) }
	return g.Run(ctx, stdout)
}
