package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/cli"
)

var publishUsage = usageText("publish")

func runPublish(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("publish", publishUsage, stderr)
	var natsFlags cli.NATSFlags
	natsFlags.Register(fs)
	cfg := events.LoadConfig{Invalid: func(n int, err error) { fmt.Fprintf(stderr, "line %d: %v\n", n, err) }}
	fs.StringVar(&cfg.Name, "file", "-", "JSON-lines file of events; - means stdin")
	prefix := fs.String("prefix", events.DefaultSubjectPrefix, "subject prefix")
	fs.IntVar(&cfg.Chunk, "chunk", 1000, "events per pipelined publish (1 to 4000)")
	fs.IntVar(&cfg.MaxEventBytes, "max-event-bytes", events.DefaultMaxEventBytes, "largest accepted event, in bytes")
	dryRun := fs.Bool("dry-run", false, "validate only; publish nothing")
	if err := fs.ParseFlags(args); err != nil {
		return err
	}
	switch {
	case !events.ValidPrefix(*prefix):
		return cli.Usagef("--prefix %q is not a subject prefix (dot-separated tokens, no wildcards or spaces)", *prefix)
	case cfg.Chunk < 1 || cfg.Chunk > 4000:
		return cli.Usagef("--chunk %d is not between 1 and 4000", cfg.Chunk)
	case cfg.MaxEventBytes < 1:
		return cli.Usagef("--max-event-bytes %d must be positive", cfg.MaxEventBytes)
	}
	in := io.Reader(os.Stdin)
	if cfg.Name != "-" {
		f, err := os.Open(cfg.Name)
		if err != nil {
			return cli.Usagef("--file: %v", err)
		}
		defer f.Close()
		in = f
	}
	if !*dryRun {
		nc, js, err := connectNATS(ctx, &natsFlags, "switchyard publish", stderr)
		if err != nil {
			return err
		}
		defer nc.Close()
		cfg.Publisher = events.NewPublisher(js, *prefix)
	}
	res, err := events.Load(ctx, in, cfg)
	if err != nil {
		return err
	}
	verb := "published"
	if *dryRun {
		verb = "valid (dry run, nothing published)"
	}
	fmt.Fprintf(stdout, "%d events %s, %d invalid lines, %d lines read\n", res.Published, verb, res.Invalid, res.Lines)
	if res.Invalid > 0 {
		return cli.CheckFailedf("%d of %d lines are not valid events (see above); they were not published", res.Invalid, res.Lines)
	}
	return nil
}
