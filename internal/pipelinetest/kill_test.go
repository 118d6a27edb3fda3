package pipelinetest

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestKillWorker kills the worker process with SIGKILL several times while
// events flow, restarts it each time, and checks that the table equals the
// model of the stream and that nothing was dead-lettered: a batch committed
// but not acknowledged is redelivered and fenced, a batch not committed is
// redelivered and applied.
func TestKillWorker(t *testing.T) {
	t.Parallel()
	forEachSink(t, func(t *testing.T, dsn string) {
		p := newPipeline(t, 0)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		evs := genEvents(1, 0, 3000, 100)
		published := p.publishAsync(ctx, evs, 50)

		w := p.startWorker("worker-1", dsn)
		inFlight := 0 // kills that caught the worker holding unacknowledged events
		for i, floor := range []uint64{300, 1000, 1700, 2400} {
			p.waitAckFloor(floor, 30*time.Second)
			w.kill()
			if st, err := p.status(); err == nil && st.AckPending > 0 {
				inFlight++
			}
			w = p.startWorker(fmt.Sprintf("worker-%d", i+2), dsn)
		}
		if inFlight == 0 {
			t.Fatal("no kill caught the worker with events in flight; the test proved nothing")
		}
		if err := <-published; err != nil {
			t.Fatal(err)
		}
		p.waitCommitted(30 * time.Second)
		w.stop(15 * time.Second)

		model, last := streamModel(t, p.js, streamName, 0)
		if last != uint64(len(evs)) {
			t.Fatalf("the stream holds %d events, want %d", last, len(evs))
		}
		assertTable(t, dsn, model)
		if n := p.deadLetters(); n != 0 {
			t.Fatalf("%d dead letters, want none", n)
		}
	})
}
