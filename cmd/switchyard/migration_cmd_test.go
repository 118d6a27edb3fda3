package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/migrator"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/all"
	"github.com/switchyard/switchyard/subscriptions"
)

func TestMigratorUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, []byte("{not json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src, dst := "sqlite:"+filepath.Join(dir, "s.db"), "sqlite:"+filepath.Join(dir, "t.db")
	cases := [][]string{
		{"backfill"},
		{"backfill", "--source", src, "--target", dst},
		{"backfill", "--source", "nodsn", "--target", dst, "--entities", "tasks"},
		{"backfill", "--source", src, "--target", dst, "--entities", "Tasks"},
		{"backfill", "--source", src, "--target", dst, "--entities", "tasks", "--chunk", "0"},
		{"backfill", "--source", src, "--target", dst, "--entities", "tasks", "--copiers", "0"},
		{"backfill", "--source", src, "--target", dst, "--entities", "tasks", "--max-rate", "-1"},
		{"backfill", "--source", src, "--target", dst, "--entities", "tasks", "--legacy-consumer", ""},
		{"backfill", "--source", src, "--target", dst, "--entities", "tasks", "--restart", "--dry-run"},
		{"backfill", "rate"},
		{"backfill", "rate", "fast"},
		{"backfill", "pause", "now"},
		{"verify", "--source", src, "--target", dst},
		{"verify", "--source", src, "--target", dst, "--entities", "tasks", "--chunk", "-5"},
		{"verify", "--source", src, "--target", dst, "--entities", "tasks", "--settle-timeout", "0s"},
		{"repair", "--source", src, "--target", dst, "--findings", filepath.Join(dir, "missing.jsonl")},
		{"repair", "--source", src, "--target", dst, "--findings", bad},
		{"repair", "--target", dst},
		{"cleanup"},
		{"cleanup", "--legacy-consumer", "legacy", "--force"},
		{"cleanup", "--legacy-consumer", "legacy", "--max-verify-age", "0s"},
		{"status", "extra"},
	}
	for _, args := range cases {
		code, _, errOut := runCmd(t, args...)
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		if code != 2 || len(lines) != 1 || lines[0] == "" {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line", args, code, errOut)
		}
	}
}

