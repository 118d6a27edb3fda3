package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/stores/all"
	"github.com/switchyard/switchyard/subscriptions"
	"github.com/switchyard/switchyard/workers"
)

var dlqUsage = usageText("dlq")

func runDLQ(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	action, args, err := splitAction("dlq", dlqUsage, "list, show, replay or purge", args, stdout)
	if err != nil {
		return err
	}
	fs := cli.NewFlagSet("dlq "+action, dlqUsage, stderr)
	var natsFlags cli.NATSFlags
	natsFlags.Register(fs)
	var a dlqArgs
	if err := a.register(fs, action); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	fs.Visit(func(fl *flag.Flag) { a.seqGiven = a.seqGiven || fl.Name == "seq" })
	if err := fs.NoArgs(); err != nil {
		return err
	}
	if err := a.check(action); err != nil {
		return err
	}
	log, err := cli.NewLogger(stderr, "text", "info")
	if err != nil {
		return err
	}
	natsFlags.Name = "switchyard dlq"
	nc, js, err := natsFlags.Connect(ctx, log)
	if err != nil {
		return err
	}
	defer nc.Close()
	return a.run(ctx, js, action, stdout)
}

// dlqArgs are the flags of the dlq actions; each registers only its own.
// replay holds the stream, consumer and sequence of every action.
type dlqArgs struct {
	replay   workers.ReplayConfig
	asJSON   bool
	limit    int
	after    uint64
	confirm  string
	seqGiven bool
}

func (a *dlqArgs) register(fs *cli.FlagSet, action string) error {
	r := &a.replay
	r.Adapters = all.Adapters
	fs.StringVar(&r.Stream, "stream", "EVENTS", "event stream name")
	fs.StringVar(&r.Consumer, "consumer", "", "durable consumer whose dead letters to use (required)")
	fs.BoolVar(&a.asJSON, "json", false, "print JSON")
	switch action {
	case "list":
		fs.IntVar(&a.limit, "limit", 100, "most dead letters to list; 0 means all")
		fs.Uint64Var(&a.after, "after", 0, "list dead letters with a sequence above this one (paging)")
	case "show":
		fs.Uint64Var(&r.Seq, "seq", 0, "dead-letter sequence (as listed by dlq list)")
	case "replay":
		fs.Uint64Var(&r.Seq, "seq", 0, "dead-letter sequence (as listed by dlq list)")
		fs.BoolVar(&r.All, "all", false, "replay every dead letter of the consumer (instead of --seq)")
		fs.StringVar(&r.SinkDSN, "sink", "", "DSN of the consumer's store (required); ${env:NAME} and ${file:PATH} are resolved")
		fs.StringVar(&r.VersionSource, "version-source", "", "stream or producer; default: what the consumer records")
		fs.StringVar(&r.SubjectPrefix, "prefix", events.DefaultSubjectPrefix, "subject prefix of the stream")
		fs.IntVar(&r.MaxEventBytes, "max-event-bytes", events.DefaultMaxEventBytes, "largest event to accept, in bytes")
		fs.IntVar(&r.BatchSize, "batch-size", workers.DefaultReplayBatchSize, "dead letters per store transaction")
	case "purge":
		fs.StringVar(&a.confirm, "confirm", "", "the consumer name again, to confirm the purge")
	default:
		return cli.Usagef("dlq: unknown action %q (list, show, replay, purge)", action)
	}
	return nil
}

// check returns the first thing wrong with the flags of action, before
// anything is contacted.
func (a *dlqArgs) check(action string) error {
	r := a.replay
	for _, c := range []struct {
		wrong bool
		why   string
	}{
		{r.Stream == "", "--stream is required"},
		{r.Consumer == "", "--consumer is required"},
		{action == "show" && r.Seq == 0, "--seq is required"},
		{a.seqGiven && r.Seq == 0, "--seq 0 is not a dead-letter sequence (they start at 1)"},
		{action == "replay" && !a.seqGiven && !r.All, "give --seq N to replay one dead letter, or --all to replay every one"},
		{action == "replay" && a.seqGiven && r.All, "give either --seq or --all, not both"},
		{a.limit < 0, fmt.Sprintf("--limit %d must not be negative", a.limit)},
		{action == "purge" && a.confirm != r.Consumer, fmt.Sprintf("this deletes every dead letter of %s unreplayed; pass --confirm=%s", r.Consumer, r.Consumer)},
	} {
		if c.wrong {
			return cli.Usagef("dlq %s: %s", action, c.why)
		}
	}
	if action != "replay" {
		return nil
	}
	if err := r.Validate(); err != nil {
		return cli.Usagef("dlq replay: %v", err)
	}
	return nil
}

// run does the work of action and prints it.
func (a *dlqArgs) run(ctx context.Context, js jetstream.JetStream, action string, stdout io.Writer) error {
	r := a.replay
	switch action {
	case "list":
		list, err := subscriptions.ListDeadLetters(ctx, js, r.Stream, r.Consumer, a.after, a.limit)
		if err != nil {
			return err
		}
		return subscriptions.WriteDeadLetters(stdout, list, a.asJSON)
	case "show":
		dl, err := subscriptions.GetDeadLetter(ctx, js, r.Stream, r.Consumer, r.Seq)
		if err != nil {
			return err
		}
		return subscriptions.WriteDeadLetter(stdout, dl, a.asJSON)
	case "replay":
		res, err := workers.ReplayDeadLetters(ctx, js, r)
		if err != nil && res.Replayed == 0 && len(res.Failed) == 0 {
			if errors.Is(err, subscriptions.ErrNotFound) || errors.Is(err, workers.ErrReplayConfig) {
				return cli.Usagef("dlq replay: %v", err) // nothing happened: only the error
			}
			return err
		}
		if werr := res.Write(stdout, r.Consumer, r.SinkDSN, a.asJSON); err == nil && werr != nil {
			return werr
		}
		if err == nil && len(res.Failed) > 0 {
			return cli.CheckFailedf("%d dead letters could not be replayed and stay in the dead-letter stream", len(res.Failed))
		}
		return err
	}
	n, err := subscriptions.PurgeDeadLetters(ctx, js, r.Stream, r.Consumer)
	if err == nil {
		fmt.Fprintf(stdout, "purged %d dead letters of %s on %s\n", n, r.Consumer, r.Stream)
	}
	return err
}
