package reads_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/open-feature/go-sdk/openfeature"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/flagstest"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/reads"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/sqlite"
)

type routerEnv struct {
	*flagstest.StoreEnv
	of             *openfeature.Client
	legacy, target *sqlite.Store
	reg            *prometheus.Registry
}

func newRouterEnv(t testing.TB) *routerEnv {
	t.Helper()
	env := &routerEnv{StoreEnv: flagstest.NewStoreEnv(t), reg: prometheus.NewRegistry()}
	_, of, _, err := flagstest.StartProvider(t, env.JS, flags.ProviderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	env.of = of
	dir := t.TempDir()
	for _, s := range []**sqlite.Store{&env.legacy, &env.target} {
		st, err := sqlite.Open(testenv.Context(t), "sqlite:"+filepath.Join(dir, fmt.Sprintf("%p.db", s)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		*s = st
	}
	return env
}

// setStage forces client into st and waits until the provider serves it.
func (env *routerEnv) setStage(t testing.TB, client string, st flags.Stage) {
	t.Helper()
	if _, err := env.Store.SetStage(testenv.Context(t), flags.Change{Client: client, Stage: st, Reason: "test", Actor: "t", ExpectedRevision: flags.AnyRevision, Force: true}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 5*time.Second, func() (bool, string) {
		d := flagstest.StageOf(t, env.of, client)
		return d.Value == string(st), d.Value
	}, "provider serves the new stage")
}

func put(t testing.TB, s stores.Writer, client, key, doc string, version int64) {
	t.Helper()
	w := stores.Write{Entity: "orders", Key: key, Client: client, Version: version, Data: json.RawMessage(doc)}
	if doc == "" {
		w.Deleted, w.Data = true, nil
	}
	if _, err := s.Apply(testenv.Context(t), []stores.Write{w}); err != nil {
		t.Fatal(err)
	}
}

func (env *routerEnv) router(t testing.TB, cfg reads.RouterConfig) *reads.Router {
	t.Helper()
	cfg.Flags = env.of
	if cfg.Legacy == nil {
		cfg.Legacy = env.legacy
	}
	if cfg.Target == nil {
		cfg.Target = env.target
	}
	if cfg.Registerer == nil {
		cfg.Registerer = env.reg
	}
	r, err := reads.NewRouter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	return r
}

func metric(reg *prometheus.Registry, name, label, value string) float64 {
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label == "" || hasLabel(m, label, value) {
				if m.Counter != nil {
					return m.Counter.GetValue()
				}
				if m.Histogram != nil {
					return float64(m.Histogram.GetSampleCount())
				}
			}
		}
	}
	return 0
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

func TestRouterRoutesByStage(t *testing.T) {
	env := newRouterEnv(t)
	ctx := testenv.Context(t)
	for _, c := range []string{"a", "b"} {
		put(t, env.legacy, c, c+"1", `{"from":"legacy"}`, 1)
		put(t, env.target, c, c+"1", `{"from":"target"}`, 1)
	}
	put(t, env.legacy, "a", "a2", "", 2) // tombstone
	r := env.router(t, reads.RouterConfig{})
	for _, tc := range []struct {
		stage  flags.Stage
		served flags.StoreSide
	}{{flags.StageLegacy, flags.StoreLegacy}, {flags.StageShadow, flags.StoreLegacy}, {flags.StageTarget, flags.StoreTarget}, {flags.StageTargetShadow, flags.StoreTarget}} {
		env.setStage(t, "a", tc.stage)
		res, err := r.Get(ctx, "a", "orders", "a1")
		if err != nil {
			t.Fatal(err)
		}
		if res.Stage != tc.stage || res.Served != tc.served || string(res.Record.Data) != fmt.Sprintf(`{"from":"%s"}`, tc.served) {
			t.Fatalf("stage %s: got %s from %s: %s", tc.stage, res.Stage, res.Served, res.Record.Data)
		}
		list, err := r.List(ctx, "a", "orders", "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Records) != 1 || list.Records[0].Key != "a1" || list.Served != tc.served || list.Next != "" {
			t.Fatalf("stage %s: list = %+v", tc.stage, list)
		}
	}
	env.setStage(t, "a", flags.StageLegacy)
	if _, err := r.Get(ctx, "a", "orders", "a2"); !errors.Is(err, stores.ErrNotFound) {
		t.Fatalf("tombstone: err = %v, want ErrNotFound", err)
	}
	if _, err := r.Get(ctx, "a", "Orders!", "k"); !errors.Is(err, flags.ErrInvalid) {
		t.Fatalf("bad entity: %v", err)
	}
	if _, err := r.List(ctx, "a", "orders", "", 5000); !errors.Is(err, flags.ErrInvalid) {
		t.Fatalf("bad limit: %v", err)
	}
	if got := metric(env.reg, "switchyard_flag_evaluations_total", "stage", "target"); got < 2 {
		t.Fatalf("target evaluations = %v", got)
	}
}

// repairRecorder records repair calls.
type repairRecorder struct {
	mu    sync.Mutex
	calls map[string][]string
}

func (r *repairRecorder) repair(_ context.Context, entity string, keys []string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[entity] = append(r.calls[entity], keys...)
	return nil
}

func (r *repairRecorder) keys(entity string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(slices.Values(r.calls[entity]))
}

func TestShadowCountsAndSamplesPlantedMismatches(t *testing.T) {
	env := newRouterEnv(t)
	ctx := testenv.Context(t)
	const c = "shadowed"
	put(t, env.legacy, c, "k1", `{"a":1,"b":[1,2]}`, 1)
	put(t, env.target, c, "k1", `{ "b":[1, 2.0], "a":1e0 }`, 1) // same document, other spelling
	put(t, env.legacy, c, "k2", `{"a":1}`, 1)
	put(t, env.target, c, "k2", `{"a":2}`, 1) // planted: differs
	put(t, env.legacy, c, "k3", `{"a":3}`, 1) // planted: missing in target
	put(t, env.target, c, "k4", "", 2)        // tombstone vs absent: equal
	env.setStage(t, c, flags.StageShadow)

	stats, err := flags.OpenShadowStats(ctx, env.JS, flags.ShadowStatsConfig{RouterID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	rep := &repairRecorder{calls: map[string][]string{}}
	sampleLog := flags.NewShadowSamples(stats, 0)
	r := env.router(t, reads.RouterConfig{Observers: []flags.ClientObserver{stats}, Repair: rep.repair, MismatchSink: sampleLog})
	for _, k := range []string{"k1", "k2", "k3"} {
		res, err := r.Get(ctx, c, "orders", k)
		if err != nil || res.Served != flags.StoreLegacy {
			t.Fatalf("get %s: %+v %v", k, res, err)
		}
	}
	if _, err := r.Get(ctx, c, "orders", "k4"); !errors.Is(err, stores.ErrNotFound) {
		t.Fatalf("k4: %v", err)
	}
	testenv.Eventually(t, 5*time.Second, func() (bool, string) {
		m := metric(env.reg, "switchyard_shadow_reads_total", "result", "match")
		mm := metric(env.reg, "switchyard_shadow_reads_total", "result", "mismatch")
		return m == 2 && mm == 2, fmt.Sprintf("match %v mismatch %v", m, mm)
	}, "planted mismatches counted")
	samples := r.Mismatches()
	kinds := map[string]string{}
	for _, s := range samples {
		kinds[s.Key] = s.Kind
		if s.Client != c || s.Entity != "orders" || s.Stage != flags.StageShadow {
			t.Fatalf("sample = %+v", s)
		}
	}
	if len(samples) != 2 || kinds["k2"] != flags.MismatchDiffers || kinds["k3"] != flags.MismatchMissingTarget {
		t.Fatalf("samples = %+v", samples)
	}
	// The mismatch sink got the same samples, for processes without the
	// router (the console).
	if err := sampleLog.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	kept, err := sampleLog.ClientSamples(ctx, c)
	if err != nil || len(kept) != 2 {
		t.Fatalf("samples kept for other processes = %+v, %v", kept, err)
	}
	testenv.Eventually(t, 5*time.Second, func() (bool, string) {
		got := rep.keys("orders")
		return slices.Equal(got, []string{"k2", "k3"}), fmt.Sprint(got)
	}, "mismatching keys repaired")

	// A list compares the page: k2 and k3 mismatch again.
	if _, err := r.List(ctx, c, "orders", "", 10); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 5*time.Second, func() (bool, string) {
		mm := metric(env.reg, "switchyard_shadow_reads_total", "result", "mismatch")
		return mm == 3, fmt.Sprint(mm)
	}, "list mismatch counted")

	// Counters from two routers add up in the shared bucket.
	other, err := flags.OpenShadowStats(ctx, env.JS, flags.ShadowStatsConfig{RouterID: "r2"})
	if err != nil {
		t.Fatal(err)
	}
	other.Record(c, flags.ShadowCounts{Matches: 10})
	if err := other.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := stats.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sum, err := stats.ClientStats(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Matches != 12 || sum.Mismatches != 3 {
		t.Fatalf("summed stats = %+v", sum)
	}
	if err := stats.Reset(ctx, c); err != nil {
		t.Fatal(err)
	}
	if sum, _ := stats.ClientStats(ctx, c); sum.Compared() != 0 {
		t.Fatalf("after reset: %+v", sum)
	}
}

// faultyReader wraps a store: it can block until its context ends, or
// fail every read.
type faultyReader struct {
	stores.Reader
	block bool
	fail  error
}

func (f *faultyReader) wait(ctx context.Context) error {
	if f.block {
		<-ctx.Done()
		return ctx.Err()
	}
	return f.fail
}

func (f *faultyReader) Get(ctx context.Context, entity, key string) (stores.Record, error) {
	if err := f.wait(ctx); err != nil {
		return stores.Record{}, err
	}
	return f.Reader.Get(ctx, entity, key)
}

func (f *faultyReader) Scan(ctx context.Context, entity string, r stores.Range) ([]stores.Record, error) {
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	return f.Reader.Scan(ctx, entity, r)
}

func TestSlowOrFailingSecondaryDoesNotAffectPrimary(t *testing.T) {
	env := newRouterEnv(t)
	ctx := testenv.Context(t)
	const c = "careful"
	put(t, env.legacy, c, "k", `{"v":"legacy"}`, 1)
	put(t, env.target, c, "k", `{"v":"target"}`, 1)
	env.setStage(t, c, flags.StageShadow)

	const budget = time.Second
	slow := env.router(t, reads.RouterConfig{Target: &faultyReader{Reader: env.target, block: true}, ShadowBudget: budget, MaxShadowInFlight: 2})
	start := time.Now()
	res, err := slow.Get(ctx, c, "orders", "k")
	elapsed := time.Since(start)
	if err != nil || string(res.Record.Data) != `{"v":"legacy"}` {
		t.Fatalf("slow secondary: %+v %v", res, err)
	}
	// The primary answers without waiting for the blocked secondary; the
	// bound is generous for a shared machine but far below the budget
	// multiples a waiting router would show.
	if elapsed >= budget {
		t.Fatalf("primary took %v with a blocked secondary (budget %v)", elapsed, budget)
	}
	// Two slots: the third concurrent shadow read is dropped, not queued.
	for range 2 {
		if _, err := slow.Get(ctx, c, "orders", "k"); err != nil {
			t.Fatal(err)
		}
	}
	dropped := metric(env.reg, "switchyard_shadow_reads_total", "result", "dropped")
	if dropped != 1 {
		t.Fatalf("dropped = %v, want 1", dropped)
	}
	// Every started secondary read ends as an error once past its budget.
	testenv.Eventually(t, 5*time.Second, func() (bool, string) {
		e := metric(env.reg, "switchyard_shadow_reads_total", "result", "error")
		return e == 3-dropped, fmt.Sprint(e)
	}, "secondary reads past their budget counted as errors")

	failing := env.router(t, reads.RouterConfig{Target: &faultyReader{Reader: env.target, fail: stores.Transient(errors.New("connection refused"))}})
	before := metric(env.reg, "switchyard_shadow_reads_total", "result", "error")
	res, err = failing.Get(ctx, c, "orders", "k")
	if err != nil || string(res.Record.Data) != `{"v":"legacy"}` {
		t.Fatalf("failing secondary: %+v %v", res, err)
	}
	list, err := failing.List(ctx, c, "orders", "", 0)
	if err != nil || len(list.Records) != 1 {
		t.Fatalf("failing secondary list: %+v %v", list, err)
	}
	testenv.Eventually(t, 5*time.Second, func() (bool, string) {
		e := metric(env.reg, "switchyard_shadow_reads_total", "result", "error")
		return e == before+2, fmt.Sprint(e)
	}, "secondary failures counted")
}

func TestAutoRollbackOnTargetErrors(t *testing.T) {
	env := newRouterEnv(t)
	ctx := testenv.Context(t)
	const c = "fragile"
	env.setStage(t, c, flags.StageTarget)
	r := env.router(t, reads.RouterConfig{
		Target:       &faultyReader{Reader: env.target, fail: errors.New("target down")},
		AutoRollback: &reads.AutoRollbackConfig{Rollback: env.Store.AutoRollback, MinReads: 5, ErrorRate: 0.5},
	})
	for range 5 {
		if _, err := r.Get(ctx, c, "orders", "k"); err == nil {
			t.Fatal("failing target read succeeded")
		}
	}
	testenv.Eventually(t, 5*time.Second, func() (bool, string) {
		v, err := env.Store.Client(ctx, c)
		return err == nil && v.Stage == flags.StageLegacy, fmt.Sprint(v.Stage, err)
	}, "client rolled back to legacy")
	entries, err := env.Audit.List(ctx, flags.AuditQuery{Client: c, Limit: 1})
	if err != nil || len(entries) != 1 {
		t.Fatalf("audit: %v %v", entries, err)
	}
	if e := entries[0]; e.Actor != flags.ActorAutoRollback || e.To != "legacy" || e.From != "target" {
		t.Fatalf("audit entry = %+v", e)
	}
}
