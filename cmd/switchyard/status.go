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
	source := fs.String("source", "", "source DSN to show (redacted; default: the one the backfill recorded)")
	target := fs.String("target", "", "target DSN to show (redacted; default: the one the backfill recorded)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := fs.NoArgs(); err != nil {
		return err
	}
	env, err := mf.open(ctx, "status", controlplane.StateAndReadStages, *flagsBucket, stderr)
	if err != nil {
		return err
	}
	defer env.nc.Close()
	st, err := migrator.GatherStatus(ctx, migrator.StatusConfig{
		JS: env.js, State: env.cp.State, Stream: mf.stream, ReadStages: env.cp.ReadStages(), Source: *source, Target: *target,
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeIndentedJSON(stdout, st)
	}
	return st.WriteText(stdout)
}
