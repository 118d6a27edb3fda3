package flags_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/flagstest"
	"github.com/switchyard/switchyard/internal/testenv"
)

func TestStoreSetStageAndResolve(t *testing.T) {
	env := flagstest.NewStoreEnv(t)
	ctx := testenv.Context(t)
	client := "acme/eu.west 1" // characters a KV key cannot hold

	v, err := env.Store.Client(ctx, client)
	if err != nil {
		t.Fatal(err)
	}
	if v.Stage != flags.StageLegacy || v.Source != flags.SourceDefault || v.Revision != 0 {
		t.Fatalf("fresh client = %+v, want legacy from default at revision 0", v)
	}
	res, err := env.Store.SetStage(ctx, flags.Change{Client: client, Stage: flags.StageShadow, Reason: "pilot", Actor: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	if res.From != "legacy" || res.To != "shadow" || res.Revision == 0 || res.AuditSeq == 0 {
		t.Fatalf("result = %+v", res)
	}
	v, err = env.Store.Client(ctx, client)
	if err != nil {
		t.Fatal(err)
	}
	if v.Stage != flags.StageShadow || v.Source != flags.SourceOverride || v.Revision != res.Revision || v.Override.Actor != "ann" {
		t.Fatalf("after set: %+v", v)
	}
	list, err := env.Store.ListClients(ctx, flags.ClientQuery{Search: "EU.WEST"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Client != client {
		t.Fatalf("search = %+v", list)
	}
	counts, err := env.Store.CountByStage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts["shadow"] != 1 || counts["legacy"] != 0 || len(counts) != 4 {
		t.Fatalf("counts = %v", counts)
	}
}

func TestStoreOptimisticConcurrency(t *testing.T) {
	env := flagstest.NewStoreEnv(t)
	ctx := testenv.Context(t)
	first, err := env.Store.SetStage(ctx, flags.Change{Client: "c1", Stage: flags.StageShadow, Reason: "r", Actor: "a"})
	if err != nil {
		t.Fatal(err)
	}
	// A second writer based on the stale "no override" view loses.
	_, err = env.Store.SetStage(ctx, flags.Change{Client: "c1", Stage: flags.StageLegacy, Reason: "r", Actor: "b", ExpectedRevision: 0})
	if !errors.Is(err, flags.ErrConflict) {
		t.Fatalf("stale create: err = %v, want ErrConflict", err)
	}
	_, err = env.Store.SetStage(ctx, flags.Change{Client: "c1", Stage: flags.StageLegacy, Reason: "r", Actor: "b", ExpectedRevision: first.Revision + 100})
	if !errors.Is(err, flags.ErrConflict) {
		t.Fatalf("wrong revision: err = %v, want ErrConflict", err)
	}
	if _, err := env.Store.SetStage(ctx, flags.Change{Client: "c1", Stage: flags.StageLegacy, Reason: "r", Actor: "b", ExpectedRevision: first.Revision}); err != nil {
		t.Fatalf("right revision: %v", err)
	}
	_, rev, err := env.Store.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.SetDefault(ctx, flags.ConfigChange{Stage: flags.StageShadow, Reason: "r", Actor: "a", ExpectedRevision: rev + 7}); !errors.Is(err, flags.ErrConflict) {
		t.Fatalf("config with wrong revision: err = %v, want ErrConflict", err)
	}
}

func TestStoreConcurrentWritersOneWins(t *testing.T) {
	env := flagstest.NewStoreEnv(t)
	ctx := testenv.Context(t)
	v, err := env.Store.Client(ctx, "race")
	if err != nil {
		t.Fatal(err)
	}
	const writers = 8
	errs := make(chan error, writers)
	for i := range writers {
		go func() {
			_, err := env.Store.SetStage(ctx, flags.Change{Client: "race", Stage: flags.StageShadow, Reason: fmt.Sprint("writer ", i), Actor: "a", ExpectedRevision: v.Revision})
			errs <- err
		}()
	}
	wins := 0
	for range writers {
		switch err := <-errs; {
		case err == nil:
			wins++
		case !errors.Is(err, flags.ErrConflict):
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d writers won, want exactly 1", wins)
	}
	if h, err := env.Store.History(ctx, "race"); err != nil || len(h) != 1 {
		t.Fatalf("history = %+v, %v", h, err)
	}
}

func TestStoreHistory(t *testing.T) {
	env := flagstest.NewStoreEnv(t)
	ctx := testenv.Context(t)
	for i, st := range []flags.Stage{flags.StageShadow, flags.StageLegacy, flags.StageShadow} {
		if _, err := env.Store.SetStage(ctx, flags.Change{Client: "h", Stage: st, Reason: "step " + string(rune('1'+i)), Actor: "ann", ExpectedRevision: flags.AnyRevision}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := env.Store.ClearOverride(ctx, flags.Clear{Client: "h", Reason: "back to default", Actor: "ann", ExpectedRevision: flags.AnyRevision}); err != nil {
		t.Fatal(err)
	}
	h, err := env.Store.History(ctx, "h")
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 4 || h[0].Override.Stage != flags.StageShadow || h[1].Override.Stage != flags.StageLegacy || h[2].Override.Reason != "step 3" || !h[3].Cleared {
		t.Fatalf("history = %+v", h)
	}
	entries, err := env.Audit.List(ctx, flags.AuditQuery{Client: "h"})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 4 || entries[0].Reason != "back to default" || entries[3].From != "legacy" || entries[3].To != "shadow" {
		t.Fatalf("audit = %+v", entries)
	}
	none, err := env.Store.History(ctx, "never")
	if err != nil || len(none) != 0 {
		t.Fatalf("history of unknown client = %v, %v", none, err)
	}
}

func TestValidation(t *testing.T) {
	env := flagstest.NewStoreEnv(t)
	ctx := testenv.Context(t)
	cases := []struct {
		name  string
		c     flags.Change
		field string
	}{
		{"empty client", flags.Change{Stage: "target", Reason: "r", Actor: "a"}, "client"},
		{"long client", flags.Change{Client: strings.Repeat("x", 256), Stage: "target", Reason: "r", Actor: "a"}, "client"},
		{"control char", flags.Change{Client: "a\nb", Stage: "target", Reason: "r", Actor: "a"}, "client"},
		{"bad utf8", flags.Change{Client: "a\xffb", Stage: "target", Reason: "r", Actor: "a"}, "client"},
		{"unknown stage", flags.Change{Client: "c", Stage: "production", Reason: "r", Actor: "a"}, "stage"},
		{"no reason", flags.Change{Client: "c", Stage: "target", Reason: "  ", Actor: "a"}, "reason"},
		{"no actor", flags.Change{Client: "c", Stage: "target", Reason: "r"}, "actor"},
	}
	for _, tc := range cases {
		_, err := env.Store.SetStage(ctx, tc.c)
		var ie *flags.InvalidError
		if !errors.As(err, &ie) || !errors.Is(err, flags.ErrInvalid) || ie.Field != tc.field {
			t.Errorf("%s: err = %v, want invalid %s", tc.name, err, tc.field)
		}
	}
	if _, err := flags.ParsePercentage("12.345"); !errors.Is(err, flags.ErrInvalid) {
		t.Errorf("three decimals accepted: %v", err)
	}
	if bp, err := flags.ParsePercentage("12.5%"); err != nil || bp != 1250 {
		t.Errorf("12.5%% = %d, %v", bp, err)
	}
	if _, err := flags.ParsePercentage("101"); !errors.Is(err, flags.ErrInvalid) {
		t.Errorf("101 accepted: %v", err)
	}
}

func TestRolloutStability(t *testing.T) {
	cfg := flags.Config{Default: flags.StageLegacy, Salt: "s", Rollout: &flags.Rollout{Stage: flags.StageShadow, BasisPoints: 1000}}
	in10 := map[string]bool{}
	total := 20000
	for i := range total {
		c := "client-" + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + itoa(i)
		if cfg.InRollout(c) {
			in10[c] = true
		}
	}
	if n := len(in10); n < total*8/100 || n > total*12/100 {
		t.Fatalf("10%% rollout holds %d of %d clients", n, total)
	}
	cfg.Rollout.BasisPoints = 3000
	in30 := 0
	for i := range total {
		c := "client-" + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + itoa(i)
		if cfg.InRollout(c) {
			in30++
		} else if in10[c] {
			t.Fatalf("raising the rollout removed %q", c)
		}
	}
	if in30 < total*27/100 || in30 > total*33/100 {
		t.Fatalf("30%% rollout holds %d", in30)
	}
	snap := flags.NewSnapshot(cfg, map[string]flags.Override{"pinned": {Client: "pinned", Stage: flags.StageTarget}}, 1)
	if r := snap.Resolve("pinned"); r.Source != flags.SourceOverride || r.Stage != flags.StageTarget {
		t.Fatalf("override resolution = %+v", r)
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func TestGatesRefuseDirtyVerifyAndForceIsAudited(t *testing.T) {
	env := flagstest.NewStoreEnv(t)
	ctx := testenv.Context(t)
	env.Gates.Dirty["dirty"] = "3 mismatching keys in orders"
	_, err := env.Store.SetStage(ctx, flags.Change{Client: "dirty", Stage: flags.StageTarget, Reason: "go live", Actor: "ann"})
	var refused *flags.GateRefusedError
	if !errors.As(err, &refused) || !errors.Is(err, flags.ErrGateRefused) {
		t.Fatalf("err = %v, want gate refusal", err)
	}
	if !strings.Contains(err.Error(), "verify-clean: 3 mismatching keys in orders") || !strings.Contains(err.Error(), "shadow-clean") {
		t.Fatalf("refusal does not name the reasons: %v", err)
	}
	if v, _ := env.Store.Client(ctx, "dirty"); v.Stage != flags.StageLegacy {
		t.Fatalf("refused change applied: %+v", v)
	}
	res, err := env.Store.SetStage(ctx, flags.Change{Client: "dirty", Stage: flags.StageTarget, Reason: "customer escalation, verified by hand", Actor: "ann", Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Forced || len(res.FailedGates) != 2 {
		t.Fatalf("forced result = %+v", res)
	}
	entries, err := env.Audit.List(ctx, flags.AuditQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("audit = %+v", entries)
	}
	e := entries[0]
	if !e.Forced || e.Reason != "customer escalation, verified by hand" || e.Actor != "ann" || e.From != "legacy" || e.To != "target" ||
		len(e.FailedGates) != 2 || !strings.Contains(e.FailedGates[0], "3 mismatching keys") {
		t.Fatalf("audit entry = %+v", e)
	}
	// Rollback is never gated.
	if _, err := env.Store.SetStage(ctx, flags.Change{Client: "dirty", Stage: flags.StageLegacy, Reason: "rollback", Actor: "ann", ExpectedRevision: flags.AnyRevision}); err != nil {
		t.Fatalf("rollback gated: %v", err)
	}
}

func TestDefaultChangeGatedByBackfill(t *testing.T) {
	env := flagstest.NewStoreEnv(t)
	ctx := testenv.Context(t)
	env.Gates.BackfillDone = false
	_, err := env.Store.SetDefault(ctx, flags.ConfigChange{Stage: flags.StageTarget, Reason: "all in", Actor: "ann"})
	if !errors.Is(err, flags.ErrGateRefused) || !strings.Contains(err.Error(), "backfill still running") {
		t.Fatalf("err = %v, want refusal naming the backfill", err)
	}
	res, err := env.Store.SetRollout(ctx, flags.ConfigChange{Stage: flags.StageShadow, Reason: "shadow a quarter", Actor: "ann"}, 2500)
	if err != nil {
		t.Fatalf("shadow rollout is not gated: %v", err)
	}
	if res.To != "shadow 25%" || res.From != "none" {
		t.Fatalf("result = %+v", res)
	}
	cfg, _, err := env.Store.Config(ctx)
	if err != nil || cfg.Rollout == nil || cfg.Rollout.BasisPoints != 2500 {
		t.Fatalf("config = %+v, %v", cfg, err)
	}
	if st, err := env.Store.StagesWithoutOverride(ctx); err != nil || len(st) != 2 || st[0] != "legacy" || st[1] != "shadow" {
		t.Fatalf("stages without override = %v, %v", st, err)
	}
}

func TestResetShadowStatsIsAudited(t *testing.T) {
	env := flagstest.NewStoreEnv(t)
	ctx := testenv.Context(t)
	stats, err := flags.OpenShadowStats(ctx, env.JS, flags.ShadowStatsConfig{RouterID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	store, err := flags.OpenStore(ctx, env.JS, flags.StoreConfig{Audit: env.Audit, Shadow: stats})
	if err != nil {
		t.Fatal(err)
	}
	stats.Record("c", flags.ShadowCounts{Matches: 5, Mismatches: 2})
	if err := stats.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := store.ResetShadowStats(ctx, "c", "", "ann"); !errors.Is(err, flags.ErrInvalid) {
		t.Fatalf("reset without reason: %v", err)
	}
	if _, err := store.ResetShadowStats(ctx, "c", "keys repaired", "ann"); err != nil {
		t.Fatal(err)
	}
	if got, err := stats.ClientStats(ctx, "c"); err != nil || got.Compared() != 0 {
		t.Fatalf("after reset: %+v %v", got, err)
	}
	entries, err := env.Audit.List(ctx, flags.AuditQuery{Client: "c"})
	if err != nil || len(entries) != 1 || entries[0].Scope != flags.ScopeShadowReset || entries[0].From != "7 compared, 2 mismatched" {
		t.Fatalf("audit = %+v, %v", entries, err)
	}
}
