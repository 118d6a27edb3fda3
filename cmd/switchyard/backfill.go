package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/controlplane"
	"github.com/switchyard/switchyard/migrator"
)

var backfillUsage = usageText("backfill")

func runBackfill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "pause", "resume", "rate":
			return runBackfillControl(ctx, args[0], args[1:], stdout, stderr)
		}
	}
	fs := cli.NewFlagSet("backfill", backfillUsage, stderr)
	var mf migrationFlags
	mf.register(fs)
	var sf cli.StoreFlags
	sf.Register(fs)
	var cfg migrator.BackfillConfig
	fs.Var((*cli.StringList)(&cfg.Entities), "entities", "entities to copy, comma-separated (required)")
	fs.StringVar(&cfg.TargetConsumer, "target-consumer", migrator.DefaultTargetConsumer, "the target subscription (durable consumer); it must exist")
	fs.StringVar(&cfg.LegacyConsumer, "legacy-consumer", migrator.DefaultLegacyConsumer, "the legacy subscription whose position is the watermark")
	fs.BoolVar(&cfg.SkipWatermarkWait, "no-watermark-wait", false, "copy without waiting for the legacy subscription (only when the source is not fed by it)")
	fs.IntVar(&cfg.ChunkRows, "chunk", migrator.DefaultChunkRows, "source rows per work-queue chunk (the unit handed to a copier and checkpointed)")
	fs.IntVar(&cfg.BatchRows, "batch", migrator.DefaultBatchRows, "rows per target write (at most --chunk)")
	fs.IntVar(&cfg.Copiers, "copiers", migrator.DefaultCopiers, "copier goroutines in this process")
	fs.IntVar(&cfg.MaxRate, "max-rate", 0, "max rows per second per process (0: no cap); changeable while running with backfill rate")
	fs.Uint64Var(&cfg.MaxLag, "max-lag", migrator.DefaultMaxLag, "back off while the target subscription's lag is above this (0: off)")
	fs.DurationVar(&cfg.MaxLatency, "max-latency", migrator.DefaultMaxLatency, "back off while one target batch write takes longer (0: off)")
	fs.BoolVar(&cfg.Restart, "restart", false, "forget the checkpoints and queued chunks and start over")
	dryRun := fs.Bool("dry-run", false, "scan and count what would be copied; write nothing")
	fs.StringVar(&cfg.WorkStream, "work-stream", migrator.DefaultWorkStream, "work-queue stream that hands out chunks")
	fs.DurationVar(&cfg.AckWait, "ack-wait", migrator.DefaultChunkAckWait, "a chunk without a heartbeat for this long goes to another copier")
	asJSON := fs.Bool("json", false, "print the final report as JSON")
	httpAddr := fs.String("http", "", "serve /metrics (rows, rate, progress), /healthz and /readyz on this address while copying, such as :9090")
	if err := fs.ParseFlags(args); err != nil {
		return err
	}
	if err := cmp.Or(sf.ValidateCopy("backfill", cfg.Entities), cfg.Validate()); err != nil {
		return err
	}
	if cfg.Restart && *dryRun {
		return cli.Usagef("backfill: --restart and --dry-run exclude each other")
	}
	env, err := mf.openCopy(ctx, "backfill", &sf, *httpAddr, stderr)
	if err != nil {
		return err
	}
	defer env.close(ctx)
	cfg.Source, cfg.Target, cfg.SourceName, cfg.TargetName, cfg.JS, cfg.State = env.src, env.dst, sf.Source, sf.Target, env.js, env.cp.State
	cfg.Stream, cfg.WorkStreamReplicas, cfg.Log, cfg.Progress = mf.stream, mf.replicas, env.log, env.progress
	if *dryRun {
		rep, err := migrator.DryRun(ctx, cfg)
		return cli.PrintReport(stdout, *asJSON, rep, err)
	}
	rep, err := migrator.Backfill(ctx, cfg)
	return cli.PrintReport(stdout, *asJSON, rep, err)
}

// runBackfillControl pauses, resumes or re-rates the running copiers.
func runBackfillControl(ctx context.Context, action string, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("backfill "+action, backfillUsage, stderr)
	var mf migrationFlags
	mf.register(fs)
	change := migrator.BackfillAction{Action: action}
	fs.StringVar(&change.Reason, "reason", "", "why (recorded with the change)")
	// The rate may come before or after the flags.
	var rateArg []string
	if action == "rate" && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		rateArg, args = args[:1], args[1:]
	}
	err := fs.Parse(args)
	switch {
	case err != nil:
		return err
	case action == "rate":
		change.MaxRate, err = migrator.ParseBackfillRate(append(rateArg, fs.Args()...))
	default:
		err = fs.NoArgs()
	}
	if err != nil {
		return err
	}
	env, err := mf.open(ctx, "backfill "+action, controlplane.StateOnly, "", stderr)
	if err != nil {
		return err
	}
	defer env.nc.Close()
	c, err := env.cp.State.ControlBackfill(ctx, change)
	if err == nil {
		fmt.Fprintf(stdout, "%s (applies to running copiers within a second)\n", c)
	}
	return err
}
