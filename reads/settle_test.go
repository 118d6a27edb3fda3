package reads_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/reads"
	"github.com/switchyard/switchyard/stores"
)

// hookReader wraps a store for the settle tests: it counts Gets, can run a
// hook once after its first read and before that read's answer reaches the
// router (a subscription applying an event just after the store answered), can drop every version to 0 (a store without
// versions), and can answer every Get with a newer version (a hot key).
type hookReader struct {
	stores.Reader
	gets         atomic.Int64
	afterRead    func()
	skipReads    int64 // reads that pass before afterRead runs
	reads        atomic.Int64
	once         sync.Once
	zeroVersions bool
	churn        bool
	churned      atomic.Int64
}

func (h *hookReader) read() {
	if h.afterRead != nil && h.reads.Add(1) > h.skipReads {
		h.once.Do(h.afterRead)
	}
}

func (h *hookReader) Get(ctx context.Context, entity, key string) (stores.Record, error) {
	h.gets.Add(1)
	defer h.read()
	rec, err := h.Reader.Get(ctx, entity, key)
	if h.churn && err == nil {
		n := h.churned.Add(1)
		rec.Version += 100 + n
		rec.Data = json.RawMessage(fmt.Sprintf(`{"churn":%d}`, n))
	}
	if h.zeroVersions {
		rec.Version = 0
	}
	return rec, err
}

func (h *hookReader) Scan(ctx context.Context, entity string, r stores.Range) ([]stores.Record, error) {
	defer h.read()
	recs, err := h.Reader.Scan(ctx, entity, r)
	if h.zeroVersions {
		for i := range recs {
			recs[i].Version = 0
		}
	}
	return recs, err
}

// applyLater returns a hook that applies one write to s when it is called,
// and a channel that reports the outcome. Run as a hookReader's afterRead,
// the write lands after the shadow read's first look at the key and before
// the router reads the key again: a subscription applying an event a moment
// later, with no timing left to luck.
func applyLater(s stores.Writer, client, key, doc string, version int64) (func(), <-chan error) {
	done := make(chan error, 1)
	return func() {
		_, err := s.Apply(context.Background(), []stores.Write{{Entity: "orders", Key: key, Client: client, Version: version, Data: json.RawMessage(doc)}})
		done <- err
	}, done
}

func shadowResults(env *routerEnv) string {
	var b strings.Builder
	for _, r := range []string{"match", "mismatch", "unsettled", "error", "dropped"} {
		fmt.Fprintf(&b, "%s=%v ", r, metric(env.reg, "switchyard_shadow_reads_total", "result", r))
	}
	fmt.Fprintf(&b, "settled=%v", metric(env.reg, "switchyard_shadow_settled_total", "", ""))
	return b.String()
}

func waitResults(t *testing.T, env *routerEnv, want string) {
	t.Helper()
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		got := shadowResults(env)
		return got == want, got
	}, "shadow results "+want)
}

