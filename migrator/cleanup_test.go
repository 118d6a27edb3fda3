package migrator

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchyard/switchyard/subscriptions"
)

// fakeStages is a ReadStages with a default stage.
type fakeStages struct {
	counts   map[string]int
	defaults []string
}

func (f fakeStages) CountByStage(context.Context) (map[string]int, error) { return f.counts, nil }
func (f fakeStages) StagesWithoutOverride(context.Context) ([]string, error) {
	return f.defaults, nil
}

func TestCleanupGateReadStagesAndForce(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.consumer(legacyName, "legacy", subscriptions.StartAll)
	e.consumer(targetName, "target", subscriptions.StartNew)
	src, _ := sqliteStore(t, "source")
	dst, _ := sqliteStore(t, "target")
	seed(t, src, "tasks", 100)
	if _, err := Backfill(ctx, e.backfillConfig(src, dst, "tasks")); err != nil {
		t.Fatal(err)
	}
	if res, err := Verify(ctx, e.verifyConfig(src, dst, nil, "tasks")); err != nil || !res.Clean {
		t.Fatalf("verify %+v %v", res, err)
	}
	cfg := CleanupConfig{JS: e.js, State: e.state, Stream: testStream, LegacyConsumer: legacyName}

	cases := []struct {
		name   string
		stages ReadStages
		ok     bool
	}{
		{"one client in shadow", fakeStages{counts: map[string]int{"shadow": 1, "target": 5}, defaults: []string{"target"}}, false},
		{"default stage legacy", fakeStages{counts: map[string]int{"target": 5}, defaults: []string{"legacy"}}, false},
		{"rollout to target-shadow", fakeStages{counts: map[string]int{"target": 5}, defaults: []string{"target", "target-shadow"}}, false},
		{"everyone on target", fakeStages{counts: map[string]int{"target": 5}, defaults: []string{"target"}}, true},
	}
	for _, c := range cases {
		cfg.ReadStages = c.stages
		conds, err := CheckReadiness(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := conditionOK(conds, "no client reads the legacy store"); got != c.ok {
			t.Errorf("%s: condition ok=%v, want %v (%v)", c.name, got, c.ok, conds)
		}
	}

	// A stale verify fails the gate; forcing needs a reason and records it.
	cfg.ReadStages = nil
	cfg.Now = func() time.Time { return time.Now().Add(48 * time.Hour) }
	_, err := Cleanup(ctx, cfg)
	var gate *GateError
	if !errors.As(err, &gate) || conditionOK(gate.Conditions, "last verify recent") {
		t.Fatalf("stale verify: %v", err)
	}
	cfg.Force = true
	if _, err := Cleanup(ctx, cfg); err == nil || errors.Is(err, ErrGateFailed) {
		t.Fatalf("force without a reason: %v", err)
	}
	cfg.Reason = "verify is stale but the legacy database is gone"
	rec, err := Cleanup(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	stored, found, err := e.state.Cleanup(ctx)
	if err != nil || !found || !stored.Forced || stored.Reason != cfg.Reason || rec.Consumer != legacyName {
		t.Fatalf("cleanup record %+v found=%v err=%v", stored, found, err)
	}
	if ph, _ := e.state.Phase(ctx); ph.Phase != PhaseCleanedUp {
		t.Fatalf("phase %s", ph.Phase)
	}
}
