package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/quickstart"
)

var devUsage = usageText("dev")

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("dev", devUsage, stderr)
	dir := fs.String("dir", ".switchyard/dev", "folder for the broker's store, both databases and the log")
	port := fs.Int("nats-port", 14222, "loopback port of the embedded NATS server")
	consoleAddr := fs.String("console", "127.0.0.1:8080", "address of the support console, or off")
	rate := fs.Int("rate", 20, "events per second the producer publishes")
	delay := fs.Duration("target-delay", 8*time.Second, "how long after the first start the target subscription is added")
	logLevel := fs.String("log-level", "info", "level of the log written to <dir>/dev.log")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return fmt.Errorf("--dir %s: %w", *dir, err)
	}
	logFile, err := os.OpenFile(filepath.Join(*dir, "dev.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	defer logFile.Close()
	log, err := cli.NewLogger(logFile, "text", *logLevel)
	if err != nil {
		return err
	}
	cfg := quickstart.Config{Dir: *dir, NATSPort: *port, ConsoleAddr: *consoleAddr, Rate: *rate, TargetDelay: *delay, Out: stdout, Log: log}
	if err := cfg.Validate(); err != nil {
		return cli.Usagef("%v", err)
	}
	return quickstart.Run(ctx, cfg)
}
