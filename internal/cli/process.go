package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// SignalContext returns a context cancelled on the first SIGINT or SIGTERM,
// so a command drains; a second signal takes the default action and kills
// the process. stop releases the signals.
func SignalContext(parent context.Context) (ctx context.Context, stop context.CancelFunc) {
	ctx, stop = signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal now takes the default action
	}()
	return ctx, stop
}

// ExitCode maps a command's error to the exit codes (docs/cli.md): nil and
// flag.ErrHelp are ExitOK; ErrUsage, or any of usage, ExitUsage;
// ErrCheckFailed, or any of checkFailed, ExitCheckFailed (a failed check
// or gate is not an error that happened); anything else ExitError.
func ExitCode(err error, usage, checkFailed []error) int {
	is := func(targets ...error) bool {
		for _, t := range targets {
			if errors.Is(err, t) {
				return true
			}
		}
		return false
	}
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.Is(err, ErrUsage), is(usage...):
		return ExitUsage
	case errors.Is(err, ErrCheckFailed), is(checkFailed...):
		return ExitCheckFailed
	}
	return ExitError
}

// SplitAction takes the action word of a command with actions (subs list,
// dlq replay, flags set): it returns the action and the arguments after it.
// --help before any action prints "Usage: switchyard "+usage and returns
// flag.ErrHelp (exit 0); no action, or a flag where the action belongs, is
// a usage error listing the actions.
func SplitAction(command, usage, actions string, args []string, stdout io.Writer) (string, []string, error) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:], nil
	}
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fmt.Fprintln(stdout, "Usage: switchyard "+usage)
		return "", nil, flag.ErrHelp
	}
	return "", nil, Usagef("%s needs an action: %s", command, actions)
}
