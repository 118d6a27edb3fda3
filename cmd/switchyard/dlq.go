package main

import (
	"context"
	"errors"
	"flag"
	"io"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/stores/all"
	"github.com/switchyard/switchyard/subscriptions"
	"github.com/switchyard/switchyard/workers"
)

var dlqUsage = usageText("dlq")

func runDLQ(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	action, args, err := cli.SplitAction("dlq", dlqUsage, "list, show, replay or purge", args, stdout)
	if err != nil {
		return err
	}
	fs := cli.NewFlagSet("dlq "+action, dlqUsage, stderr)
	var nf cli.NATSFlags
	nf.Register(fs)
	r := workers.DeadLetterRequest{Action: action, ReplayConfig: workers.ReplayConfig{Adapters: all.Adapters}}
	asJSON, err := registerDLQ(fs, &r)
	if err != nil {
		return err
	}
	if err := fs.ParseFlags(args); err != nil {
		return err
	}
	fs.Visit(func(fl *flag.Flag) { r.SeqGiven = r.SeqGiven || fl.Name == "seq" })
	if err := r.Validate(); err != nil {
		return cli.Usagef("dlq %s: %v", action, err)
	}
	nc, js, err := connectNATS(ctx, &nf, "switchyard dlq", stderr)
	if err != nil {
		return err
	}
	defer nc.Close()
	switch err := r.Do(ctx, js, stdout, *asJSON); {
	case errors.Is(err, workers.ErrReplayRefused):
		return cli.Usagef("dlq replay: %v", err) // nothing happened: only the error
	case errors.Is(err, workers.ErrReplayIncomplete):
		return cli.CheckFailedf("%v", err)
	default:
		return err
	}
}

// registerDLQ registers the flags of r's action, and only those.
func registerDLQ(fs *cli.FlagSet, r *workers.DeadLetterRequest) (asJSON *bool, err error) {
	fs.StringVar(&r.Stream, "stream", subscriptions.DefaultStream, "event stream name")
	fs.StringVar(&r.Consumer, "consumer", "", "durable consumer whose dead letters to use (required)")
	asJSON = fs.Bool("json", false, "print JSON")
	switch r.Action {
	case "list":
		fs.IntVar(&r.Limit, "limit", workers.DefaultDeadLetterLimit, "most dead letters to list; 0 means all")
		fs.Uint64Var(&r.After, "after", 0, "list dead letters with a sequence above this one (paging)")
	case "replay":
		fs.BoolVar(&r.All, "all", false, "replay every dead letter of the consumer (instead of --seq)")
		fs.StringVar(&r.SinkDSN, "sink", "", "DSN of the consumer's store (required); ${env:NAME} and ${file:PATH} are resolved")
		fs.StringVar(&r.VersionSource, "version-source", "", "stream or producer; default: what the consumer records")
		fs.StringVar(&r.SubjectPrefix, "prefix", events.DefaultSubjectPrefix, "subject prefix of the stream")
		fs.IntVar(&r.MaxEventBytes, "max-event-bytes", events.DefaultMaxEventBytes, "largest event to accept, in bytes")
		fs.IntVar(&r.BatchSize, "batch-size", workers.DefaultReplayBatchSize, "dead letters per store transaction")
		fallthrough
	case "show":
		fs.Uint64Var(&r.Seq, "seq", 0, "dead-letter sequence (as listed by dlq list)")
	case "purge":
		fs.StringVar(&r.Confirm, "confirm", "", "the consumer name again, to confirm the purge")
	default:
		return nil, cli.Usagef("dlq: unknown action %q (list, show, replay, purge)", r.Action)
	}
	return asJSON, nil
}
