package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/migrator"
)

var repairUsage = usageText("repair")

func runRepair(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("repair", repairUsage, stderr)
	var sf cli.StoreFlags
	sf.Register(fs)
	findings := fs.String("findings", "findings.jsonl", "findings file written by verify")
	var policy migrator.RepairPolicy
	fs.BoolVar(&policy.DeleteExtra, "delete-extra", false, "tombstone target rows the source never had (one version above the target's)")
	fs.BoolVar(&policy.OverwriteConflicts, "overwrite-conflicts", false, "write the source's row over a same-version conflicting target row (one version above)")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.ParseFlags(args); err != nil {
		return err
	}
	err := sf.Validate("repair")
	if err == nil {
		policy.Log, err = cli.NewLogger(stderr, *logFormat, *logLevel)
	}
	if err != nil {
		return err
	}
	byEntity, n, err := migrator.ReadFindingsFile(*findings)
	switch {
	case errors.Is(err, migrator.ErrFindingsFile):
		return cli.Usagef("repair: --findings: %v", err)
	case errors.Is(err, migrator.ErrBadFindings):
		return cli.Usagef("repair: --findings %s: %v", *findings, err)
	case err != nil:
		return err
	case n == 0:
		fmt.Fprintf(stdout, "%s holds no findings; nothing to repair\n", *findings)
		return nil
	}
	src, dst, err := sf.Open(ctx)
	if err != nil {
		return err
	}
	defer src.Close()
	defer dst.Close()
	rep, err := migrator.RepairFindings(ctx, src, dst, byEntity, policy)
	if err != nil {
		return err
	}
	if err := cli.PrintResult(stdout, *asJSON, rep, func(w io.Writer) error { return rep.WriteText(w, n) }); err != nil && *asJSON {
		return err
	}
	if len(rep.Remaining) > 0 {
		return cli.CheckFailedf("%d keys still differ after repair (see docs/verify.md for each outcome)", len(rep.Remaining))
	}
	return nil
}
