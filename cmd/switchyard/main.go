// Command switchyard moves an application from one database to another with
// zero downtime: subscription workers, backfill, verification, per-client
// read flags, a support console and cleanup, in one binary. Each subcommand
// lives in its own file and only wires flags and configuration to the
// library packages that do the work.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/cli"
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

var commands = map[string]command{}

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("duplicate command " + c.name)
	}
	commands[c.name] = c
}

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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal now takes the default action and kills the process
	}()
	err := cmd.run(ctx, args[1:], stdout, stderr)
	code := exitCode(err)
	if code != cli.ExitOK {
		fmt.Fprintf(stderr, "switchyard %s: %s\n", cmd.name, oneLine(err.Error()))
	}
	return code
}

// exitCode maps a command's error to the documented exit codes
// (docs/cli.md): a failed check or gate is not an error that happened.
func exitCode(err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return cli.ExitOK
	case errors.Is(err, cli.ErrUsage):
		return cli.ExitUsage
	case errors.Is(err, cli.ErrCheckFailed), errors.Is(err, flags.ErrGateRefused), errors.Is(err, migrator.ErrGateFailed),
		errors.Is(err, subscriptions.ErrStreamUnusable), errors.Is(err, stores.ErrInspectFailed):
		return cli.ExitCheckFailed
	default:
		return cli.ExitError
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: switchyard <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun switchyard <command> --help for the flags of a command.")
}

// splitAction takes the action word of a command with actions (subs list,
// dlq replay, flags set): it returns the action and the arguments after it.
// --help before any action prints usage and returns flag.ErrHelp (exit 0);
// no action, or a flag where the action belongs, is a usage error listing
// the actions.
func splitAction(command, usage, actions string, args []string, stdout io.Writer) (string, []string, error) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:], nil
	}
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fmt.Fprintln(stdout, "Usage: switchyard "+usage)
		return "", nil, flag.ErrHelp
	}
	return "", nil, cli.Usagef("%s needs an action: %s", command, actions)
}
