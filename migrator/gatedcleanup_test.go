package migrator

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/subscriptions"
)

// TestGatedCleanupAsksBeforeForcing: a failing gate removes nothing, is
// printed, and is overridden only with Force once Confirm agrees.
func TestGatedCleanupAsksBeforeForcing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.consumer(legacyName, "legacy", subscriptions.StartAll)
	cfg := CleanupConfig{JS: e.js, State: e.state, Stream: testStream, LegacyConsumer: legacyName, Reason: "r"}
	refused := errors.New("not confirmed")
	asked := 0
	confirm := func(answer error) func() error { return func() error { asked++; return answer } }
	var out bytes.Buffer
	err := GatedCleanup{Config: cfg, CheckOnly: true}.Run(ctx, &out)
	if !errors.Is(err, ErrGateFailed) || !strings.HasSuffix(err.Error(), "; nothing removed") || !strings.Contains(out.String(), "[FAIL]") {
		t.Fatalf("check only: %v\n%s", err, out.String())
	}
	err = GatedCleanup{Config: cfg, Confirm: confirm(nil)}.Run(ctx, &out)
	if !errors.Is(err, ErrGateFailed) || !strings.HasSuffix(err.Error(), "nothing removed (override with --force --reason R)") || asked != 0 {
		t.Fatalf("not forced: %v (asked %d)", err, asked)
	}
	cfg.Force = true
	if err := (GatedCleanup{Config: cfg, Confirm: confirm(refused)}).Run(ctx, &out); err != refused || asked != 1 {
		t.Fatalf("refused: %v (asked %d)", err, asked)
	}
	if _, err := e.js.Consumer(ctx, testStream, legacyName); err != nil {
		t.Fatalf("removed although refused: %v", err)
	}
	out.Reset()
	if err := (GatedCleanup{Config: cfg, Confirm: confirm(nil)}).Run(ctx, &out); err != nil || asked != 2 {
		t.Fatalf("confirmed: %v (asked %d)", err, asked)
	}
	if want := "removed the legacy subscription legacy on EVENTS (forced: r); the migration is cleaned-up\n"; !strings.HasSuffix(out.String(), want) {
		t.Fatalf("output %q, want suffix %q", out.String(), want)
	}
	if _, err := e.js.Consumer(ctx, testStream, legacyName); err == nil {
		t.Fatal("the legacy consumer is still there")
	}
}
