package main

import (
	"context"
	"io"

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
	if action == "ensure" {
		if _, _, err := r.Specs(r.Stream, r.Consumer); err != nil {
			return cli.Usagef("%v", err)
		}
	}
	nc, js, err := connectNATS(ctx, &nf, "switchyard subs", stderr)
	if err != nil {
		return err
	}
	defer nc.Close()
	return r.Do(ctx, js, stdout, *asJSON)
}