func TestShadowSecondaryBrieflyBehindIsAMatch(t *testing.T) {
	env := newRouterEnv(t)
	ctx := testenv.Context(t)
	const c = "lagging"
	for _, k := range []string{"k1", "k2", "k3", "k4"} {
		put(t, env.legacy, c, k, `{"n":1}`, 1)
		put(t, env.target, c, k, `{"n":1}`, 1)
	}
	// The legacy subscription applied version 2 of k2; the target's applies
	// it a few milliseconds after the shadow read looked.
	put(t, env.legacy, c, "k2", `{"n":2}`, 2)
	env.setStage(t, c, flags.StageShadow)
	stats, err := flags.OpenShadowStats(ctx, env.JS, flags.ShadowStatsConfig{RouterID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	later, applied := applyLater(env.target, c, "k2", `{"n":2}`, 2)
	target := &hookReader{Reader: env.target, afterRead: later}
	rep := &repairRecorder{calls: map[string][]string{}}
	r := env.router(t, reads.RouterConfig{Target: target, Observers: []flags.ClientObserver{stats}, Repair: rep.repair, SettleDelay: 50 * time.Millisecond})
	if _, err := r.Get(ctx, c, "orders", "k2"); err != nil {
		t.Fatal(err)
	}
	if err := <-applied; err != nil {
		t.Fatal(err)
	}
	waitResults(t, env, "match=1 mismatch=0 unsettled=0 error=0 dropped=0 settled=1")

	// A page: only the differing key is read again, not the whole page.
	put(t, env.legacy, c, "k3", `{"n":3}`, 3)
	later, applied = applyLater(env.target, c, "k3", `{"n":3}`, 3)
	target.afterRead, target.once = later, sync.Once{}
	target.gets.Store(0)
	page, err := r.List(ctx, c, "orders", "", 10)
	if err != nil || len(page.Records) != 4 {
		t.Fatalf("list: %+v %v", page, err)
	}
	if err := <-applied; err != nil {
		t.Fatal(err)
	}
	waitResults(t, env, "match=2 mismatch=0 unsettled=0 error=0 dropped=0 settled=2")
	if n := target.gets.Load(); n != 1 {
		t.Fatalf("the settle read %d keys of the target, want only the differing one", n)
	}
	if s := r.Mismatches(); len(s) != 0 || len(rep.keys("orders")) != 0 {
		t.Fatalf("samples %+v, repairs %v after a settled difference", s, rep.keys("orders"))
	}
	if err := stats.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sum, err := stats.ClientStats(ctx, c)
	if err != nil || sum.Matches != 2 || sum.Settled != 2 || sum.Mismatches != 0 || sum.Unsettled != 0 {
		t.Fatalf("stats = %+v %v", sum, err)
	}
}

// TestShadowSecondaryBehindForMoreThanOneDelayIsAMatch: the target's
// subscription still has not applied the key's event when the router
// looks again after one settle delay (a batch still lingering, a busy
// machine), and applies it before the next look. The difference stood
// still once; it is in flight, not a mismatch.
func TestShadowSecondaryBehindForMoreThanOneDelayIsAMatch(t *testing.T) {
	env := newRouterEnv(t)
	ctx := testenv.Context(t)
	const c = "slow"
	put(t, env.legacy, c, "k", `{"n":2}`, 2)
	put(t, env.target, c, "k", `{"n":1}`, 1)
	env.setStage(t, c, flags.StageShadow)
	later, applied := applyLater(env.target, c, "k", `{"n":2}`, 2)
	// The first look and the first re-read both see version 1; the event
	// lands after the re-read, before the second.
	target := &hookReader{Reader: env.target, afterRead: later, skipReads: 1}
	r := env.router(t, reads.RouterConfig{Target: target, SettleDelay: 20 * time.Millisecond, SettleChecks: 3})
	if _, err := r.Get(ctx, c, "orders", "k"); err != nil {
		t.Fatal(err)
	}
	if err := <-applied; err != nil {
		t.Fatal(err)
	}
	waitResults(t, env, "match=1 mismatch=0 unsettled=0 error=0 dropped=0 settled=1")
	if n := target.gets.Load(); n != 3 {
		t.Fatalf("target read %d times, want the first look and two re-reads", n)
	}
	if s := r.Mismatches(); len(s) != 0 {
		t.Fatalf("samples = %+v", s)
	}
}

func TestShadowSameVersionDivergenceIsAMismatchAtOnce(t *testing.T) {
	env := newRouterEnv(t)
	ctx := testenv.Context(t)
	const c = "diverged"
	put(t, env.legacy, c, "k", `{"n":1}`, 7)
	put(t, env.target, c, "k", `{"n":2}`, 7)
	env.setStage(t, c, flags.StageTargetShadow)
	target := &hookReader{Reader: env.target}
	// A settle delay far beyond the test's patience: the mismatch must be
	// counted without it.
	r := env.router(t, reads.RouterConfig{Target: target, SettleDelay: time.Hour, ShadowBudget: 2 * time.Hour})
	res, err := r.Get(ctx, c, "orders", "k")
	if err != nil || res.Served != flags.StoreTarget {
		t.Fatalf("get: %+v %v", res, err)
	}
	waitResults(t, env, "match=0 mismatch=1 unsettled=0 error=0 dropped=0 settled=0")
	if n := target.gets.Load(); n != 1 {
		t.Fatalf("target read %d times, want only the primary read", n)
	}
	if s := r.Mismatches(); len(s) != 1 || s[0].Key != "k" || s[0].Kind != flags.MismatchDiffers {
		t.Fatalf("samples = %+v", s)
	}
}

func TestShadowMissingKeyIsAMismatch(t *testing.T) {
	env := newRouterEnv(t)
	ctx := testenv.Context(t)
	const c = "missing"
	put(t, env.legacy, c, "k1", `{"n":1}`, 1)
	put(t, env.target, c, "k1", `{"n":1}`, 1)
	put(t, env.legacy, c, "k2", `{"n":2}`, 4)
	env.setStage(t, c, flags.StageShadow)
	rep := &repairRecorder{calls: map[string][]string{}}
	r := env.router(t, reads.RouterConfig{Repair: rep.repair, SettleDelay: 10 * time.Millisecond})
	if _, err := r.Get(ctx, c, "orders", "k2"); err != nil {
		t.Fatal(err)
	}
	waitResults(t, env, "match=0 mismatch=1 unsettled=0 error=0 dropped=0 settled=0")
	if _, err := r.List(ctx, c, "orders", "", 10); err != nil {
		t.Fatal(err)
	}
	waitResults(t, env, "match=0 mismatch=2 unsettled=0 error=0 dropped=0 settled=0")
	s := r.Mismatches()
	if len(s) != 2 || s[0].Key != "k2" || s[0].Kind != flags.MismatchMissingTarget || s[1].Kind != flags.MismatchMissingTarget {
		t.Fatalf("samples = %+v", s)
	}
	testenv.Eventually(t, 5*time.Second, func() (bool, string) {
		got := rep.keys("orders")
		return strings.Join(got, ",") == "k2,k2", fmt.Sprint(got)
	}, "missing key repaired")
}

func TestShadowUnversionedLegacy(t *testing.T) {
	env := newRouterEnv(t)
	ctx := testenv.Context(t)
	const c = "unversioned"
	put(t, env.legacy, c, "same", `{"n":1}`, 1)
	put(t, env.target, c, "same", `{"n":1}`, 1)
	put(t, env.legacy, c, "stale", `{"n":1}`, 1)
	put(t, env.target, c, "stale", `{"n":2}`, 1) // version 0 on legacy hides the equal versions
	env.setStage(t, c, flags.StageShadow)
	legacy := &hookReader{Reader: env.legacy, zeroVersions: true}
	r := env.router(t, reads.RouterConfig{Legacy: legacy, SettleDelay: 10 * time.Millisecond})
	if _, err := r.Get(ctx, c, "orders", "same"); err != nil {
		t.Fatal(err)
	}
	waitResults(t, env, "match=1 mismatch=0 unsettled=0 error=0 dropped=0 settled=0")
	// Versions tell nothing: the difference is read again, and as it stays
	// it is a mismatch.
	if _, err := r.Get(ctx, c, "orders", "stale"); err != nil {
		t.Fatal(err)
	}
	waitResults(t, env, "match=1 mismatch=1 unsettled=0 error=0 dropped=0 settled=0")
	if n := legacy.gets.Load(); n < 3 {
		t.Fatalf("legacy read %d times, want the difference read again", n)
	}
}

func TestShadowHotKeyIsUnsettledAndPrimaryDoesNotWait(t *testing.T) {
	env := newRouterEnv(t)
	ctx := testenv.Context(t)
	const c = "hot"
	put(t, env.legacy, c, "k", `{"n":1}`, 1)
	put(t, env.target, c, "k", `{"n":1}`, 1)
	env.setStage(t, c, flags.StageShadow)
	stats, err := flags.OpenShadowStats(ctx, env.JS, flags.ShadowStatsConfig{RouterID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	// Every target read sees a newer version: the key never settles.
	target := &hookReader{Reader: env.target, churn: true}
	const delay = time.Second
	r := env.router(t, reads.RouterConfig{Target: target, Observers: []flags.ClientObserver{stats}, SettleDelay: delay, SettleChecks: 2, ShadowBudget: 20 * time.Second})
	start := time.Now()
	res, err := r.Get(ctx, c, "orders", "k")
	elapsed := time.Since(start)
	if err != nil || string(res.Record.Data) != `{"n":1}` {
		t.Fatalf("get: %+v %v", res, err)
	}
	// The primary answers long before the first re-check is even due.
	if elapsed >= delay {
		t.Fatalf("primary took %v while its comparison settles (delay %v)", elapsed, delay)
	}
	waitResults(t, env, "match=0 mismatch=0 unsettled=1 error=0 dropped=0 settled=0")
	if n := target.gets.Load(); n != 3 {
		t.Fatalf("target read %d times, want 1 + 2 re-checks", n)
	}
	if s := r.Mismatches(); len(s) != 0 {
		t.Fatalf("samples = %+v", s)
	}
	if err := stats.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sum, err := stats.ClientStats(ctx, c)
	if err != nil || sum.Unsettled != 1 || sum.Compared() != 0 {
		t.Fatalf("stats = %+v %v", sum, err)
	}
	// Unsettled reads neither open nor close the shadow gate. (Only the
	// shadow condition is looked at here, so the thresholds are lowered to
	// one read and no key or span requirement.)
	gates := flags.NewGates(flags.GatesConfig{Shadow: stats, MinShadowReads: 1, MinShadowKeys: -1, MinShadowSpan: -1})
	st, err := gates.Check(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	for _, cond := range st.Conditions {
		if cond.Name == flags.GateShadow && (cond.OK || !strings.Contains(cond.Detail, "0 shadow reads compared") || !strings.Contains(cond.Detail, "1 unsettled")) {
			t.Fatalf("shadow gate = %+v", cond)
		}
	}
	stats.Record(c, flags.ShadowCounts{Matches: 1})
	if err := stats.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st, err = gates.Check(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	for _, cond := range st.Conditions {
		if cond.Name == flags.GateShadow && !cond.OK {
			t.Fatalf("shadow gate with one match and one unsettled read = %+v", cond)
		}
	}
}
