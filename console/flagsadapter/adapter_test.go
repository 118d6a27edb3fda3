package flagsadapter_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/console"
	"github.com/switchyard/switchyard/console/flagsadapter"
	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/testenv"
)

type verifyGates struct{ dirty map[string]string }

func (g verifyGates) BackfillComplete(context.Context) (bool, string, error) {
	return true, "done", nil
}

func (g verifyGates) ClientVerifyClean(_ context.Context, c string) (bool, string, error) {
	if d, ok := g.dirty[c]; ok {
		return false, d, nil
	}
	return true, "clean", nil
}

type fixedMismatches []flags.MismatchSample

func (f fixedMismatches) Mismatches() []flags.MismatchSample { return f }

func open(t *testing.T, withAudit bool) (*flags.Store, *flags.ShadowStats, jetstream.JetStream) {
	t.Helper()
	ctx := context.Background()
	_, js := testenv.NATS(t).Connect()
	shadow, err := flags.OpenShadowStats(ctx, js, flags.ShadowStatsConfig{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := flags.StoreConfig{Gates: flags.NewGates(flags.GatesConfig{
		Source: verifyGates{dirty: map[string]string{"dirty": "2 differences"}}, Shadow: cleanShadow{},
	})}
	if withAudit {
		if cfg.Audit, err = flags.OpenAuditLog(ctx, js, flags.AuditConfig{}); err != nil {
			t.Fatal(err)
		}
	}
	store, err := flags.OpenStore(ctx, js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return store, shadow, js
}

func rev(n uint64) *uint64 { return &n }

// cleanShadow passes the shadow gate for every client with the default
// thresholds, so these tests exercise the verify gate alone.
type cleanShadow struct{}

func (cleanShadow) ClientStats(context.Context, string) (flags.ShadowCounts, error) {
	now := time.Now()
	return flags.ShadowCounts{Matches: flags.DefaultMinShadowReads, Keys: flags.DefaultMinShadowKeys, FirstCompared: now.Add(-flags.DefaultMinShadowSpan), LastCompared: now}, nil
}

func TestSearchPagesThroughKnownClients(t *testing.T) {
	store, shadow, _ := open(t, true)
	a := flagsadapter.New(store, shadow)
	ctx := context.Background()
	for _, c := range []string{"acme-1", "acme-2", "acme-3", "beta", "acme-4"} {
		if _, err := a.SetStage(ctx, console.StageChange{ClientID: c, To: console.StageShadow, Reason: "pilot", Actor: "ann"}); err != nil {
			t.Fatalf("%s: %v", c, err)
		}
	}
	var got []string
	page := console.PageRequest{Size: 3}
	for i := 0; ; i++ {
		res, err := a.Search(ctx, "ACME", page)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range res.Clients {
			got = append(got, c.ID)
			if c.Stage != console.StageShadow || c.Source != console.SourceOverride {
				t.Errorf("%s: %s from %s", c.ID, c.Stage, c.Source)
			}
		}
		if !res.More {
			break
		}
		if i > 3 {
			t.Fatal("paging does not end")
		}
		page.After = res.Clients[len(res.Clients)-1].ID
	}
	if strings.Join(got, ",") != "acme-1,acme-2,acme-3,acme-4" {
		t.Fatalf("pages gave %v", got)
	}
}

func TestClientDetailAndChanges(t *testing.T) {
	store, shadow, _ := open(t, true)
	ctx := context.Background()
	a := flagsadapter.New(store, shadow).WithMismatches(fixedMismatches{
		{Client: "acme", Entity: "orders", Key: "o-9", Kind: "differs"},
		{Client: "other", Entity: "orders", Key: "o-1", Kind: "differs"},
	})

	d, err := a.Client(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if d.Stage != console.StageLegacy || d.Source != console.SourceDefault || !strings.Contains(d.SourceDetail, "default") || d.Revision != 0 {
		t.Fatalf("unknown client: %+v", d)
	}
	if strings.Join(d.Shadow.SampleKeys, ",") != "orders/o-9 (differs)" {
		t.Fatalf("sample keys %v", d.Shadow.SampleKeys)
	}

	// The stage the page showed is checked: a stale confirmation conflicts.
	_, err = a.SetStage(ctx, console.StageChange{ClientID: "acme", To: console.StageShadow, ExpectedStage: console.StageShadow, Reason: "r", Actor: "ann"})
	if !errors.Is(err, console.ErrConflict) {
		t.Fatalf("wrong expected stage: %v", err)
	}
	d, err = a.SetStage(ctx, console.StageChange{ClientID: "acme", To: console.StageShadow, ExpectedStage: console.StageLegacy, ExpectedRevision: rev(0), Reason: "pilot", Actor: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Stage != console.StageShadow || d.Override == nil || d.Override.Actor != "ann" || d.Revision == 0 {
		t.Fatalf("after the switch: %+v", d)
	}
	_, err = a.SetStage(ctx, console.StageChange{ClientID: "acme", To: console.StageTarget, ExpectedRevision: rev(d.Revision + 7), Reason: "r", Actor: "ann"})
	if !errors.Is(err, console.ErrConflict) {
		t.Fatalf("stale revision: %v", err)
	}
	if _, err := a.SetStage(ctx, console.StageChange{ClientID: "acme", To: console.StageTarget, Reason: "go", Actor: "ann"}); err != nil {
		t.Fatalf("gates pass: %v", err)
	}

	// Gates: refused with the failing condition, then forced.
	_, err = a.SetStage(ctx, console.StageChange{ClientID: "dirty", To: console.StageTarget, Reason: "try", Actor: "ann"})
	var refusal *console.GateRefusal
	if !errors.As(err, &refusal) || !errors.Is(err, console.ErrGateRefused) || len(refusal.Failed()) != 1 || refusal.Failed()[0].Name != flags.GateVerify {
		t.Fatalf("dirty client: %v", err)
	}
	if _, err := a.SetStage(ctx, console.StageChange{ClientID: "dirty", To: console.StageTarget, Reason: "checked by hand", Actor: "ann", Force: true}); err != nil {
		t.Fatalf("forced: %v", err)
	}
	d, err = a.Client(ctx, "dirty")
	if err != nil || d.Gates.Passed || d.Override == nil || !d.Override.Forced {
		t.Fatalf("forced client: %+v %v", d, err)
	}

	// Invalid input the store refuses.
	if _, err := a.SetStage(ctx, console.StageChange{ClientID: "bad\x00id", To: console.StageShadow, Reason: "r", Actor: "ann"}); !errors.Is(err, console.ErrInvalidChange) {
		t.Fatalf("bad id: %v", err)
	}

	// The audit log, newest first, pages backwards.
	all, err := a.Audit(ctx, console.AuditQuery{Limit: 10})
	if err != nil || len(all) != 3 {
		t.Fatalf("audit: %d entries, %v", len(all), err)
	}
	if all[0].ClientID != "dirty" || !all[0].Forced || all[0].Reason != "checked by hand" || all[0].Actor != "ann" || all[0].To != "target" {
		t.Fatalf("newest entry %+v", all[0])
	}
	older, err := a.Audit(ctx, console.AuditQuery{Before: all[1].Seq, Limit: 10})
	if err != nil || len(older) != 1 || older[0].Seq != all[2].Seq {
		t.Fatalf("older page: %+v %v", older, err)
	}
	mine, err := a.Audit(ctx, console.AuditQuery{ClientID: "acme", Limit: 10})
	if err != nil || len(mine) != 2 || mine[0].From != "shadow" || mine[1].From != "legacy" {
		t.Fatalf("acme's history: %+v %v", mine, err)
	}
}

func TestChangesNeedTheAuditLog(t *testing.T) {
	store, shadow, _ := open(t, false)
	a := flagsadapter.New(store, shadow)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := a.SetStage(ctx, console.StageChange{ClientID: "acme", To: console.StageShadow, Reason: "r", Actor: "ann"}); !errors.Is(err, console.ErrAuditIncomplete) {
		t.Fatalf("change without audit log: %v", err)
	}
	if d, err := a.Client(ctx, "acme"); err != nil || d.Stage != console.StageLegacy {
		t.Fatalf("a change without audit log was applied: %+v %v", d, err)
	}
	if _, err := a.Audit(ctx, console.AuditQuery{Limit: 5}); !errors.Is(err, console.ErrUnavailable) {
		t.Fatalf("audit without log: %v", err)
	}
}

func TestClearOverrideFollowsTheRollout(t *testing.T) {
	store, shadow, _ := open(t, true)
	a := flagsadapter.New(store, shadow)
	ctx := context.Background()
	if _, err := a.SetStage(ctx, console.StageChange{ClientID: "acme", To: console.StageLegacy, Reason: "hold back", Actor: "ann"}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.SetRollout(ctx, flags.ConfigChange{Stage: flags.StageShadow, Reason: "everyone shadows", Actor: "ann", ExpectedRevision: flags.AnyRevision}, 10000); err != nil {
		t.Fatal(err)
	}
	d, err := a.Client(ctx, "acme")
	if err != nil || d.Stage != console.StageLegacy || d.Fallback != console.StageShadow || d.FallbackSource != console.SourceRollout {
		t.Fatalf("before clearing: %+v %v", d, err)
	}
	if _, err := a.ClearOverride(ctx, console.OverrideClear{ClientID: "acme", ExpectedRevision: rev(d.Revision + 1), Reason: "r", Actor: "ann"}); !errors.Is(err, console.ErrConflict) {
		t.Fatalf("stale revision: %v", err)
	}
	d, err = a.ClearOverride(ctx, console.OverrideClear{ClientID: "acme", Reason: "follow the rollout", Actor: "ann"})
	if err != nil || d.Stage != console.StageShadow || d.Source != console.SourceRollout || d.Override != nil || !strings.Contains(d.SourceDetail, "rollout") {
		t.Fatalf("after clearing: %+v %v", d, err)
	}
	if _, err := a.ClearOverride(ctx, console.OverrideClear{ClientID: "acme", Reason: "again", Actor: "ann"}); !errors.Is(err, console.ErrInvalidChange) {
		t.Fatalf("clearing twice: %v", err)
	}
	es, err := a.Audit(ctx, console.AuditQuery{ClientID: "acme", Limit: 5})
	if err != nil || len(es) != 2 || es[0].Reason != "follow the rollout" || es[0].From != "legacy" || es[0].To != "shadow" {
		t.Fatalf("audit of the clear: %+v %v", es, err)
	}
}

func TestClientDetailCountsSettlingShadowReads(t *testing.T) {
	store, shadow, _ := open(t, true)
	ctx := context.Background()
	shadow.Record("acme", flags.ShadowCounts{Matches: 10, Mismatches: 1, Settled: 4, Unsettled: 3})
	if err := shadow.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	d, err := flagsadapter.New(store, shadow).Client(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if s := d.Shadow; s.Matches != 10 || s.Mismatches != 1 || s.Settled != 4 || s.Unsettled != 3 || s.Compared != 11 {
		t.Fatalf("shadow statistics %+v, want 10 matches (4 settled), 1 mismatch, 3 unsettled, 11 compared", s)
	}
}

func TestClientShowsLastServedAndSamplesAndResetsThem(t *testing.T) {
	ctx := context.Background()
	_, js := testenv.NATS(t).Connect()
	shadow, err := flags.OpenShadowStats(ctx, js, flags.ShadowStatsConfig{RouterID: "api-1"})
	if err != nil {
		t.Fatal(err)
	}
	registry, err := flags.OpenRegistry(ctx, js, flags.RegistryConfig{})
	if err != nil {
		t.Fatal(err)
	}
	audit, err := flags.OpenAuditLog(ctx, js, flags.AuditConfig{})
	if err != nil {
		t.Fatal(err)
	}
	store, err := flags.OpenStore(ctx, js, flags.StoreConfig{Audit: audit, Shadow: shadow, Registry: registry})
	if err != nil {
		t.Fatal(err)
	}
	samples := flags.NewShadowSamples(shadow, 0)
	// What a read API in another process records.
	registry.Mark("acme")
	shadow.Record("acme", flags.ShadowCounts{Matches: 9, Mismatches: 1, Settled: 2, Unsettled: 1})
	samples.RecordMismatch(flags.MismatchSample{Time: time.Now(), Client: "acme", Entity: "orders", Key: "o-7", Stage: flags.StageShadow, Kind: flags.MismatchDiffers})
	for _, f := range []func(context.Context) error{registry.Flush, shadow.Flush, samples.Flush} {
		if err := f(ctx); err != nil {
			t.Fatal(err)
		}
	}

	a := flagsadapter.New(store, shadow).WithSampleLog(samples)
	d, err := a.Client(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if d.LastSeen.IsZero() || time.Since(d.LastSeen) > time.Minute {
		t.Errorf("last served = %v, want the registry's mark", d.LastSeen)
	}
	if d.Shadow.Settled != 2 || d.Shadow.Unsettled != 1 || len(d.Shadow.SampleKeys) != 1 || !strings.Contains(d.Shadow.SampleKeys[0], "orders/o-7") {
		t.Errorf("shadow = %+v", d.Shadow)
	}

	d, err = a.ResetShadow(ctx, console.ShadowReset{ClientID: "acme", Reason: "repaired o-7", Actor: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Shadow.Compared != 0 || d.Shadow.Mismatches != 0 || len(d.Shadow.SampleKeys) != 0 {
		t.Errorf("after the reset: %+v", d.Shadow)
	}
	es, err := a.Audit(ctx, console.AuditQuery{ClientID: "acme", Limit: 10})
	if err != nil || len(es) != 1 || es[0].Reason != "repaired o-7" || es[0].Actor != "ann" {
		t.Errorf("audit after the reset = %+v, %v", es, err)
	}
	if _, err := a.ResetShadow(ctx, console.ShadowReset{ClientID: "acme", Reason: "", Actor: "ann"}); !errors.Is(err, console.ErrInvalidChange) {
		t.Errorf("a reset without a reason: %v, want ErrInvalidChange", err)
	}
}

// TestClientDetailFlagsChangesMadeOutsideSwitchyard: a stage put straight
// into the bucket shows on the client's detail as unaudited; changes made
// through the console do not.
func TestClientDetailFlagsChangesMadeOutsideSwitchyard(t *testing.T) {
	store, shadow, js := open(t, true)
	a := flagsadapter.New(store, shadow)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := a.SetStage(ctx, console.StageChange{ClientID: "acme", To: console.StageShadow, Reason: "pilot", Actor: "ann"}); err != nil {
		t.Fatal(err)
	}
	if d, err := a.Client(ctx, "acme"); err != nil || len(d.Unaudited) != 0 || d.UnauditedUnavailable != "" {
		t.Fatalf("after a console change: %+v, %v; want nothing unaudited", d.Unaudited, err)
	}
	kv, err := js.KeyValue(ctx, flags.DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	rev, err := kv.Put(ctx, "client.YWNtZQ", []byte(`{"stage":"target","reason":"r","actor":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	d, err := a.Client(ctx, "acme")
	if err != nil || len(d.Unaudited) != 1 || d.Unaudited[0].Revision != rev || d.Unaudited[0].Stage != console.StageTarget {
		t.Fatalf("after a direct put: %+v, %v; want revision %d to target", d.Unaudited, err, rev)
	}
}
