package quickstart

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/migrator"
	"github.com/switchyard/switchyard/subscriptions"
)

// TestQuickstartWalksTheMigrationAndResumes runs the quickstart until its
// verify is clean, stops it, runs it again from the same folder and checks
// that it resumed: same subscriptions and start position, backfill not
// repeated, verify clean again.
func TestQuickstartWalksTheMigrationAndResumes(t *testing.T) {
	dir := t.TempDir()
	port := testenv.FreePort(t)
	cfg := Config{Dir: dir, NATSPort: port, ConsoleAddr: "off", Rate: 200, TargetDelay: 300 * time.Millisecond, Refresh: 200 * time.Millisecond}

	first := runUntilVerified(t, cfg, 0)
	second := runUntilVerified(t, cfg, first.legacyAcked)

	if first.startSeq == 0 || second.startSeq != first.startSeq {
		t.Errorf("target subscription start: first run %d, second run %d; want the same, recorded once", first.startSeq, second.startSeq)
	}
	if second.backfillRun != first.backfillRun {
		t.Errorf("the second run started a new backfill (%s, first %s) instead of keeping the finished one", second.backfillRun, first.backfillRun)
	}
}

type runFacts struct {
	startSeq    uint64
	backfillRun string
	legacyAcked uint64
}

// runUntilVerified runs the quickstart until a verify of this run is clean
// and the legacy subscription acknowledged events beyond legacyAckedBefore
// (it went on from where the previous run stopped), then stops it.
func runUntilVerified(t *testing.T, cfg Config, legacyAckedBefore uint64) runFacts {
	t.Helper()
	out := &testenv.Buffer{}
	cfg.Out = out
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	verifyStarted := time.Now()
	go func() { done <- Run(ctx, cfg) }()

	var nc *nats.Conn
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		var err error
		nc, err = nats.Connect("nats://127.0.0.1:"+strconv.Itoa(cfg.NATSPort), nats.MaxReconnects(0))
		return err == nil, "connect"
	}, "embedded broker up")
	defer nc.Close()
	js, _ := jetstream.New(nc)

	var facts runFacts
	testenv.Eventually(t, 60*time.Second, func() (bool, string) {
		state, err := migrator.OpenState(ctx, js, migrator.DefaultBucket)
		if err != nil {
			return false, err.Error()
		}
		res, found, err := state.LastVerify(ctx, "")
		if err != nil || !found || res.FinishedAt.Before(verifyStarted) {
			return false, "no verify finished in this run yet"
		}
		if !res.Clean {
			t.Fatalf("verify found differences: %+v", res)
		}
		run, found, err := state.BackfillRun(ctx)
		if err != nil || !found {
			return false, "no backfill run"
		}
		facts.backfillRun = run.ID
		return true, ""
	}, "a clean verify of legacy.db against target.db")

	target, err := subscriptions.Inspect(ctx, js, Stream, TargetConsumer)
	if err != nil {
		t.Fatal(err)
	}
	var legacy subscriptions.Status
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		legacy, err = subscriptions.Inspect(ctx, js, Stream, LegacyConsumer)
		if err != nil {
			return false, err.Error()
		}
		return legacy.AckFloor > legacyAckedBefore, fmt.Sprintf("legacy ack floor %d, previous run stopped at %d", legacy.AckFloor, legacyAckedBefore)
	}, "the legacy subscription going on from where the previous run stopped")
	facts.startSeq, facts.legacyAcked = target.StartSeq, legacy.AckFloor
	if legacy.DeadLetters != 0 || target.DeadLetters != 0 {
		t.Errorf("dead letters: legacy %d, target %d", legacy.DeadLetters, target.DeadLetters)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not stop within 30 s of cancellation")
	}
	if !strings.Contains(out.String(), "migration phase") || !strings.Contains(out.String(), "stopped;") {
		t.Errorf("the live display did not show the phases and the stop:\n%s", out.String())
	}
	return facts
}
