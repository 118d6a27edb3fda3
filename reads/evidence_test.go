package reads_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/flagstest"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/reads"
	"github.com/switchyard/switchyard/stores"
)

// enteringReader blocks every read until its context ends, and counts the
// reads that started, so a test knows a request reached the store.
type enteringReader struct {
	stores.Reader
	entered chan struct{}
}

func (e *enteringReader) Get(ctx context.Context, _, _ string) (stores.Record, error) {
	e.entered <- struct{}{}
	<-ctx.Done()
	return stores.Record{}, ctx.Err()
}

func (e *enteringReader) Scan(ctx context.Context, _ string, _ stores.Range) ([]stores.Record, error) {
	e.entered <- struct{}{}
	<-ctx.Done()
	return nil, ctx.Err()
}

// Callers who hang up are not evidence against the target store: 60
// requests, each cancelled by its HTTP client 1 ms after it reached the
// store, leave the client on target with no automatic rollback.
func TestCallersHangingUpDoNotRollBack(t *testing.T) {
	env := newRouterEnv(t)
	ctx := testenv.Context(t)
	const c = "initech"
	env.setStage(t, c, flags.StageTarget)
	target := &enteringReader{Reader: env.target, entered: make(chan struct{}, 1)}
	r := env.router(t, reads.RouterConfig{
		Target:       target,
		AutoRollback: &reads.AutoRollbackConfig{Rollback: env.Store.AutoRollback, MinReads: 5, ErrorRate: 0.5},
	})
	srv := readAPIServer(t, r)
	client := &http.Client{Transport: &http.Transport{}}
	const requests = 60
	for i := range requests {
		reqCtx, cancel := context.WithCancel(ctx)
		req, _ := http.NewRequestWithContext(reqCtx, http.MethodGet, fmt.Sprintf("%s/v1/orders/k%d?client=%s", srv.URL, i, c), nil)
		req.Header.Set("Authorization", "Bearer "+allToken)
		done := make(chan error, 1)
		go func() {
			resp, err := client.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			done <- err
		}()
		select {
		case <-target.entered:
		case <-time.After(5 * time.Second):
			v, _ := env.Store.Client(ctx, c)
			t.Fatalf("request %d never reached the target store; the client is on %s (rolled back by abandoned reads?)", i, v.Stage)
		}
		time.AfterFunc(time.Millisecond, cancel)
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("request %d: %v, want the caller's cancellation", i, err)
		}
	}
	// Every request ended at the store (its read is timed once it returns).
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		n := metric(env.reg, "switchyard_store_read_seconds", "store", "target")
		return n == requests, fmt.Sprint(n)
	}, "the server saw every abandoned read end")
	// Closing the router waits for any rollback it started.
	if err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if v, err := env.Store.Client(ctx, c); err != nil || v.Stage != flags.StageTarget {
		t.Fatalf("client after %d abandoned reads: %+v %v, want still on target", requests, v, err)
	}
	entries, err := env.Audit.List(ctx, flags.AuditQuery{Client: c, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Actor == flags.ActorAutoRollback {
			t.Fatalf("abandoned reads rolled the client back: %+v", e)
		}
	}
	if n := metric(env.reg, "switchyard_store_read_errors_total", "store", "target"); n != 0 {
		t.Fatalf("abandoned reads counted as %v target errors", n)
	}
	if n := metric(env.reg, "switchyard_auto_rollbacks_total", "", ""); n != 0 {
		t.Fatalf("%v automatic rollbacks", n)
	}
}

// A target store that overruns the router's own read budget is real
// evidence: it fails with ErrStoreTimeout and rolls the client back.
func TestStoreOverrunningItsBudgetRollsBack(t *testing.T) {
	env := newRouterEnv(t)
	ctx := testenv.Context(t)
	const c = "slowpoke"
	env.setStage(t, c, flags.StageTarget)
	target := &enteringReader{Reader: env.target, entered: make(chan struct{}, 100)}
	r := env.router(t, reads.RouterConfig{
		Target: target, ReadTimeout: 20 * time.Millisecond,
		AutoRollback: &reads.AutoRollbackConfig{Rollback: env.Store.AutoRollback, MinReads: 5, ErrorRate: 0.5},
	})
	for range 5 {
		_, err := r.Get(ctx, c, "orders", "k")
		if !errors.Is(err, reads.ErrStoreTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("slow target: %v, want ErrStoreTimeout", err)
		}
	}
	testenv.Eventually(t, 5*time.Second, func() (bool, string) {
		v, err := env.Store.Client(ctx, c)
		return err == nil && v.Stage == flags.StageLegacy, fmt.Sprint(v.Stage, err)
	}, "client rolled back after the target overran its budget")
}

