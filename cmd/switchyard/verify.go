package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/migrator"
)

const verifyUsage = `verify --source DSN --target DSN --entities a,b [--client C] [flags]

Compares the stores over key ranges: a checksum per chunk, then row by row
where checksums differ. A key that differs is compared again once the
subscriptions processed the events published when it was seen, so in-flight
events are not reported. Findings (missing, extra, different, resurrected)
go to --out as JSON lines, for switchyard repair. The result is stored in the
state bucket for status, the promotion gates and cleanup. Exit status 1
when differences remain. See docs/verify.md.`

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("verify", verifyUsage, stderr)
	var mf migrationFlags
	mf.register(fs)
	var sf storeFlags
	sf.register(fs)
	var entities cli.StringList
	fs.Var(&entities, "entities", "entities to compare, comma-separated (required)")
	client := fs.String("client", "", "compare only this client's rows")
	chunk := fs.Int("chunk", 1000, "source rows per checksum")
	out := fs.String("out", "findings.jsonl", "findings file (JSON lines); appended to when resuming")
	maxRate := fs.Int("max-rate", 0, "max source rows compared per second (0: no cap)")
	targetConsumer := fs.String("target-consumer", "target", "the target subscription, waited for before a difference is reported")
	legacyConsumer := fs.String("legacy-consumer", "legacy", "the legacy subscription, also waited for (empty: not waited for)")
	settle := fs.Duration("settle-timeout", 30*time.Second, "longest wait for the subscriptions per differing chunk")
	restart := fs.Bool("restart", false, "ignore the checkpoint of an interrupted verify and start over")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	httpAddr := fs.String("http", "", "serve /metrics (rows, rate, progress, findings), /healthz and /readyz on this address while comparing, such as :9090")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := fs.NoArgs(); err != nil {
		return err
	}
	if err := sf.validate("verify"); err != nil {
		return err
	}
	if err := validEntities("verify", entities); err != nil {
		return err
	}
	switch {
	case *chunk < 1:
		return cli.Usagef("verify: --chunk must be at least 1, got %d", *chunk)
	case *maxRate < 0:
		return cli.Usagef("verify: --max-rate must not be negative, got %d", *maxRate)
	case *settle <= 0:
		return cli.Usagef("verify: --settle-timeout must be positive, got %s", *settle)
	case *targetConsumer == "":
		return cli.Usagef("verify: --target-consumer is required")
	case *out == "":
		return cli.Usagef("verify: --out is required (a file for the findings)")
	case len(*client) > 255:
		return cli.Usagef("verify: --client is longer than 255 bytes")
	}

	nc, js, state, log, err := mf.connect(ctx, "verify", stderr)
	if err != nil {
		return err
	}
	defer nc.Close()
	src, dst, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer src.Close()
	defer dst.Close()

	resuming := false
	if !*restart {
		if resuming, err = state.HasVerifyCheckpoint(ctx, migrator.VerifyScope(entities, *client)); err != nil {
			return err
		}
	}
	mode := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if resuming {
		mode = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(*out, mode, 0o644)
	if err != nil {
		return cli.Usagef("verify: --out: %v", err)
	}
	defer f.Close()

	metrics, stopOps, err := startMigrationOps(ctx, *httpAddr, nc, log)
	if err != nil {
		return err
	}
	defer stopOps()
	res, err := migrator.Verify(ctx, migrator.VerifyConfig{
		Source: src, Target: dst, SourceName: sf.source, TargetName: sf.target,
		Entities: entities, Client: *client, ChunkRows: *chunk, MaxRate: *maxRate,
		Findings: f, FindingsFile: *out, State: state,
		JS: js, Stream: mf.stream, TargetConsumer: *targetConsumer, LegacyConsumer: *legacyConsumer,
		SettleTimeout: *settle, Restart: *restart, Log: log,
		Progress: migrator.NewProgress(stderrFile(stderr), log, 10*time.Second).WithMetrics(metrics),
	})
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("findings file %s: %w", *out, err)
	}
	if *asJSON {
		if err := writeIndentedJSON(stdout, res); err != nil {
			return err
		}
	} else {
		printVerifyResult(stdout, res)
	}
	if !res.Clean {
		return cli.CheckFailedf("%d differences; findings in %s; fix them with: switchyard repair --findings %s", res.Differences, *out, *out)
	}
	return nil
}

func printVerifyResult(w io.Writer, r migrator.VerifyResult) {
	scope := "every client"
	if r.Client != "" {
		scope = "client " + r.Client
	}
	fmt.Fprintf(w, "verify of %v (%s): %d source rows, %d target rows, %d chunks (%d differed), %s\n",
		r.Entities, scope, r.RowsSource, r.RowsTarget, r.Chunks, r.ChunksDiffering, r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond))
	if r.Settled > 0 {
		fmt.Fprintf(w, "%d keys differed while events were in flight and agreed once the subscriptions caught up\n", r.Settled)
	}
	if r.Clean {
		fmt.Fprintln(w, "CLEAN: no differences")
		return
	}
	fmt.Fprintf(w, "%d DIFFERENCES:", r.Differences)
	for _, k := range migrator.FindingKinds {
		if n := r.ByKind[string(k)]; n > 0 {
			fmt.Fprintf(w, " %s %d", k, n)
		}
	}
	fmt.Fprintln(w)
}