// TestMigrationCommands walks backfill, status, verify, repair and cleanup
// through the binary's entry point.
func TestMigrationCommands(t *testing.T) {
	ctx := context.Background()
	srv := testenv.NATS(t)
	_, js := srv.Connect()
	if _, err := subscriptions.EnsureStream(ctx, js, subscriptions.StreamSpec{Name: "EVENTS", Subjects: []string{"events.>"}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"legacy", "target"} {
		if _, err := subscriptions.EnsureConsumer(ctx, js, subscriptions.ConsumerSpec{Stream: "EVENTS", Name: c, Role: c, Start: subscriptions.StartPosition{Kind: subscriptions.StartNew}}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	srcDSN, dstDSN := "sqlite:"+filepath.Join(dir, "legacy.db"), "sqlite:"+filepath.Join(dir, "target.db")
	src, err := all.Open(ctx, srcDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var ws []stores.Write
	for i := range 500 {
		ws = append(ws, stores.Write{Entity: "tasks", Key: fmt.Sprintf("k%04d", i), Client: fmt.Sprintf("c%d", i%2), Version: 1, Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
	}
	if _, err := src.Apply(ctx, ws); err != nil {
		t.Fatal(err)
	}
	common := []string{"--nats", srv.URL, "--source", srcDSN, "--target", dstDSN, "--entities", "tasks"}

	code, out, errOut := runCmd(t, append([]string{"backfill", "--dry-run"}, common...)...)
	if code != 0 || !strings.Contains(out, "would insert 500") {
		t.Fatalf("dry run: %d %s %s", code, out, errOut)
	}
	code, out, errOut = runCmd(t, append([]string{"backfill", "--chunk", "100"}, common...)...)
	if code != 0 || !strings.Contains(out, "500 inserted") {
		t.Fatalf("backfill: %d %s %s", code, out, errOut)
	}
	if code, out, errOut = runCmd(t, "backfill", "rate", "250", "--nats", srv.URL); code != 0 || !strings.Contains(out, "max 250 rows/s") {
		t.Fatalf("backfill rate: %d %s %s", code, out, errOut)
	}

	// cleanup refuses: nothing verified yet.
	code, out, _ = runCmd(t, "cleanup", "--nats", srv.URL, "--legacy-consumer", "legacy")
	if code != 1 || !strings.Contains(out, "[FAIL] last verify clean") || !strings.Contains(out, "[PASS] backfill complete") {
		t.Fatalf("cleanup before verify: %d %s", code, out)
	}
	code, _, errOut = runCmd(t, "cleanup", "--nats", srv.URL, "--legacy-consumer", "legacy", "--force", "--reason", "testing")
	if code != 2 || !strings.Contains(errOut, "--confirm=legacy") {
		t.Fatalf("forced cleanup without confirmation: %d %s", code, errOut)
	}

	// A planted difference: verify finds it, repair fixes it.
	dst, err := all.Open(ctx, dstDSN)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Apply(ctx, []stores.Write{{Entity: "tasks", Key: "k0007", Client: "c1", Version: 1, Deleted: true}}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Apply(ctx, []stores.Write{{Entity: "tasks", Key: "k0008", Client: "c0", Version: 2, Data: json.RawMessage(`{"n":"new"}`)}}); err != nil {
		t.Fatal(err)
	}
	dst.Close()
	findings := filepath.Join(dir, "findings.jsonl")
	verifyArgs := append([]string{"verify", "--chunk", "50", "--out", findings}, common...)
	code, out, errOut = runCmd(t, verifyArgs...)
	if code != 1 || !strings.Contains(out, "1 DIFFERENCES: different 1") || !strings.Contains(errOut, "switchyard repair") {
		t.Fatalf("verify with a difference: %d %s %s", code, out, errOut)
	}
	code, out, errOut = runCmd(t, "repair", "--source", srcDSN, "--target", dstDSN, "--findings", findings)
	if code != 0 || !strings.Contains(out, "repaired 1") {
		t.Fatalf("repair: %d %s %s", code, out, errOut)
	}
	code, out, errOut = runCmd(t, verifyArgs...)
	if code != 0 || !strings.Contains(out, "CLEAN") {
		t.Fatalf("verify after repair: %d %s %s", code, out, errOut)
	}

	code, out, errOut = runCmd(t, "status", "--nats", srv.URL, "--json")
	var st migrator.MigrationStatus
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Phase.Phase != migrator.PhaseVerifying || st.Backfill == nil || !st.Backfill.Complete || st.Verify == nil || !st.Verify.Result.Clean {
		t.Fatalf("status --json: %d %s %s", code, out, errOut)
	}
	code, out, _ = runCmd(t, "status", "--nats", srv.URL)
	for _, want := range []string{"Migration phase: verifying", "legacy", "target", "tasks", "done", "CLEAN", "flags not in use"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("status lacks %q: %s", want, out)
		}
	}

	code, out, errOut = runCmd(t, "cleanup", "--nats", srv.URL, "--legacy-consumer", "legacy", "--check")
	if code != 0 || strings.Contains(out, "[FAIL]") {
		t.Fatalf("cleanup --check: %d %s %s", code, out, errOut)
	}
	code, out, errOut = runCmd(t, "cleanup", "--nats", srv.URL, "--legacy-consumer", "legacy")
	if code != 0 || !strings.Contains(out, "removed the legacy subscription legacy") {
		t.Fatalf("cleanup: %d %s %s", code, out, errOut)
	}
	if _, err := subscriptions.Inspect(ctx, js, "EVENTS", "legacy"); err == nil {
		t.Fatal("legacy consumer still exists after cleanup")
	}
}
