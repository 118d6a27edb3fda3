package migrator

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/subscriptions"
)

// TestTwoCopierProcessesShareOneBackfill runs two backfill "processes"
// (separate NATS connections and state handles) while the application keeps
// writing, and a third party that takes a chunk and dies without
// acknowledging it. Every record ends as the model says, both processes
// copied, and the stolen chunk was redelivered.
func TestTwoCopierProcessesShareOneBackfill(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.consumer(legacyName, "legacy", subscriptions.StartAll)
	legacy, _ := sqliteStore(t, "legacy")
	target, _ := sqliteStore(t, "target")
	p := newProducer(t, e.js, "tasks")
	p.create(4000)
	startWorker(t, e.js, legacyName, legacy)
	drained(t, e.js, legacyName)
	e.consumer(targetName, "target", subscriptions.StartNew)
	startWorker(t, e.js, targetName, target)

	prodCtx, stopProducer := context.WithCancel(ctx)
	prodDone := make(chan error, 1)
	go func() { prodDone <- p.run(prodCtx, 5, 4000) }()

	// The dead copier: takes the first chunk it can get and never acks.
	var stoleChunk atomic.Bool
	stopThief := make(chan struct{})
	thiefDone := make(chan struct{})
	go func() {
		defer close(thiefDone)
		for {
			select {
			case <-stopThief:
				return
			default:
			}
			c, err := e.js.Consumer(ctx, DefaultWorkStream, copierConsumer)
			if err != nil {
				time.Sleep(10 * time.Millisecond) // the queue does not exist yet: poll
				continue
			}
			if msg, err := c.Next(jetstream.FetchMaxWait(200 * time.Millisecond)); err == nil && msg != nil {
				stoleChunk.Store(true)
				return
			}
		}
	}()

	type result struct {
		rep BackfillReport
		err error
	}
	results := make(chan result, 2)
	for range 2 {
		_, js := e.srv.Connect()
		st, err := OpenState(ctx, js, "")
		if err != nil {
			t.Fatal(err)
		}
		cfg := e.backfillConfig(legacy, target, "tasks")
		cfg.JS, cfg.State, cfg.Copiers, cfg.ChunkRows = js, st, 1, 100
		cfg.AckWait = time.Second
		cfg.MaxRate = 2500
		go func() {
			rep, err := Backfill(ctx, cfg)
			results <- result{rep, err}
		}()
	}
	var copied []int64
	for range 2 {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		copied = append(copied, r.rep.RowsThisProcess)
	}
	close(stopThief)
	<-thiefDone
	if !stoleChunk.Load() {
		t.Fatal("the dead copier got no chunk; the redelivery was not exercised")
	}
	stopProducer()
	if err := <-prodDone; err != nil {
		t.Fatal(err)
	}
	if copied[0] == 0 || copied[1] == 0 {
		t.Fatalf("rows copied per process %v: both must take part", copied)
	}
	drained(t, e.js, legacyName)
	drained(t, e.js, targetName)
	p.model.check(t, target, "tasks")
	p.model.check(t, legacy, "tasks")

	prog, _, _ := e.state.EntityProgress(ctx, "tasks")
	if !prog.Done || prog.ChunksDone != prog.Planned {
		t.Fatalf("checkpoint %+v", prog)
	}
	testenv.Eventually(t, 5*time.Second, func() (bool, string) {
		s, err := e.js.Stream(ctx, DefaultWorkStream)
		if err != nil {
			return false, err.Error()
		}
		info, err := s.Info(ctx)
		return err == nil && info.State.Msgs == 0, "chunks left in the work queue"
	}, "work queue empty")
}
