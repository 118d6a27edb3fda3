package migrator

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/subscriptions"
)

func TestThrottlePauseBlocksUntilResumed(t *testing.T) {
	th := NewThrottle(ThrottleConfig{Burst: 10})
	th.Apply(BackfillControl{Paused: true, MaxRate: 100})
	if th.Rate() != 100 || !th.Paused() {
		t.Fatalf("rate %d paused %v", th.Rate(), th.Paused())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := th.Wait(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait while paused returned %v, want it blocked until the deadline", err)
	}
	done := make(chan error, 1)
	go func() { done <- th.Wait(context.Background(), 1) }()
	th.Apply(BackfillControl{Paused: false})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if th.Rate() != 0 {
		t.Fatalf("rate %d after removing the cap", th.Rate())
	}
}

func TestThrottleBacksOffWhileLagIsHigh(t *testing.T) {
	var probes atomic.Int64
	th := NewThrottle(ThrottleConfig{MaxLag: 10, Lag: func(context.Context) (uint64, error) {
		if probes.Add(1) < 3 {
			return 500, nil
		}
		return 2, nil
	}})
	// The lag is cached for 500 ms; make every probe count.
	th.lagChecked = time.Time{}
	if err := th.Wait(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if probes.Load() < 3 || th.Backoffs() < 2 {
		t.Fatalf("probes %d, back-offs %d: want a wait until the lag dropped", probes.Load(), th.Backoffs())
	}
}

func TestThrottleBacksOffAfterSlowWrites(t *testing.T) {
	th := NewThrottle(ThrottleConfig{MaxLatency: time.Millisecond})
	th.ObserveWrite(time.Second)
	if err := th.Wait(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if th.Backoffs() != 1 {
		t.Fatalf("back-offs %d after a slow write, want 1", th.Backoffs())
	}
	th.ObserveWrite(0)
	if err := th.Wait(context.Background(), 1); err != nil || th.Backoffs() != 1 {
		t.Fatalf("a fast write must end the back-off: %v, %d", err, th.Backoffs())
	}
}

// TestBackfillPauseAndResumeWhileRunning pauses through the state bucket
// before the copy starts and resumes while it runs: nothing is copied while
// paused, everything after.
func TestBackfillPauseAndResumeWhileRunning(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.consumer(legacyName, "legacy", subscriptions.StartAll)
	e.consumer(targetName, "target", subscriptions.StartNew)
	src, _ := sqliteStore(t, "source")
	dst, _ := sqliteStore(t, "target")
	seed(t, src, "tasks", 1000)
	if _, err := e.state.UpdateBackfillControl(ctx, func(c *BackfillControl) { c.Paused = true }); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { _, err := Backfill(ctx, e.backfillConfig(src, dst, "tasks")); errc <- err }()
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		p, _, err := e.state.EntityProgress(ctx, "tasks")
		return err == nil && p.PlanDone, "planning"
	}, "every chunk planned")
	if recs, _ := dst.Scan(ctx, "tasks", stores.Range{}); len(recs) != 0 {
		t.Fatalf("%d rows copied while paused", len(recs))
	}
	if _, err := e.state.UpdateBackfillControl(ctx, func(c *BackfillControl) { c.Paused = false }); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if recs, _ := dst.Scan(ctx, "tasks", stores.Range{}); len(recs) != 1000 {
		t.Fatalf("%d rows after resume, want 1000", len(recs))
	}
}
