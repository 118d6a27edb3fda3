package main

import (
	"context"
	"fmt"
	"io"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/subscriptions"
)

var subsUsage = usageText("subs")

// ensureOutput is what subs ensure --json prints.
type ensureOutput = subscriptions.EnsureReport

func runSubs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	action, args, err := cli.SplitAction("subs", subsUsage, "list, ensure, inspect or delete", args, stdout)
	if err != nil {
		return err
	}
	fs := cli.NewFlagSet("subs "+action, subsUsage, stderr)
	var nf cli.NATSFlags
	nf.Register(fs)
	r := subscriptions.ConsumerRequest{Action: action}
	fs.StringVar(&r.Stream, "stream", subscriptions.DefaultStream, "event stream name")
	fs.StringVar(&r.Consumer, "consumer", "", "durable consumer name (ensure, inspect, delete)")
	asJSON := fs.Bool("json", false, "print JSON")
	switch action {
	case "list", "inspect":
	case "ensure":
		cli.RegisterDeclaration(fs, &r.Declaration)
	case "delete":
		fs.StringVar(&r.Confirm, "confirm", "", "the consumer name again, to confirm the deletion")
	default:
		return cli.Usagef("subs: unknown action %q (list, ensure, inspect, delete)", action)
	}
	if err := fs.ParseFlags(args); err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return cli.Usagef("subs %s: %v", action, err)
	}
	var specs subscriptions.EnsureSpecs
	if action == "ensure" {
		if specs.Stream, specs.Consumer, err = r.Specs(r.Stream, r.Consumer); err != nil {
			return cli.Usagef("%v", err)
		}
	}
	nc, js, err := connectNATS(ctx, &nf, "switchyard subs", stderr)
	if err != nil {
		return err
	}
	defer nc.Close()
	return subsAction(ctx, js, r, specs, *asJSON, stdout)
}

// subsAction does the action of subs once connected.
func subsAction(ctx context.Context, js jetstream.JetStream, r subscriptions.ConsumerRequest, specs subscriptions.EnsureSpecs, asJSON bool, stdout io.Writer) error {
	switch r.Action {
	case "list":
		list, err := subscriptions.List(ctx, js, r.Stream)
		return printStatuses(stdout, asJSON, list, list, err)
	case "inspect":
		st, err := subscriptions.Inspect(ctx, js, r.Stream, r.Consumer)
		return printStatuses(stdout, asJSON, st, []subscriptions.Status{st}, err)
	case "ensure":
		rep, err := subscriptions.EnsureReported(ctx, js, specs)
		return cli.PrintReport(stdout, asJSON, rep, err)
	}
	if err := subscriptions.DeleteConsumer(ctx, js, r.Stream, r.Consumer); err != nil {
		return err
	}
	_, err := fmt.Fprintf(stdout, "consumer %s on %s deleted\n", r.Consumer, r.Stream)
	return err
}

// printStatuses prints v as JSON or list as a table, unless err.
func printStatuses(w io.Writer, asJSON bool, v any, list []subscriptions.Status, err error) error {
	if err != nil {
		return err
	}
	return cli.PrintResult(w, asJSON, v, func(w io.Writer) error { return subscriptions.WriteStatusTable(w, list) })
}
