// Command switchyard moves an application from one database to another with
// zero downtime: subscription workers, backfill, verification, per-client
// read flags, a support console and cleanup, in one binary. Each subcommand
// lives in its own file and only wires flags and configuration to the
// library packages that do the work; commandTable lists them.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/textlimit"
	"github.com/switchyard/switchyard/migrator"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/subscriptions"
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	// run parses args and does the work. ctx is cancelled on the first
	// SIGINT or SIGTERM; a second signal kills the process.
	run func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commandTable is every subcommand, in the order --help lists them.
var commandTable = []command{
	{"backfill", "copy the records the target subscription never saw; pause, resume or re-rate a running copy", runBackfill},
	{"bench-pipeline", "measure the worker against one-upsert-per-message and the raw SQL ceiling", runBenchPipeline},
	{"bench-store", "measure a store's apply, backfill, scan and checksum rates", runBenchStore},
	{"cleanup", "remove the legacy subscription once the readiness gate passes", runCleanup},
	{"console", "serve the support console (web UI to switch clients' read stages)", runConsole},
	{"dev", "run the whole migration locally: embedded NATS, producer, both subscriptions, backfill, verify, console", runDev},
	{"dlq", "list, show, replay or purge a subscription's dead letters", runDLQ},
	{"flags", "show and change per-client read stages (legacy, shadow, target-shadow, target)", runFlags},
	{"preflight", "check NATS and every store before a migration: pass/fail table, exit 1 on a failure", runPreflight},
	{"probe", "check an HTTP health endpoint (for container healthchecks)", runProbe},
	{"publish", "publish events from a JSON-lines file or stdin", runPublish},
	{"read-api", "serve reads over HTTP from the store each client's read stage names", runReadAPI},
	{"repair", "re-copy the keys of a findings file from the source, then check them again", runRepair},
	{"status", "show the migration on one screen: phase, subscriptions, backfill, verify, read stages", runStatus},
	{"subs", "list, ensure, inspect or delete subscriptions (durable consumers)", runSubs},
	{"verify", "compare the source and target stores; write findings as JSON lines", runVerify},
	{"version", "print the version of this build", runVersion},
	{"worker", "run one subscription's workers: apply events from a consumer to a store", runWorker},
}

// commands finds a subcommand by name.
var commands = func() map[string]command {
	byName := make(map[string]command, len(commandTable))
	for _, c := range commandTable {
		byName[c.name] = c
	}
	return byName
}()

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stdout)
		if len(args) == 0 {
			return cli.ExitUsage
		}
		return cli.ExitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "switchyard: unknown command %q (run switchyard --help)\n", args[0])
		return cli.ExitUsage
	}
	ctx, stop := cli.SignalContext(context.Background())
	defer stop()
	err := cmd.run(ctx, args[1:], stdout, stderr)
	code := cli.ExitCode(err, []error{migrator.ErrConfig},
		[]error{flags.ErrGateRefused, migrator.ErrGateFailed, subscriptions.ErrStreamUnusable, stores.ErrInspectFailed})
	if code != cli.ExitOK {
		fmt.Fprintf(stderr, "switchyard %s: %s\n", cmd.name, textlimit.OneLine(err.Error()))
	}
	return code
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: switchyard <command> [flags]\n\nCommands:")
	for _, c := range commandTable {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun switchyard <command> --help for the flags of a command.")
}
