package migrator

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/subscriptions"
)

// heldBackLegacy builds the race the watermark exists for: the legacy
// subscription applied the first version of every key, then was stopped;
// an update of t00003 was published; then the target subscription was
// created (so it starts after the update) and its worker started.
func heldBackLegacy(t *testing.T) (e *env, p *producer, legacy, target stores.Store, resumeLegacy func()) {
	e = newEnv(t)
	e.consumer(legacyName, "legacy", subscriptions.StartAll)
	legacy, _ = sqliteStore(t, "legacy")
	target, _ = sqliteStore(t, "target")
	p = newProducer(t, e.js, "tasks")
	p.create(50)
	stop := startWorker(t, e.js, legacyName, legacy)
	drained(t, e.js, legacyName)
	stop() // the legacy worker is held back from here on
	update := p.event("t00003", false)
	if err := p.publish(context.Background(), []events.Event{update}); err != nil {
		t.Fatal(err)
	}
	e.consumer(targetName, "target", subscriptions.StartNew)
	startWorker(t, e.js, targetName, target)
	resumeLegacy = func() { startWorker(t, e.js, legacyName, legacy) }
	return e, p, legacy, target, resumeLegacy
}

func TestBackfillWaitsForTheWatermark(t *testing.T) {
	e, p, legacy, target, resumeLegacy := heldBackLegacy(t)
	var logs testenv.Buffer
	cfg := e.backfillConfig(legacy, target, "tasks")
	cfg.Log = slog.New(slog.NewTextHandler(&logs, nil))
	errc := make(chan error, 1)
	go func() { _, err := Backfill(context.Background(), cfg); errc <- err }()

	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		return strings.Contains(logs.String(), "waiting for the legacy subscription to reach the watermark"), logs.String()
	}, "backfill says what it waits for")
	out := logs.String()
	for _, want := range []string{"watermark=52", "ack_floor=50", "events_behind=1"} {
		if !strings.Contains(out, want) {
			t.Errorf("wait message lacks %q: %s", want, out)
		}
	}
	if _, found, _ := e.state.BackfillRun(context.Background()); found {
		t.Fatal("a run was recorded before the watermark was reached")
	}
	if recs, _ := target.Scan(context.Background(), "tasks", stores.Range{}); len(recs) != 0 {
		t.Fatalf("the backfill copied %d rows before the watermark", len(recs))
	}
	resumeLegacy()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("backfill did not finish after the legacy subscription caught up")
	}
	p.model.check(t, target, "tasks")
}

// TestLostUpdateWithoutWatermarkWait is the companion: copying without the
// wait takes t00003 in its old state, and the update never reaches the
// target, because it was published before the target subscription started.
func TestLostUpdateWithoutWatermarkWait(t *testing.T) {
	ctx := context.Background()
	e, p, legacy, target, resumeLegacy := heldBackLegacy(t)
	cfg := e.backfillConfig(legacy, target, "tasks")
	cfg.SkipWatermarkWait = true
	if _, err := Backfill(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	resumeLegacy()
	drained(t, e.js, legacyName)
	drained(t, e.js, targetName)
	p.model.check(t, legacy, "tasks") // the legacy store has the update
	want := p.model.rows["t00003"]
	got := mustGet(t, target, "tasks", "t00003")
	if same, _ := sameContent(&stores.Record{Client: want.client, Data: want.data}, &got); same {
		t.Fatal("the update reached the target although the copy did not wait; the scenario is broken")
	}
	var out bytes.Buffer
	res, err := Verify(ctx, e.verifyConfig(legacy, target, &out, "tasks"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Differences != 1 || res.ByKind["different"] != 1 || !strings.Contains(out.String(), `"key":"t00003"`) {
		t.Fatalf("verify must report the lost update: %+v %s", res, out.String())
	}
	if run, _, _ := e.state.BackfillRun(ctx); !run.WatermarkSkipped {
		t.Fatal("the run must record that it skipped the watermark")
	}
}
