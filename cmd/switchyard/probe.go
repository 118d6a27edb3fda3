package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/ops"
)

var probeUsage = usageText("probe")

func runProbe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("probe", probeUsage, stderr)
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return cli.Usagef("probe: give exactly one URL")
	}
	answer, err := ops.Probe(ctx, fs.Arg(0), *timeout)
	switch _, unhealthy := errors.AsType[*ops.StatusError](err); {
	case errors.Is(err, ops.ErrProbeURL):
		return cli.Usagef("probe: %v", err)
	case unhealthy:
		return cli.CheckFailedf("probe %v", err)
	case err != nil:
		return &cli.CheckError{Msg: "probe failed", Cause: err}
	}
	_, err = fmt.Fprintln(stdout, answer)
	return err
}
