package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/redact"
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
	u, err := url.Parse(fs.Arg(0))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return cli.Usagef("probe: %s is not an http(s) URL", redact.DSN(fs.Arg(0)))
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return cli.Usagef("probe: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return &cli.CheckError{Msg: "probe failed", Cause: redact.WrapDSN(err, "probe", u.String())}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return cli.CheckFailedf("probe %s: %s: %s", redact.DSN(u.String()), resp.Status, body)
	}
	_, err = fmt.Fprintf(stdout, "%s %s\n", redact.DSN(u.String()), resp.Status)
	return err
}
