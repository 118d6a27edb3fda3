package opstest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/all"
	"github.com/switchyard/switchyard/subscriptions"
)

// backfillAndVerifyMetrics scrapes /metrics of a running backfill and a
// running verify (both throttled so they are still running when scraped),
// checks rows, rate and progress of each, and verify's findings by kind, and
// returns both expositions as last scraped while they ran.
func backfillAndVerifyMetrics(t *testing.T) (backfill, verify string) {
	const rows = 600
	srv := testenv.NATS(t)
	_, js := srv.Connect()
	ctx := context.Background()
	if _, err := subscriptions.EnsureStream(ctx, js, subscriptions.StreamSpec{Name: "EVENTS", Subjects: []string{"events.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := subscriptions.EnsureConsumer(ctx, js, subscriptions.ConsumerSpec{Stream: "EVENTS", Name: "target", Start: subscriptions.StartPosition{Kind: subscriptions.StartNew}}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	legacyDSN, targetDSN := "sqlite:"+filepath.Join(dir, "legacy.db"), "sqlite:"+filepath.Join(dir, "target.db")
	legacy, err := all.Open(ctx, legacyDSN)
	if err != nil {
		t.Fatal(err)
	}
	var writes []stores.Write
	for i := 0; i < rows; i++ {
		data, _ := json.Marshal(map[string]any{"title": fmt.Sprint("t", i)})
		writes = append(writes, stores.Write{Entity: "task", Key: fmt.Sprintf("k%04d", i), Client: "acme", Version: 1, Data: data})
	}
	if _, err := legacy.Apply(ctx, writes); err != nil {
		t.Fatal(err)
	}
	legacy.Close()

	env := []string{"SWITCHYARD_NATS=" + srv.URL}
	common := []string{"--source", legacyDSN, "--target", targetDSN, "--entities", "task", "--max-rate", "150"}
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	startProcess(t, env, append([]string{"backfill", "--no-watermark-wait", "--chunk", "50", "--batch", "50", "--http", addr}, common...)...)
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		text := scrape(t, "http://"+addr+"/metrics")
		backfill = text
		done, _ := sample(text, "switchyard_backfill_rows_total")
		ratio, _ := sample(text, "switchyard_backfill_progress_ratio")
		_, rate := sample(text, "switchyard_backfill_rows_per_second")
		return done > 0 && ratio > 0 && ratio < 1 && rate, fmt.Sprintf("rows %v, progress %v", done, ratio)
	}, "backfill progress on /metrics while it copies")

	// Wait for the backfill to finish, then plant a row only the target has.
	testenv.Eventually(t, 60*time.Second, func() (bool, string) {
		return scrape(t, "http://"+addr+"/metrics") == "", "backfill still serving /metrics"
	}, "backfill finished")
	target, err := all.Open(ctx, targetDSN)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := target.Apply(ctx, []stores.Write{{Entity: "task", Key: "zz-extra", Client: "acme", Version: 1, Data: json.RawMessage(`{"title":"only here"}`)}}); err != nil {
		t.Fatal(err)
	}
	target.Close()

	addr = fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	startProcess(t, env, append([]string{"verify", "--legacy-consumer", "", "--chunk", "50", "--out", filepath.Join(dir, "findings.jsonl"), "--http", addr}, common...)...)
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		text := scrape(t, "http://"+addr+"/metrics")
		verify = text
		done, _ := sample(text, "switchyard_verify_rows_total")
		_, ratio := sample(text, "switchyard_verify_progress_ratio")
		_, findings := sample(text, "switchyard_verify_findings_total", `kind="extra"`)
		return done > 0 && ratio && findings, fmt.Sprintf("rows %v", done)
	}, "verify progress on /metrics while it compares")
	testenv.Eventually(t, 60*time.Second, func() (bool, string) {
		return scrape(t, "http://"+addr+"/metrics") == "", "verify still serving /metrics"
	}, "verify finished")
	findings, err := os.ReadFile(filepath.Join(dir, "findings.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(findings), `"zz-extra"`) || !strings.Contains(string(findings), `"extra"`) || strings.Count(string(findings), "\n") != 1 {
		t.Errorf("findings = %s, want exactly the planted extra row", findings)
	}
	return backfill, verify
}
