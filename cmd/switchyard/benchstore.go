package main

import (
	"context"
	"fmt"
	"io"

	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/all"
	"github.com/switchyard/switchyard/stores/storebench"
)

var benchStoreUsage = usageText("bench-store")

func runBenchStore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("bench-store", benchStoreUsage, stderr)
	var cfg storebench.Config
	dsn := fs.String("dsn", "", "DSN of the store to measure (required); ${env:NAME} and ${file:PATH} are resolved")
	fs.IntVar(&cfg.Rows, "rows", 100_000, "rows each phase writes or reads")
	fs.IntVar(&cfg.Batch, "batch", 500, "writes per Apply call")
	fs.StringVar(&cfg.Entity, "entity", "", "entity (table) to write; default bench_<UTC start time>")
	fs.IntVar(&cfg.ScanChunk, "scan-chunk", 1000, "rows per Scan call")
	fs.IntVar(&cfg.ChecksumChunk, "checksum-chunk", 10_000, "rows per Checksum call")
	fs.IntVar(&cfg.Concurrency, "concurrency", 1, "Apply calls in flight in the write phases (like workers sharing a consumer)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.ParseFlags(args); err != nil {
		return err
	}
	if *dsn == "" {
		return cli.Usagef("bench-store: --dsn is required")
	} else if err := cfg.Validate(); err != nil {
		return cli.Usagef("bench-store: %v", err)
	}
	st, err := all.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	name := stores.Redact(*dsn)
	fmt.Fprintf(stderr, "bench-store: measuring %s\n", name)
	rep, err := storebench.Run(ctx, st, cfg)
	if err != nil {
		return fmt.Errorf("store %s: %w", name, err)
	}
	return cli.PrintResult(stdout, *asJSON, rep.Summary(name), func(w io.Writer) error {
		fmt.Fprintf(w, "store %s\n", name)
		rep.Print(w)
		return nil
	})
}
