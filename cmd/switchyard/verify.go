package main

import (
	"cmp"
	"context"
	"errors"
	"io"

	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/migrator"
)

var verifyUsage = usageText("verify")

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("verify", verifyUsage, stderr)
	var mf migrationFlags
	mf.register(fs)
	var sf cli.StoreFlags
	sf.Register(fs)
	var cfg migrator.VerifyConfig
	fs.Var((*cli.StringList)(&cfg.Entities), "entities", "entities to compare, comma-separated (required)")
	fs.StringVar(&cfg.Client, "client", "", "compare only this client's rows")
	fs.IntVar(&cfg.ChunkRows, "chunk", migrator.DefaultVerifyChunkRows, "source rows per checksum")
	fs.StringVar(&cfg.FindingsFile, "out", "findings.jsonl", "findings file (JSON lines); appended to when resuming")
	fs.IntVar(&cfg.MaxRate, "max-rate", 0, "max source rows compared per second (0: no cap)")
	fs.StringVar(&cfg.TargetConsumer, "target-consumer", migrator.DefaultTargetConsumer, "the target subscription, waited for before a difference is reported")
	fs.StringVar(&cfg.LegacyConsumer, "legacy-consumer", migrator.DefaultLegacyConsumer, "the legacy subscription, also waited for (empty: not waited for)")
	fs.DurationVar(&cfg.SettleTimeout, "settle-timeout", migrator.DefaultSettleTimeout, "longest wait for the subscriptions per differing chunk")
	fs.BoolVar(&cfg.Restart, "restart", false, "ignore the checkpoint of an interrupted verify and start over")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	httpAddr := fs.String("http", "", "serve /metrics (rows, rate, progress, findings), /healthz and /readyz on this address while comparing, such as :9090")
	if err := fs.ParseFlags(args); err != nil {
		return err
	}
	if err := cmp.Or(sf.ValidateCopy("verify", cfg.Entities), cfg.Validate()); err != nil {
		return err
	}
	env, err := mf.openCopy(ctx, "verify", &sf, *httpAddr, stderr)
	if err != nil {
		return err
	}
	defer env.close(ctx)
	cfg.Source, cfg.Target, cfg.SourceName, cfg.TargetName, cfg.JS, cfg.State = env.src, env.dst, sf.Source, sf.Target, env.js, env.cp.State
	cfg.Stream, cfg.Log, cfg.Progress = mf.stream, env.log, env.progress
	res, err := migrator.VerifyToFile(ctx, cfg)
	switch {
	case errors.Is(err, migrator.ErrFindingsFile):
		return cli.Usagef("verify: --out: %v", err)
	case err != nil:
		return err
	}
	if err := cli.PrintResult(stdout, *asJSON, res, res.WriteText); err != nil && *asJSON {
		return err
	}
	if !res.Clean {
		out := cfg.FindingsFile
		return cli.CheckFailedf("%d differences; findings in %s; fix them with: switchyard repair --findings %s", res.Differences, out, out)
	}
	return nil
}
