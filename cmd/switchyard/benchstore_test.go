package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func TestBenchStoreOnSQLite(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "bench.db")
	var stdout, stderr bytes.Buffer
	code := run([]string{"bench-store", "--dsn", dsn, "--rows", "600", "--batch", "250", "--entity", "bench"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d, stderr: %s", code, stderr.String())
	}
	for _, phase := range []string{"apply insert", "apply update", "apply redelivered", "backfill (if absent)", "scan", "checksum"} {
		if !strings.Contains(stdout.String(), phase) {
			t.Fatalf("report lacks phase %q:\n%s", phase, stdout.String())
		}
	}
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"bench-store", "--dsn", dsn, "--rows", "10", "--entity", "bench"}, &stdout, &stderr); code != 3 || !strings.Contains(stderr.String(), "not empty") {
		t.Fatalf("second run on the same entity: exit %d, stderr %q; want 1 and a not-empty error", code, stderr.String())
	}
}

func TestBenchStoreUsage(t *testing.T) {
	for _, args := range [][]string{
		{"bench-store"},
		{"bench-store", "--dsn", "sqlite:x.db", "--rows", "0"},
		{"bench-store", "--dsn", "sqlite:x.db", "--batch", "-1"},
		{"bench-store", "--dsn", "sqlite:x.db", "--entity", "Bad-Name"},
		{"bench-store", "--dsn", "sqlite:x.db", "extra"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 2 {
			t.Fatalf("%q: exit %d, want 2 (stderr %q)", args, code, stderr.String())
		}
	}
}