// One key read a hundred times is one key of evidence: the shadow gate
// stays shut however often it is read.
func TestOneKeyReadManyTimesDoesNotPassTheShadowGate(t *testing.T) {
	env := newRouterEnv(t)
	ctx := testenv.Context(t)
	const c = "pumped"
	put(t, env.legacy, c, "k", `{"n":1}`, 1)
	put(t, env.target, c, "k", `{"n":1}`, 1)
	env.setStage(t, c, flags.StageShadow)
	stats, err := flags.OpenShadowStats(ctx, env.JS, flags.ShadowStatsConfig{RouterID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	// Enough shadow slots that none of the reads is dropped.
	r := env.router(t, reads.RouterConfig{Observers: []flags.ClientObserver{stats}, MaxShadowInFlight: 200})
	for range 100 {
		if _, err := r.Get(ctx, c, "orders", "k"); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		n := metric(env.reg, "switchyard_shadow_reads_total", "result", "match")
		return n == 100, fmt.Sprint(n)
	}, "100 shadow reads compared")
	if err := stats.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sum, err := stats.ClientStats(ctx, c)
	if err != nil || sum.Matches != 100 || sum.Keys != 1 {
		t.Fatalf("stats = %+v %v, want 100 matches over 1 key", sum, err)
	}
	gates := flags.NewGates(flags.GatesConfig{Source: &flagstest.GateSource{BackfillDone: true}, Shadow: stats})
	st, err := gates.Check(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if st.Passed || shadowCondition(st).OK || !strings.Contains(shadowCondition(st).Detail, "covering 1 distinct keys; 20 needed") {
		t.Fatalf("100 reads of one key: %+v", st)
	}

	// Reads over many keys satisfy the key count; the time span still
	// holds the gate until reads went on for long enough.
	for i := range 25 {
		k := fmt.Sprintf("k%02d", i)
		put(t, env.legacy, c, k, `{"n":1}`, 1)
		put(t, env.target, c, k, `{"n":1}`, 1)
		if _, err := r.Get(ctx, c, "orders", k); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		n := metric(env.reg, "switchyard_shadow_reads_total", "result", "match")
		return n == 125, fmt.Sprint(n)
	}, "25 more shadow reads compared")
	if err := stats.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st, err = gates.Check(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if cond := shadowCondition(st); cond.OK || !strings.Contains(cond.Detail, "10m0s needed") {
		t.Fatalf("reads over 26 keys within seconds: %+v", cond)
	}
	// Counters of several routers union their keys and widen the span.
	other := flagstest.Shadow{c: {Matches: 100, Keys: 26, FirstCompared: time.Now().Add(-time.Hour), LastCompared: time.Now()}}
	st, err = flags.NewGates(flags.GatesConfig{Source: &flagstest.GateSource{BackfillDone: true}, Shadow: other}).Check(ctx, c)
	if err != nil || !st.Passed {
		t.Fatalf("100 reads over 26 keys and an hour: %+v %v", st, err)
	}
}

func shadowCondition(st flags.GateStatus) flags.Condition {
	for _, c := range st.Conditions {
		if c.Name == flags.GateShadow {
			return c
		}
	}
	return flags.Condition{}
}

// driverReader blocks until its context ends and then fails the way some
// drivers do, with an error of its own rather than the context's.
type driverReader struct {
	stores.Reader
	entered chan struct{}
}

func (d *driverReader) Get(ctx context.Context, _, _ string) (stores.Record, error) {
	d.entered <- struct{}{}
	<-ctx.Done()
	return stores.Record{}, errors.New("driver: connection reset")
}

// A read its caller cancelled fails with the caller's error, whatever the
// store made of the cancellation, and is no store failure.
func TestAbandonedReadReturnsTheCallersError(t *testing.T) {
	env := newRouterEnv(t)
	const c = "hasty"
	env.setStage(t, c, flags.StageTarget)
	target := &driverReader{Reader: env.target, entered: make(chan struct{}, 1)}
	r := env.router(t, reads.RouterConfig{Target: target})
	ctx, cancel := context.WithCancel(testenv.Context(t))
	go func() {
		<-target.entered
		cancel()
	}()
	_, err := r.Get(ctx, c, "orders", "k")
	if !errors.Is(err, context.Canceled) || errors.Is(err, reads.ErrStoreTimeout) {
		t.Fatalf("abandoned read: %v, want the caller's context.Canceled", err)
	}
	if n := metric(env.reg, "switchyard_store_read_errors_total", "store", "target"); n != 0 {
		t.Fatalf("abandoned read counted as %v target errors", n)
	}
}
