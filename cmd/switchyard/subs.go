package main

import (
	"context"
	"fmt"
	"io"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/subscriptions"
)

var subsUsage = usageText("subs")

func runSubs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	action, args, err := splitAction("subs", subsUsage, "list, ensure, inspect or delete", args, stdout)
	if err != nil {
		return err
	}
	fs := cli.NewFlagSet("subs "+action, subsUsage, stderr)
	var natsFlags cli.NATSFlags
	natsFlags.Register(fs)
	stream := fs.String("stream", subscriptions.DefaultStream, "event stream name")
	consumer := fs.String("consumer", "", "durable consumer name (ensure, inspect, delete)")
	asJSON := fs.Bool("json", false, "print JSON")
	var ensure subscriptions.Declaration
	confirm := new(string)
	switch action {
	case "list", "inspect":
	case "ensure":
		registerDeclaration(fs, &ensure)
	case "delete":
		fs.StringVar(confirm, "confirm", "", "the consumer name again, to confirm the deletion")
	default:
		return cli.Usagef("subs: unknown action %q (list, ensure, inspect, delete)", action)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var specs subscriptions.EnsureSpecs
	switch {
	case *stream == "":
		return cli.Usagef("subs %s: --stream is required", action)
	case action != "list" && *consumer == "":
		return cli.Usagef("subs %s: --consumer is required", action)
	case action == "ensure":
		if specs.Stream, specs.Consumer, err = ensure.Specs(*stream, *consumer); err != nil {
			return cli.Usagef("%v", err)
		}
	case action == "delete" && *confirm != *consumer:
		return cli.Usagef("subs delete: deleting consumer %s forgets its position; pass --confirm=%s", *consumer, *consumer)
	}
	_, js, closeNATS, err := connectNATS(ctx, &natsFlags, "switchyard subs", stderr)
	if err != nil {
		return err
	}
	defer closeNATS()
	return subsAction(ctx, js, action, specs, *stream, *consumer, *asJSON, stdout)
}

// subsAction does the action of subs once connected.
func subsAction(ctx context.Context, js jetstream.JetStream, action string, specs subscriptions.EnsureSpecs, stream, consumer string, asJSON bool, stdout io.Writer) error {
	switch action {
	case "list":
		all, err := subscriptions.List(ctx, js, stream)
		if err != nil {
			return err
		}
		return printResult(stdout, asJSON, all, func(w io.Writer) error { return subscriptions.WriteStatusTable(w, all) })
	case "inspect":
		st, err := subscriptions.Inspect(ctx, js, stream, consumer)
		if err != nil {
			return err
		}
		return printResult(stdout, asJSON, st, func(w io.Writer) error { return subscriptions.WriteStatusTable(w, []subscriptions.Status{st}) })
	case "ensure":
		rep, err := subscriptions.EnsureReported(ctx, js, specs)
		if err != nil {
			return err
		}
		return printResult(stdout, asJSON, rep, rep.WriteText)
	}
	if err := subscriptions.DeleteConsumer(ctx, js, stream, consumer); err != nil {
		return err
	}
	_, err := fmt.Fprintf(stdout, "consumer %s on %s deleted\n", consumer, stream)
	return err
}

// ensureOutput is what subs ensure --json prints.
type ensureOutput = subscriptions.EnsureReport

// registerDeclaration binds the declarative settings of subs ensure (and
// worker --ensure) to f.
func registerDeclaration(fs *cli.FlagSet, f *subscriptions.Declaration) {
	fs.StringVar(&f.Prefix, "prefix", events.DefaultSubjectPrefix, "subject prefix the stream captures (<prefix>.>)")
	fs.StringVar(&f.Start, "start", "all", "start of a new consumer: all, new, seq:N, time:RFC3339")
	fs.StringVar(&f.Role, "role", "", "legacy or target (recorded in the consumer's metadata)")
	fs.StringVar(&f.VersionSource, "version-source", string(events.VersionFromStream), "stream or producer (recorded in the consumer's metadata)")
	fs.Var((*cli.StringList)(&f.Filters), "filter", "subject filter (repeatable or comma-separated); empty means every event")
	fs.Var((*cli.StringList)(&f.Backoff), "backoff", "redelivery delays, comma-separated (1s,5s,30s); the first replaces --ack-wait")
	fs.DurationVar(&f.AckWait, "ack-wait", subscriptions.DefaultAckWait, "time a delivered event may stay unacknowledged")
	fs.DurationVar(&f.DuplicateWindow, "duplicate-window", subscriptions.DefaultDuplicateWindow, "how long the stream drops repeated Nats-Msg-Ids: the window of a created stream, and the least an existing one must keep")
	fs.DurationVar(&f.MaxAge, "max-age", 0, "how long a created stream keeps events; 0 means forever")
	fs.Int64Var(&f.MaxMsgs, "max-msgs", 0, "most events a created stream keeps; 0 means unlimited")
	fs.Int64Var(&f.MaxBytes, "max-bytes", 0, "most bytes a created stream keeps; 0 means unlimited")
	fs.IntVar(&f.Replicas, "replicas", 1, "copies of a created stream and dead-letter stream in a NATS cluster (1, 3 or 5)")
	fs.StringVar(&f.PlacementCluster, "placement-cluster", "", "NATS cluster a created stream is placed in; empty lets the server choose")
	fs.Var((*cli.StringList)(&f.PlacementTags), "placement-tags", "server tags a created stream is placed on (comma-separated)")
	fs.Var((*cli.StringList)(&f.UpdateStream), "update-stream", "settings of an existing stream to change, comma-separated: subjects (added, never dropped), duplicate-window, max-age, max-msgs, max-bytes, replicas (raised, never lowered); empty changes nothing")
	fs.IntVar(&f.MaxDeliver, "max-deliver", -1, "deliveries per event before JetStream gives up; -1 means unlimited")
	fs.IntVar(&f.MaxAckPending, "max-ack-pending", subscriptions.DefaultMaxAckPending, "unacknowledged events across the whole fleet")
}
