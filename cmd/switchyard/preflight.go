package main

import (
	"context"
	"errors"
	"io"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/preflight"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/subscriptions"
)

var preflightUsage = usageText("preflight")

func runPreflight(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("preflight", preflightUsage, stdout)
	var natsFlags cli.NATSFlags
	natsFlags.Register(fs)
	var sources, targets cli.DSNList
	var cfg preflight.Config
	var nc preflight.NATSConfig
	fs.StringVar(&nc.Stream, "stream", subscriptions.DefaultStream, "event stream the subscriptions consume")
	fs.StringVar(&nc.SubjectPrefix, "subject-prefix", events.DefaultSubjectPrefix, "subject prefix events are published under (<prefix>.>)")
	fs.Var((*cli.StringList)(&nc.Consumers), "consumer", "durable consumer the migration uses (repeatable or comma-separated), such as legacy,target")
	fs.Var(&sources, "source", "DSN of a store read as the legacy source (repeatable; secrets as ${env:NAME} or ${file:PATH})")
	fs.Var(&targets, "target", "DSN of a store written as the target (repeatable)")
	fs.Var((*cli.StringList)(&cfg.Entities), "entities", "source entities to sample, comma-separated (default: every entity a source holds)")
	fs.IntVar(&cfg.SampleSize, "sample", preflight.DefaultSampleSize, "records sampled per source entity")
	fs.IntVar(&cfg.MaxDocumentBytes, "max-document-bytes", events.DefaultMaxEventBytes, "largest source document allowed (the workers' --max-event-bytes)")
	fs.DurationVar(&cfg.Timeout, "timeout", preflight.DefaultTimeout, "bound on each network step")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.ParseFlags(args); err != nil {
		return err
	}
	cfg.Stores = append(preflight.StoreSpecs(stores.RoleSource, sources), preflight.StoreSpecs(stores.RoleTarget, targets)...)
	if err := cfg.Validate(); err != nil {
		return cli.Usagef("preflight: %v", err)
	}
	natsFlags.Name = "switchyard preflight"
	natsURL, opts, named, err := natsFlags.Resolved()
	if err != nil {
		return err
	}
	if named {
		nc.URL, nc.Options, nc.ConnectTimeout = natsURL, opts, natsFlags.ConnectTimeout
		cfg.NATS = nc
	}
	rep, err := preflight.Run(ctx, cfg)
	if errors.Is(err, preflight.ErrConfig) {
		return cli.Usagef("preflight: %v", err)
	} else if err != nil {
		return err
	}
	if err := rep.Write(stdout, *asJSON); err != nil {
		return err
	}
	if !rep.Passed {
		return cli.CheckFailedf("%d of %d checks failed", rep.Failures, len(rep.Results))
	}
	return nil
}
