package flags

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testenv"
)

func TestShadowSamplesAcrossRouters(t *testing.T) {
	ctx := context.Background()
	_, js := testenv.NATS(t).Connect()
	open := func(router string) (*ShadowStats, *ShadowSamples) {
		st, err := OpenShadowStats(ctx, js, ShadowStatsConfig{RouterID: router})
		if err != nil {
			t.Fatal(err)
		}
		return st, NewShadowSamples(st, 3)
	}
	statsA, a := open("router-a")
	_, b := open("router-b")
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	sample := func(i int, key string) MismatchSample {
		return MismatchSample{Time: base.Add(time.Duration(i) * time.Second), Client: "acme", Entity: "task", Key: key, Stage: StageShadow, Kind: "differs"}
	}
	a.RecordMismatch(sample(1, "t-1"))
	a.RecordMismatch(sample(4, "t-1")) // the same key again: kept once, newest
	b.RecordMismatch(sample(2, "t-2"))
	b.RecordMismatch(sample(3, "t-3"))
	a.RecordMismatch(MismatchSample{Time: base, Client: "other", Entity: "task", Key: "x", Kind: "differs"})
	statsA.Record("acme", ShadowCounts{Matches: 5, Mismatches: 2})
	for _, f := range []func(context.Context) error{a.Flush, b.Flush, statsA.Flush} {
		if err := f(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got, err := a.ClientSamples(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, s := range got {
		keys = append(keys, s.Key)
	}
	if fmt.Sprint(keys) != "[t-1 t-3 t-2]" {
		t.Errorf("samples of acme = %v, want the 3 newest across routers, newest first, one per key", keys)
	}

	// The counters' readers do not see the samples.
	counts, err := statsA.ClientStats(ctx, "acme")
	if err != nil || counts.Matches != 5 || counts.Mismatches != 2 {
		t.Errorf("counters next to the samples: %+v, %v", counts, err)
	}
	all, err := statsA.All(ctx)
	if err != nil || all["acme"].Matches != 5 || all["acme"].Mismatches != 2 || len(all) != 1 {
		t.Errorf("all counters next to the samples: %+v, %v", all, err)
	}

	if err := b.Reset(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if got, err := a.ClientSamples(ctx, "acme"); err != nil || len(got) != 0 {
		t.Errorf("samples after the reset: %v, %v", got, err)
	}
	if got, err := a.ClientSamples(ctx, "other"); err != nil || len(got) != 1 {
		t.Errorf("another client's samples after the reset: %v, %v", got, err)
	}
}
