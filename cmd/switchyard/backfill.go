package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/internal/cli"
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
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkBackfill(&sf, &cfg, *dryRun); err != nil {
		return err
	}
	env, err := openMigration(ctx, "backfill", &mf, &sf, *httpAddr, stderr)
	if err != nil {
		return err
	}
	defer env.close()
	cfg.Source, cfg.Target, cfg.SourceName, cfg.TargetName, cfg.JS, cfg.State = env.src, env.dst, sf.Source, sf.Target, env.js, env.state
	cfg.Stream, cfg.WorkStreamReplicas, cfg.Log, cfg.Progress = mf.stream, mf.replicas, env.log, env.progress(stderr)
	if *dryRun {
		rep, err := migrator.DryRun(ctx, cfg)
		if err != nil {
			return err
		}
		return printResult(stdout, *asJSON, rep, rep.WriteText)
	}
	rep, err := migrator.Backfill(ctx, cfg)
	if err != nil {
		return err
	}
	return printResult(stdout, *asJSON, rep, rep.WriteText)
}

// checkBackfill checks the flags of a backfill.
func checkBackfill(sf *cli.StoreFlags, cfg *migrator.BackfillConfig, dryRun bool) error {
	if err := sf.Validate("backfill"); err != nil {
		return err
	}
	if err := cli.ValidEntities("backfill", cfg.Entities); err != nil {
		return err
	}
	switch {
	case cfg.ChunkRows < 1:
		return cli.Usagef("backfill: --chunk must be at least 1, got %d", cfg.ChunkRows)
	case cfg.BatchRows < 1:
		return cli.Usagef("backfill: --batch must be at least 1, got %d", cfg.BatchRows)
	case cfg.Copiers < 1 || cfg.Copiers > 64:
		return cli.Usagef("backfill: --copiers must be between 1 and 64, got %d", cfg.Copiers)
	case cfg.MaxRate < 0:
		return cli.Usagef("backfill: --max-rate must not be negative, got %d", cfg.MaxRate)
	case cfg.MaxLatency < 0 || cfg.AckWait < time.Second:
		return cli.Usagef("backfill: --max-latency must not be negative and --ack-wait must be at least 1s")
	case cfg.TargetConsumer == "":
		return cli.Usagef("backfill: --target-consumer is required")
	case cfg.LegacyConsumer == "" && !cfg.SkipWatermarkWait:
		return cli.Usagef("backfill: --legacy-consumer is required unless --no-watermark-wait")
	case cfg.Restart && dryRun:
		return cli.Usagef("backfill: --restart and --dry-run exclude each other")
	}
	return nil
}

func runBackfillControl(ctx context.Context, action string, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("backfill "+action, backfillUsage, stderr)
	var mf migrationFlags
	mf.register(fs)
	reason := fs.String("reason", "", "why (recorded with the change)")
	// The rate may come before or after the flags.
	var rateArg []string
	if action == "rate" && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		rateArg, args = args[:1], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	var rate int
	if action == "rate" {
		rateArg = append(rateArg, fs.Args()...)
		if len(rateArg) != 1 {
			return cli.Usagef("backfill rate: give one number of rows per second (0 removes the cap)")
		}
		n, err := strconv.Atoi(rateArg[0])
		if err != nil || n < 0 {
			return cli.Usagef("backfill rate: %q is not a non-negative number of rows per second", rateArg[0])
		}
		rate = n
	} else if err := fs.NoArgs(); err != nil {
		return err
	}
	nc, _, state, _, err := mf.connect(ctx, "backfill "+action, stderr)
	if err != nil {
		return err
	}
	defer nc.Close()
	c, err := state.UpdateBackfillControl(ctx, func(c *migrator.BackfillControl) {
		switch action {
		case "pause", "resume":
			c.Paused = action == "pause"
		case "rate":
			c.MaxRate = rate
		}
		c.Reason = *reason
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s (applies to running copiers within a second)\n", c)
	return nil
}
