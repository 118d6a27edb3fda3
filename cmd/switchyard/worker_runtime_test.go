package main

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/workers"
)

// TestWorkerGCPercent checks the worker's garbage collection target: 400
// unless given, and refused when not positive.
func TestWorkerGCPercent(t *testing.T) {
	parse := func(args ...string) (workerFlags, error) {
		f, _, err := parseWorkerFlags(args...)
		return f, err
	}
	f, err := parse()
	if err != nil || f.gcPercent != 400 {
		t.Fatalf("default: --gc-percent %d, %v", f.gcPercent, err)
	}
	if f, err := parse("--gc-percent", "150"); err != nil || f.gcPercent != 150 {
		t.Fatalf("--gc-percent 150: %d, %v", f.gcPercent, err)
	}
	for _, bad := range []string{"0", "-1"} {
		_, err := parse("--gc-percent", bad)
		if !errors.Is(err, cli.ErrUsage) || !strings.Contains(err.Error(), "--gc-percent") {
			t.Errorf("--gc-percent %s: %v, want a usage error naming the flag", bad, err)
		}
	}
}

// TestWorkerMaxProcs checks the worker's GOMAXPROCS: 1 unless given, 0
// for Go's choice, and refused when negative.
func TestWorkerMaxProcs(t *testing.T) {
	parse := func(args ...string) (int, error) {
		_, p, err := parseWorkerFlags(args...)
		return p.MaxProcs, err
	}
	for args, want := range map[string]int{"": 1, "--max-procs 0": 0, "--max-procs 3": 3} {
		if got, err := parse(strings.Fields(args)...); err != nil || got != want {
			t.Errorf("%q: MaxProcs %d, %v; want %d", args, got, err, want)
		}
	}
	if _, err := parse("--max-procs", "-1"); !errors.Is(err, cli.ErrUsage) || !strings.Contains(err.Error(), "--max-procs") {
		t.Errorf("--max-procs -1: %v, want a usage error naming the flag", err)
	}
}

// parseWorkerFlags parses the worker command's flags after a consumer and a
// sink, and builds its configuration.
func parseWorkerFlags(args ...string) (workerFlags, workers.ProcessConfig, error) {
	fs := cli.NewFlagSet("worker", workerUsage, io.Discard)
	var f workerFlags
	f.register(fs)
	if err := fs.Parse(append([]string{"--consumer", "c", "--sink", "sqlite:x.db"}, args...)); err != nil {
		return f, workers.ProcessConfig{}, err
	}
	p, err := f.config()
	return f, p, err
}
