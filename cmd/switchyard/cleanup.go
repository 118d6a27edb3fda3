package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/controlplane"
	"github.com/switchyard/switchyard/migrator"
)

var cleanupUsage = usageText("cleanup")

func runCleanup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runCleanupWith(ctx, args, os.Stdin, stdout, stderr)
}

// cleanupFlags are what cleanup takes from its command line.
type cleanupFlags struct {
	mf                   migrationFlags
	cfg                  migrator.CleanupConfig
	flagsBucket, confirm string
	force, check         bool
}

func (f *cleanupFlags) parse(args []string, stderr io.Writer) error {
	fs := cli.NewFlagSet("cleanup", cleanupUsage, stderr)
	f.mf.register(fs)
	fs.StringVar(&f.cfg.LegacyConsumer, "legacy-consumer", "", "the legacy subscription (durable consumer) to remove (required)")
	fs.StringVar(&f.cfg.TargetConsumer, "target-consumer", "", "the target subscription (default: the one the backfill recorded)")
	fs.Uint64Var(&f.cfg.MaxLag, "max-lag", 0, "highest target subscription lag that passes")
	fs.DurationVar(&f.cfg.MaxVerifyAge, "max-verify-age", migrator.DefaultMaxVerifyAge, "how old the last verify may be")
	fs.StringVar(&f.flagsBucket, "flags-bucket", flags.DefaultBucket, "flag bucket whose read stages are checked (empty: flags not in use)")
	fs.BoolVar(&f.force, "force", false, "remove the subscription although a condition fails (needs --reason and confirmation)")
	fs.StringVar(&f.cfg.Reason, "reason", "", "why cleanup is forced; recorded in the state bucket")
	fs.StringVar(&f.confirm, "confirm", "", "the consumer's name, to confirm --force when stdin is not a terminal")
	fs.BoolVar(&f.check, "check", false, "print the readiness gate and remove nothing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := fs.NoArgs(); err != nil {
		return err
	}
	switch {
	case f.cfg.LegacyConsumer == "":
		return cli.Usagef("cleanup: --legacy-consumer is required")
	case f.cfg.MaxVerifyAge <= 0:
		return cli.Usagef("cleanup: --max-verify-age must be positive, got %s", f.cfg.MaxVerifyAge)
	case f.force && strings.TrimSpace(f.cfg.Reason) == "":
		return cli.Usagef("cleanup: --force requires --reason (it is recorded)")
	case f.force && f.check:
		return cli.Usagef("cleanup: --force and --check exclude each other")
	}
	return nil
}

func runCleanupWith(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var f cleanupFlags
	if err := f.parse(args, stderr); err != nil {
		return err
	}
	env, err := f.mf.open(ctx, "cleanup", controlplane.StateAndReadStages, f.flagsBucket, stderr)
	if err != nil {
		return err
	}
	defer env.nc.Close()
	cfg := f.cfg
	cfg.JS, cfg.State, cfg.Stream, cfg.ReadStages, cfg.Operator = env.js, env.cp.State, f.mf.stream, env.cp.ReadStages(), cli.Operator()
	conds, err := migrator.CheckReadiness(ctx, cfg)
	if err != nil {
		return err
	}
	switch passed := migrator.WriteReadiness(stdout, conds); {
	case f.check && !passed:
		return fmt.Errorf("%w; nothing removed", &migrator.GateError{Conditions: conds})
	case f.check:
		fmt.Fprintln(stdout, "the gate passes; run without --check to remove", cfg.LegacyConsumer)
		return nil
	case !passed && !f.force:
		return fmt.Errorf("%w; nothing removed (override with --force --reason R)", &migrator.GateError{Conditions: conds})
	case !passed:
		if err := cli.ConfirmForce(stdin, stdout, "cleanup", cfg.LegacyConsumer, f.confirm); err != nil {
			return err
		}
		cfg.Force = true
	}
	rec, err := migrator.Cleanup(ctx, cfg)
	if err != nil {
		return err
	}
	forced := ""
	if rec.Forced {
		forced = " (forced: " + rec.Reason + ")"
	}
	fmt.Fprintf(stdout, "removed the legacy subscription %s on %s%s; the migration is cleaned-up\n", rec.Consumer, rec.Stream, forced)
	return nil
}
