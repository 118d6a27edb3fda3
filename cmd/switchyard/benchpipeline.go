package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/switchyard/switchyard/internal/benchpipeline"
	"github.com/switchyard/switchyard/internal/cli"
)

var benchPipelineUsage = usageText("bench-pipeline")

func runBenchPipeline(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("bench-pipeline", benchPipelineUsage, stderr)
	var cfg benchpipeline.Config
	fs.StringVar(&cfg.PostgresDSN, "pg", "", "PostgreSQL DSN (required); ${env:NAME} and ${file:PATH} are resolved")
	fs.IntVar(&cfg.Events, "events", 200_000, "events the worker applies")
	fs.IntVar(&cfg.Keys, "keys", 50_000, "distinct records")
	fs.IntVar(&cfg.Size, "size", 300, "approximate event size in bytes")
	fs.IntVar(&cfg.Backlog, "backlog", 1_000_000, "stream depth for the memory measurement; -1 skips it")
	fs.DurationVar(&cfg.BacklogDuration, "backlog-duration", 20*time.Second, "how long the worker runs on the backlog")
	fs.IntVar(&cfg.PerMessageEvents, "per-message-events", 10_000, "events applied one per transaction for the comparison")
	fs.IntVar(&cfg.BatchSize, "batch-size", 500, "worker batch size")
	fs.IntVar(&cfg.Concurrency, "concurrency", 2, "batches the worker applies at once")
	fs.IntVar(&cfg.Rounds, "rounds", 2, "alternating rounds of the PostgreSQL worker run and raw ceiling; the best of each counts")
	fs.BoolVar(&cfg.SkipSQLite, "skip-sqlite", false, "do not measure SQLite")
	scale := fs.String("scale", "1,2,4", "numbers of worker processes sharing one consumer, comma-separated; 0 skips")
	fs.IntVar(&cfg.BackfillRows, "backfill-rows", 0, "rows of the backfill-against-COPY measurement (default --events); -1 skips it")
	fs.IntVar(&cfg.BackfillBatch, "backfill-batch", 5000, "backfill rows per Apply")
	fs.IntVar(&cfg.BackfillCopiers, "backfill-copiers", 4, "backfill Apply calls in flight")
	fs.StringVar(&cfg.Dir, "dir", "", "folder for the embedded server and SQLite files (default: a temporary one)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.ParseFlags(args); err != nil {
		return err
	}
	var err error
	switch cfg.Scale, err = benchpipeline.ParseScale(*scale); {
	case cfg.PostgresDSN == "":
		return cli.Usagef("bench-pipeline: --pg is required")
	case err != nil:
		return cli.Usagef("bench-pipeline: --scale %v", err)
	case cfg.Backlog == 0:
		return cli.Usagef("bench-pipeline: --backlog must be at least --events, or -1 to skip")
	}
	if cfg.WorkerBinary, err = os.Executable(); err != nil {
		return fmt.Errorf("find this binary to run the worker: %w", err)
	}
	cfg.Log = stderr
	if err := cfg.WithDefaults().Validate(); err != nil {
		return cli.Usagef("%v", err)
	}
	rep, err := benchpipeline.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if err := cli.PrintResult(stdout, *asJSON, rep, func(w io.Writer) error { rep.Print(w); return nil }); err != nil {
		return err
	}
	if !rep.Met() {
		return cli.CheckFailedf("a pipeline target was missed (see the report)")
	}
	return nil
}
