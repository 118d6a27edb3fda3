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

const backfillUsage = `backfill --source DSN --target DSN --entities a,b [flags]
       backfill pause [--reason R] | resume | rate ROWS_PER_SECOND

Copies every record of the entities from the source (legacy) store to the
target store with insert-if-absent writes at the source versions, after the
legacy subscription processed every event published before the target
subscription was created (the watermark). Checkpoints live in the state
bucket: run it again after a crash or Ctrl-C to resume; run it in several
processes to share the copy. pause, resume and rate steer every running
copier through the state bucket. See docs/backfill.md.`

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
	var sf storeFlags
	sf.register(fs)
	var entities cli.StringList
	fs.Var(&entities, "entities", "entities to copy, comma-separated (required)")
	targetConsumer := fs.String("target-consumer", "target", "the target subscription (durable consumer); it must exist")
	legacyConsumer := fs.String("legacy-consumer", "legacy", "the legacy subscription whose position is the watermark")
	noWait := fs.Bool("no-watermark-wait", false, "copy without waiting for the legacy subscription (only when the source is not fed by it)")
	chunk := fs.Int("chunk", 10000, "source rows per work-queue chunk (the unit handed to a copier and checkpointed)")
	batch := fs.Int("batch", 1000, "rows per target write (at most --chunk)")
	copiers := fs.Int("copiers", 2, "copier goroutines in this process")
	maxRate := fs.Int("max-rate", 0, "max rows per second per process (0: no cap); changeable while running with backfill rate")
	maxLag := fs.Uint64("max-lag", 10000, "back off while the target subscription's lag is above this (0: off)")
	maxLatency := fs.Duration("max-latency", 2*time.Second, "back off while one target batch write takes longer (0: off)")
	restart := fs.Bool("restart", false, "forget the checkpoints and queued chunks and start over")
	dryRun := fs.Bool("dry-run", false, "scan and count what would be copied; write nothing")
	workStream := fs.String("work-stream", migrator.DefaultWorkStream, "work-queue stream that hands out chunks")
	ackWait := fs.Duration("ack-wait", 30*time.Second, "a chunk without a heartbeat for this long goes to another copier")
	asJSON := fs.Bool("json", false, "print the final report as JSON")
	httpAddr := fs.String("http", "", "serve /metrics (rows, rate, progress), /healthz and /readyz on this address while copying, such as :9090")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := fs.NoArgs(); err != nil {
		return err
	}
	if err := sf.validate("backfill"); err != nil {
		return err
	}
	if err := validEntities("backfill", entities); err != nil {
		return err
	}
	switch {
	case *chunk < 1:
		return cli.Usagef("backfill: --chunk must be at least 1, got %d", *chunk)
	case *batch < 1:
		return cli.Usagef("backfill: --batch must be at least 1, got %d", *batch)
	case *copiers < 1 || *copiers > 64:
		return cli.Usagef("backfill: --copiers must be between 1 and 64, got %d", *copiers)
	case *maxRate < 0:
		return cli.Usagef("backfill: --max-rate must not be negative, got %d", *maxRate)
	case *maxLatency < 0 || *ackWait < time.Second:
		return cli.Usagef("backfill: --max-latency must not be negative and --ack-wait must be at least 1s")
	case *targetConsumer == "":
		return cli.Usagef("backfill: --target-consumer is required")
	case *legacyConsumer == "" && !*noWait:
		return cli.Usagef("backfill: --legacy-consumer is required unless --no-watermark-wait")
	case *restart && *dryRun:
		return cli.Usagef("backfill: --restart and --dry-run exclude each other")
	}

	nc, js, state, log, err := mf.connect(ctx, "backfill", stderr)
	if err != nil {
		return err
	}
	defer nc.Close()
	src, dst, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer src.Close()
	defer dst.Close()

	metrics, stopOps, err := startMigrationOps(ctx, *httpAddr, nc, log)
	if err != nil {
		return err
	}
	defer stopOps()
	cfg := migrator.BackfillConfig{
		Source: src, Target: dst, SourceName: sf.source, TargetName: sf.target, Entities: entities,
		JS: js, State: state, Stream: mf.stream, TargetConsumer: *targetConsumer, LegacyConsumer: *legacyConsumer,
		SkipWatermarkWait: *noWait, ChunkRows: *chunk, BatchRows: *batch, Copiers: *copiers, Restart: *restart,
		WorkStream: *workStream, WorkStreamReplicas: mf.replicas, AckWait: *ackWait, MaxRate: *maxRate, MaxLag: *maxLag, MaxLatency: *maxLatency,
		Log: log, Progress: migrator.NewProgress(stderrFile(stderr), log, 10*time.Second).WithMetrics(metrics),
	}
	if *dryRun {
		rep, err := migrator.DryRun(ctx, cfg)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeIndentedJSON(stdout, rep)
		}
		fmt.Fprintf(stdout, "dry run: nothing written\nwatermark %d: %s", rep.Watermark, rep.WatermarkState)
		if !rep.WatermarkPassed {
			fmt.Fprint(stdout, " (a backfill would wait)")
		}
		fmt.Fprintln(stdout)
		for _, e := range rep.Entities {
			fmt.Fprintf(stdout, "%-20s %d source rows (%d tombstones): would insert %d, skip %d already in the target\n",
				e.Entity, e.Rows, e.Tombstones, e.WouldInsert, e.WouldSkip)
		}
		return nil
	}
	rep, err := migrator.Backfill(ctx, cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeIndentedJSON(stdout, rep)
	}
	fmt.Fprintf(stdout, "backfill %s complete (watermark %d); this process copied %d rows in %s\n",
		rep.Run.ID, rep.Run.Watermark, rep.RowsThisProcess, rep.Elapsed.Round(time.Millisecond))
	for _, p := range rep.Entities {
		fmt.Fprintf(stdout, "%-20s %d rows: %d inserted, %d already in the target, %d tombstones, %d rejected\n",
			p.Entity, p.Scanned, p.Inserted, p.Skipped, p.Tombstones, p.Rejected)
	}
	fmt.Fprintln(stdout, "next: switchyard verify --source ... --target ... --entities", strings.Join(rep.Run.Entities, ","))
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
		case "pause":
			c.Paused = true
		case "resume":
			c.Paused = false
		case "rate":
			c.MaxRate = rate
		}
		c.Reason = *reason
	})
	if err != nil {
		return err
	}
	running := "running"
	if c.Paused {
		running = "paused"
	}
	rateCap := "no rate cap"
	if c.MaxRate > 0 {
		rateCap = fmt.Sprintf("max %d rows/s per process", c.MaxRate)
	}
	fmt.Fprintf(stdout, "backfill %s, %s (applies to running copiers within a second)\n", running, rateCap)
	return nil
}
