package migrator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/all"
	_ "github.com/switchyard/switchyard/stores/postgres"
	"github.com/switchyard/switchyard/subscriptions"
)

func postgresStore(t testing.TB) stores.Store {
	t.Helper()
	st, err := all.Open(context.Background(), testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// TestMigrationEndToEnd walks the whole migration while the application
// keeps writing: the target subscription is added to a running legacy one,
// the backfill is interrupted and resumed twice, verify (while events are
// still flowing) reports no differences, and cleanup refuses until its gate
// passes, then removes the legacy subscription.
func TestMigrationEndToEnd(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		target, _ := sqliteStore(t, "target")
		migrationEndToEnd(t, target)
	})
	t.Run("postgres", func(t *testing.T) {
		migrationEndToEnd(t, postgresStore(t))
	})
}

func migrationEndToEnd(t *testing.T, target stores.Store) {
	ctx := context.Background()
	e := newEnv(t)
	e.consumer(legacyName, "legacy", subscriptions.StartAll)
	legacy, _ := sqliteStore(t, "legacy")
	const keys = 3000
	p := newProducer(t, e.js, "tasks")
	p.create(keys)
	startWorker(t, e.js, legacyName, legacy)
	prodCtx, stopProducer := context.WithCancel(ctx)
	defer stopProducer()
	prodDone := make(chan error, 1)
	go func() { prodDone <- p.run(prodCtx, 2, keys) }()

	// The new subscription joins a running system.
	e.consumer(targetName, "target", subscriptions.StartNew)
	startWorker(t, e.js, targetName, target)
	cleanupCfg := CleanupConfig{JS: e.js, State: e.state, Stream: testStream, LegacyConsumer: legacyName, MaxLag: 1000}
	if _, err := Cleanup(ctx, cleanupCfg); !errors.Is(err, ErrGateFailed) {
		t.Fatalf("cleanup before the backfill: %v, want ErrGateFailed", err)
	}

	// The backfill, killed twice.
	backfillKilledAndResumed(t, e, 2, func() BackfillConfig {
		cfg := e.backfillConfig(legacy, target, "tasks")
		cfg.MaxRate = 3000
		return cfg
	})

	// The gate still fails: nothing verified yet.
	if _, err := Cleanup(ctx, cleanupCfg); !errors.Is(err, ErrGateFailed) {
		t.Fatalf("cleanup before verify: %v, want ErrGateFailed", err)
	}
	var gate *GateError
	_, err := Cleanup(ctx, cleanupCfg)
	if !errors.As(err, &gate) || !conditionOK(gate.Conditions, "backfill complete") || conditionOK(gate.Conditions, "last verify clean") {
		t.Fatalf("gate conditions: %v", err)
	}

	// Verify while events still flow: in-flight keys settle.
	var findings bytes.Buffer
	vcfg := e.verifyConfig(legacy, target, &findings, "tasks")
	vcfg.ChunkRows = 500
	res, err := Verify(ctx, vcfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Differences != 0 {
		t.Fatalf("verify under load: %+v\n%s", res, findings.String())
	}
	t.Logf("verify under load: %d rows, %d keys settled", res.RowsSource, res.Settled)
	stopProducer()
	if err := <-prodDone; err != nil {
		t.Fatal(err)
	}
	drained(t, e.js, legacyName)
	drained(t, e.js, targetName)
	p.model.check(t, legacy, "tasks")
	p.model.check(t, target, "tasks")
	if ph, _ := e.state.Phase(ctx); ph.Phase != PhaseVerifying {
		t.Fatalf("phase %s after a complete verify, want verifying", ph.Phase)
	}

	rec, err := Cleanup(ctx, cleanupCfg)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Forced || len(rec.Conditions) == 0 {
		t.Fatalf("cleanup record %+v", rec)
	}
	if _, err := subscriptions.Inspect(ctx, e.js, testStream, legacyName); !errors.Is(err, subscriptions.ErrNotFound) {
		t.Fatalf("legacy consumer after cleanup: %v", err)
	}
	if ph, _ := e.state.Phase(ctx); ph.Phase != PhaseCleanedUp {
		t.Fatalf("phase %s, want cleaned-up", ph.Phase)
	}
	st, err := GatherStatus(ctx, StatusConfig{JS: e.js, State: e.state, Stream: testStream})
	if err != nil || st.Cleanup == nil || st.Backfill == nil || !st.Backfill.Complete || st.Verify == nil || !st.Verify.Result.Clean {
		t.Fatalf("status after cleanup: %+v, %v", st, err)
	}
}

func conditionOK(conds []Condition, name string) bool {
	for _, c := range conds {
		if c.Name == name {
			return c.OK
		}
	}
	return false
}

// backfillKilledAndResumed runs the backfill of "tasks" kills times,
// cancelling each run once it has copied a chunk more than the run before,
// then lets a last run resume and finish it; it fails the test unless that
// run joined the interrupted one and completed. newConfig makes each run's
// configuration, throttled so that a run cannot finish before it is
// cancelled.
func backfillKilledAndResumed(t *testing.T, e *env, kills int, newConfig func() BackfillConfig) BackfillReport {
	t.Helper()
	ctx := context.Background()
	for attempt := range kills {
		runCtx, kill := context.WithCancel(ctx)
		errc := make(chan error, 1)
		go func() { _, err := Backfill(runCtx, newConfig()); errc <- err }()
		want := 0
		if p, ok, _ := e.state.EntityProgress(ctx, "tasks"); ok {
			want = p.ChunksDone
		}
		testenv.Eventually(t, 60*time.Second, func() (bool, string) {
			p, _, err := e.state.EntityProgress(ctx, "tasks")
			return err == nil && p.ChunksDone > want, fmt.Sprintf("%d chunks done, err %v", p.ChunksDone, err)
		}, fmt.Sprintf("backfill attempt %d copies a chunk", attempt))
		kill()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("backfill attempt %d: %v, want context.Canceled", attempt, err)
		}
		if p, _, _ := e.state.EntityProgress(ctx, "tasks"); p.Done {
			t.Fatalf("backfill attempt %d finished before it was cancelled: lower its MaxRate", attempt)
		}
	}
	cfg := newConfig()
	cfg.MaxRate = 0
	rep, err := Backfill(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Joined || !rep.Complete {
		t.Fatalf("final backfill %+v: want it to resume the interrupted run and complete it", rep)
	}
	return rep
}
