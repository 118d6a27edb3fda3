package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/migrator"
)

const cleanupUsage = `cleanup --legacy-consumer legacy [--max-lag N] [--max-verify-age 24h] [--force --reason R] [flags]

Checks the readiness gate and prints every condition with its state: the
backfill is complete; the last verify is clean, covers the backfill and is
recent; the target subscription is caught up and has no dead letters; no
client reads the legacy store (when flags are in use). When all hold, it
removes the legacy durable consumer and the migration enters cleaned-up.
When one fails it removes nothing and exits 1, unless --force: then it asks
for the consumer's name at a prompt (or --confirm=<name> without a terminal)
and records --reason. --check only prints the gate. See docs/cleanup.md.`

func runCleanup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runCleanupWith(ctx, args, os.Stdin, stdout, stderr)
}

func runCleanupWith(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("cleanup", cleanupUsage, stderr)
	var mf migrationFlags
	mf.register(fs)
	legacy := fs.String("legacy-consumer", "", "the legacy subscription (durable consumer) to remove (required)")
	target := fs.String("target-consumer", "", "the target subscription (default: the one the backfill recorded)")
	maxLag := fs.Uint64("max-lag", 0, "highest target subscription lag that passes")
	maxAge := fs.Duration("max-verify-age", 24*time.Hour, "how old the last verify may be")
	flagsBucket := fs.String("flags-bucket", flags.DefaultBucket, "flag bucket whose read stages are checked (empty: flags not in use)")
	force := fs.Bool("force", false, "remove the subscription although a condition fails (needs --reason and confirmation)")
	reason := fs.String("reason", "", "why cleanup is forced; recorded in the state bucket")
	confirm := fs.String("confirm", "", "the consumer's name, to confirm --force when stdin is not a terminal")
	check := fs.Bool("check", false, "print the readiness gate and remove nothing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := fs.NoArgs(); err != nil {
		return err
	}
	switch {
	case *legacy == "":
		return cli.Usagef("cleanup: --legacy-consumer is required")
	case *maxAge <= 0:
		return cli.Usagef("cleanup: --max-verify-age must be positive, got %s", *maxAge)
	case *force && strings.TrimSpace(*reason) == "":
		return cli.Usagef("cleanup: --force requires --reason (it is recorded)")
	case *force && *check:
		return cli.Usagef("cleanup: --force and --check exclude each other")
	}
	nc, js, state, _, err := mf.connect(ctx, "cleanup", stderr)
	if err != nil {
		return err
	}
	defer nc.Close()
	stages, err := openReadStages(ctx, js, *flagsBucket)
	if err != nil {
		return err
	}
	cfg := migrator.CleanupConfig{
		JS: js, State: state, Stream: mf.stream, LegacyConsumer: *legacy, TargetConsumer: *target,
		MaxLag: *maxLag, MaxVerifyAge: *maxAge, ReadStages: stages, Reason: *reason, Operator: operator(),
	}
	conds, err := migrator.CheckReadiness(ctx, cfg)
	if err != nil {
		return err
	}
	passed := printConditions(stdout, conds)
	if *check {
		if !passed {
			return fmt.Errorf("%w; nothing removed", &migrator.GateError{Conditions: conds})
		}
		fmt.Fprintln(stdout, "the gate passes; run without --check to remove", *legacy)
		return nil
	}
	if !passed && !*force {
		return fmt.Errorf("%w; nothing removed (override with --force --reason R)", &migrator.GateError{Conditions: conds})
	}
	if !passed {
		if err := confirmForce(stdin, stdout, *legacy, *confirm); err != nil {
			return err
		}
		cfg.Force = true
	}
	rec, err := migrator.Cleanup(ctx, cfg)
	if err != nil {
		return err
	}
	forced := ""
	if rec.Forced {
		forced = " (forced: " + rec.Reason + ")"
	}
	fmt.Fprintf(stdout, "removed the legacy subscription %s on %s%s; the migration is cleaned-up\n", rec.Consumer, rec.Stream, forced)
	return nil
}

func printConditions(w io.Writer, conds []migrator.Condition) bool {
	passed := true
	for _, c := range conds {
		mark := "PASS"
		if !c.OK {
			mark, passed = "FAIL", false
		}
		fmt.Fprintf(w, "[%s] %-42s %s\n", mark, c.Name, c.State)
	}
	return passed
}

// confirmForce asks for the consumer's name on a terminal, or takes
// --confirm otherwise.
func confirmForce(stdin io.Reader, stdout io.Writer, name, confirm string) error {
	if confirm != "" {
		if confirm != name {
			return cli.Usagef("cleanup: --confirm=%s does not match the consumer %s", confirm, name)
		}
		return nil
	}
	f, ok := stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return cli.Usagef("cleanup: forcing needs confirmation: pass --confirm=%s (stdin is not a terminal)", name)
	}
	fmt.Fprintf(stdout, "The gate failed. Type the consumer's name (%s) to remove it anyway: ", name)
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read confirmation: %w", err)
	}
	if strings.TrimSpace(line) != name {
		return cli.Usagef("cleanup: confirmation %q does not match %s; nothing removed", strings.TrimSpace(line), name)
	}
	return nil
}

func operator() string {
	host, _ := os.Hostname()
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return name + "@" + host
}
