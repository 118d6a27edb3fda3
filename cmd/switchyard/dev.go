package main

import (
	"context"
	"io"
	"time"

	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/quickstart"
)

var devUsage = usageText("dev")

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("dev", devUsage, stderr)
	cfg := quickstart.Config{Out: stdout}
	fs.StringVar(&cfg.Dir, "dir", ".switchyard/dev", "folder for the broker's store, both databases and the log")
	fs.IntVar(&cfg.NATSPort, "nats-port", 14222, "loopback port of the embedded NATS server")
	fs.StringVar(&cfg.ConsoleAddr, "console", "127.0.0.1:8080", "address of the support console, or off")
	fs.IntVar(&cfg.Rate, "rate", 20, "events per second the producer publishes")
	fs.DurationVar(&cfg.TargetDelay, "target-delay", 8*time.Second, "how long after the first start the target subscription is added")
	logLevel := fs.String("log-level", "info", "level of the log written to <dir>/dev.log")
	if err := fs.ParseFlags(args); err != nil {
		return err
	}
	logFile, err := quickstart.OpenLog(cfg.Dir)
	if err != nil {
		return err
	}
	defer logFile.Close()
	if cfg.Log, err = cli.NewLogger(logFile, "text", *logLevel); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return cli.Usagef("%v", err)
	}
	return quickstart.Run(ctx, cfg)
}
