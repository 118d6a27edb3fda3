package main

import (
	"context"
	"io"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/controlplane"
	"github.com/switchyard/switchyard/migrator"
)

var statusUsage = usageText("status")

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("status", statusUsage, stderr)
	mf := migrationFlags{readOnly: true}
	mf.register(fs)
	flagsBucket := fs.String("flags-bucket", flags.DefaultBucket, "flag bucket whose read stages are counted (empty: flags not in use)")
	var cfg migrator.StatusConfig
	fs.StringVar(&cfg.Source, "source", "", "source DSN to show (redacted; default: the one the backfill recorded)")
	fs.StringVar(&cfg.Target, "target", "", "target DSN to show (redacted; default: the one the backfill recorded)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.ParseFlags(args); err != nil {
		return err
	}
	env, err := mf.open(ctx, "status", controlplane.StateAndReadStages, *flagsBucket, stderr)
	if err != nil {
		return err
	}
	defer env.nc.Close()
	cfg.JS, cfg.State, cfg.Stream, cfg.ReadStages = env.js, env.cp.State, mf.stream, env.cp.ReadStages()
	st, err := migrator.GatherStatus(ctx, cfg)
	return cli.PrintReport(stdout, *asJSON, st, err)
}
