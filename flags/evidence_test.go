package flags_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/flagstest"
	"github.com/switchyard/switchyard/internal/testenv"
)

func shadowCondition(st flags.GateStatus) flags.Condition {
	for _, c := range st.Conditions {
		if c.Name == flags.GateShadow {
			return c
		}
	}
	return flags.Condition{}
}

// Distinct keys are counted exactly across routers: the same key seen by
// two routers is one key, different keys add up.
func TestShadowKeysUnionAcrossRouters(t *testing.T) {
	env := flagstest.NewStoreEnv(t)
	ctx := testenv.Context(t)
	const c = "spread"
	a, err := flags.OpenShadowStats(ctx, env.JS, flags.ShadowStatsConfig{RouterID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := flags.OpenShadowStats(ctx, env.JS, flags.ShadowStatsConfig{RouterID: "b"})
	if err != nil {
		t.Fatal(err)
	}
	a.ObserveRead(c, flags.ReadObservation{Shadow: flags.ShadowMatch, Entity: "orders", Keys: []string{"k1", "k2"}})
	b.ObserveRead(c, flags.ReadObservation{Shadow: flags.ShadowMatch, Entity: "orders", Keys: []string{"k2", "k3"}})
	b.ObserveRead(c, flags.ReadObservation{Shadow: flags.ShadowMatch, Entity: "invoices", Keys: []string{"k1"}})
	// An abandoned read counts for nothing.
	b.ObserveRead(c, flags.ReadObservation{Served: flags.StoreTarget, ServedErr: true, Abandoned: true})
	if err := errors.Join(a.Flush(ctx), b.Flush(ctx)); err != nil {
		t.Fatal(err)
	}
	sum, err := a.ClientStats(ctx, c)
	if err != nil || sum.Matches != 3 || sum.Keys != 4 || sum.TargetErrors != 0 || sum.FirstCompared.IsZero() {
		t.Fatalf("summed = %+v %v, want 3 matches over 4 distinct keys", sum, err)
	}
}

// Lowering or disabling a gate threshold makes every move onto the target
// a forced one: refused without force, recorded as forced with it.
func TestLoweredGateThresholdNeedsForce(t *testing.T) {
	env := flagstest.NewStoreEnv(t)
	ctx := testenv.Context(t)
	src := &flagstest.GateSource{BackfillDone: true, Dirty: map[string]string{}}
	lowered := flags.NewGates(flags.GatesConfig{Source: src, Shadow: flagstest.Shadow{}, MinShadowReads: -1})
	store, err := flags.OpenStore(ctx, env.JS, flags.StoreConfig{Audit: env.Audit, Gates: lowered})
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.SetStage(ctx, flags.Change{Client: "acme", Stage: flags.StageTarget, Reason: "gate off", Actor: "ann"})
	var refused *flags.GateRefusedError
	if !errors.As(err, &refused) || !strings.Contains(err.Error(), "gate-thresholds: lowered below the defaults: min shadow reads disabled (default 100)") {
		t.Fatalf("move under a disabled shadow gate: %v, want a refusal naming the lowered threshold", err)
	}
	res, err := store.SetStage(ctx, flags.Change{Client: "acme", Stage: flags.StageTarget, Reason: "pilot with a hand-checked client", Actor: "ann", Force: true})
	if err != nil || !res.Forced {
		t.Fatalf("forced: %+v %v", res, err)
	}
	entries, err := env.Audit.List(ctx, flags.AuditQuery{Client: "acme", Limit: 1})
	if err != nil || len(entries) != 1 {
		t.Fatalf("audit: %+v %v", entries, err)
	}
	if e := entries[0]; !e.Forced || e.Reason != "pilot with a hand-checked client" || len(e.FailedGates) != 1 || !strings.HasPrefix(e.FailedGates[0], flags.GateThresholds) {
		t.Fatalf("audit entry = %+v, want forced naming the lowered threshold", e)
	}
	// Every lowered threshold is named; raised ones are not.
	g := flags.NewGates(flags.GatesConfig{MinShadowReads: 500, MinShadowKeys: 5, MinShadowSpan: time.Minute})
	if got := g.Lowered(); got != "min shadow keys 5 (default 20), min shadow span 1m0s (default 10m0s)" {
		t.Fatalf("lowered = %q", got)
	}
	if err := (flags.GatesConfig{MinShadowKeys: flags.MaxShadowKeys + 1}).Validate(); !errors.Is(err, flags.ErrInvalid) {
		t.Fatalf("unreachable key threshold: %v", err)
	}
	// The defaults lower nothing.
	if got := flags.NewGates(flags.GatesConfig{}).Lowered(); got != "" {
		t.Fatalf("defaults lowered = %q", got)
	}
}
