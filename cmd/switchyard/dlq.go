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
	a := dlqArgs{action: action}
	if err := a.register(fs); err != nil {
		return err
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fs.Visit(func(fl *flag.Flag) { a.seqGiven = a.seqGiven || fl.Name == "seq" })
	if err := a.check(); err != nil {
		return err
	}
	_, js, closeNATS, err := connectNATS(ctx, &a.nats, "switchyard dlq", stderr)
	if err != nil {
		return err
	}
	defer closeNATS()
	return a.run(ctx, js, stdout)
}

// dlqArgs are the flags of one dlq action; each registers only its own.
// The replay configuration holds the stream, consumer and sequence of
// every action.
type dlqArgs struct {
	workers.ReplayConfig
	nats     cli.NATSFlags
	action   string
	asJSON   bool
	seqGiven bool
	limit    int
	after    uint64
	confirm  string
}

func (a *dlqArgs) register(fs *cli.FlagSet) error {
	a.nats.Register(fs)
	a.Adapters = all.Adapters
	fs.StringVar(&a.Stream, "stream", "EVENTS", "event stream name")
	fs.StringVar(&a.Consumer, "consumer", "", "durable consumer whose dead letters to use (required)")
	fs.BoolVar(&a.asJSON, "json", false, "print JSON")
	switch a.action {
	case "list":
		fs.IntVar(&a.limit, "limit", 100, "most dead letters to list; 0 means all")
		fs.Uint64Var(&a.after, "after", 0, "list dead letters with a sequence above this one (paging)")
	case "replay":
		fs.BoolVar(&a.All, "all", false, "replay every dead letter of the consumer (instead of --seq)")
		fs.StringVar(&a.SinkDSN, "sink", "", "DSN of the consumer's store (required); ${env:NAME} and ${file:PATH} are resolved")
		fs.StringVar(&a.VersionSource, "version-source", "", "stream or producer; default: what the consumer records")
		fs.StringVar(&a.SubjectPrefix, "prefix", events.DefaultSubjectPrefix, "subject prefix of the stream")
		fs.IntVar(&a.MaxEventBytes, "max-event-bytes", events.DefaultMaxEventBytes, "largest event to accept, in bytes")
		fs.IntVar(&a.BatchSize, "batch-size", workers.DefaultReplayBatchSize, "dead letters per store transaction")
		fallthrough
	case "show":
		fs.Uint64Var(&a.Seq, "seq", 0, "dead-letter sequence (as listed by dlq list)")
	case "purge":
		fs.StringVar(&a.confirm, "confirm", "", "the consumer name again, to confirm the purge")
	default:
		return cli.Usagef("dlq: unknown action %q (list, show, replay, purge)", a.action)
	}
	return nil
}

// check returns the first thing wrong with the flags of the action, before
// anything is contacted.
func (a *dlqArgs) check() error {
	replay := a.action == "replay"
	for _, c := range []struct {
		wrong bool
		why   string
	}{
		{a.Stream == "", "--stream is required"},
		{a.Consumer == "", "--consumer is required"},
		{a.action == "show" && a.Seq == 0, "--seq is required"},
		{a.seqGiven && a.Seq == 0, "--seq 0 is not a dead-letter sequence (they start at 1)"},
		{replay && !a.seqGiven && !a.All, "give --seq N to replay one dead letter, or --all to replay every one"},
		{replay && a.seqGiven && a.All, "give either --seq or --all, not both"},
		{a.limit < 0, fmt.Sprintf("--limit %d must not be negative", a.limit)},
		{a.action == "purge" && a.confirm != a.Consumer, fmt.Sprintf("this deletes every dead letter of %s unreplayed; pass --confirm=%s", a.Consumer, a.Consumer)},
	} {
		if c.wrong {
			return cli.Usagef("dlq %s: %s", a.action, c.why)
		}
	}
	if err := a.Validate(); replay && err != nil {
		return cli.Usagef("dlq replay: %v", err)
	}
	return nil
}

// run does the work of the action and prints it.
func (a *dlqArgs) run(ctx context.Context, js jetstream.JetStream, stdout io.Writer) error {
	switch a.action {
	case "list":
		list, err := subscriptions.ListDeadLetters(ctx, js, a.Stream, a.Consumer, a.after, a.limit)
		if err != nil {
			return err
		}
		return subscriptions.WriteDeadLetters(stdout, list, a.asJSON)
	case "show":
		dl, err := subscriptions.GetDeadLetter(ctx, js, a.Stream, a.Consumer, a.Seq)
		if err != nil {
			return err
		}
		return subscriptions.WriteDeadLetter(stdout, dl, a.asJSON)
	case "replay":
		return a.replay(ctx, js, stdout)
	}
	n, err := subscriptions.PurgeDeadLetters(ctx, js, a.Stream, a.Consumer)
	if err == nil {
		fmt.Fprintf(stdout, "purged %d dead letters of %s on %s\n", n, a.Consumer, a.Stream)
	}
	return err
}

// replay replays and prints what was replayed, unless nothing happened.
func (a *dlqArgs) replay(ctx context.Context, js jetstream.JetStream, stdout io.Writer) error {
	res, err := workers.ReplayDeadLetters(ctx, js, a.ReplayConfig)
	switch nothing := res.Replayed == 0 && len(res.Failed) == 0; {
	case nothing && (errors.Is(err, subscriptions.ErrNotFound) || errors.Is(err, workers.ErrReplayConfig)):
		return cli.Usagef("dlq replay: %v", err) // nothing happened: only the error
	case nothing && err != nil:
		return err
	}
	if werr := res.Write(stdout, a.Consumer, a.SinkDSN, a.asJSON); err == nil && werr != nil {
		return werr
	}
	if err == nil && len(res.Failed) > 0 {
		return cli.CheckFailedf("%d dead letters could not be replayed and stay in the dead-letter stream", len(res.Failed))
	}
	return err
}
