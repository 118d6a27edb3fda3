package main

import (
	"context"
	"errors"
	"fmt"
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
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkVerify(&sf, &cfg); err != nil {
		return err
	}
	env, err := openMigration(ctx, "verify", &mf, &sf, *httpAddr, stderr)
	if err != nil {
		return err
	}
	defer env.close()
	out := cfg.FindingsFile
	f, err := migrator.OpenFindingsFile(ctx, env.state, out, cfg.Entities, cfg.Client, cfg.Restart)
	if errors.Is(err, migrator.ErrFindingsFile) {
		return cli.Usagef("verify: --out: %v", err)
	} else if err != nil {
		return err
	}
	defer f.Close()
	cfg.Source, cfg.Target, cfg.SourceName, cfg.TargetName, cfg.JS, cfg.State = env.src, env.dst, sf.Source, sf.Target, env.js, env.state
	cfg.Stream, cfg.Findings, cfg.Log, cfg.Progress = mf.stream, f, env.log, env.progress(stderr)
	res, err := migrator.Verify(ctx, cfg)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("findings file %s: %w", out, err)
	}
	if err := printResult(stdout, *asJSON, res, res.WriteText); err != nil && *asJSON {
		return err
	}
	if !res.Clean {
		return cli.CheckFailedf("%d differences; findings in %s; fix them with: switchyard repair --findings %s", res.Differences, out, out)
	}
	return nil
}

// checkVerify checks the flags of a verify.
func checkVerify(sf *cli.StoreFlags, cfg *migrator.VerifyConfig) error {
	if err := sf.Validate("verify"); err != nil {
		return err
	}
	if err := cli.ValidEntities("verify", cfg.Entities); err != nil {
		return err
	}
	switch {
	case cfg.ChunkRows < 1:
		return cli.Usagef("verify: --chunk must be at least 1, got %d", cfg.ChunkRows)
	case cfg.MaxRate < 0:
		return cli.Usagef("verify: --max-rate must not be negative, got %d", cfg.MaxRate)
	case cfg.SettleTimeout <= 0:
		return cli.Usagef("verify: --settle-timeout must be positive, got %s", cfg.SettleTimeout)
	case cfg.TargetConsumer == "":
		return cli.Usagef("verify: --target-consumer is required")
	case cfg.FindingsFile == "":
		return cli.Usagef("verify: --out is required (a file for the findings)")
	case len(cfg.Client) > 255:
		return cli.Usagef("verify: --client is longer than 255 bytes")
	}
	return nil
}
