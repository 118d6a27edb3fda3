package pipelinetest

import (
	"context"
	"testing"
	"time"
)

// TestBrokerRestart stops and restarts the embedded NATS server on the same
// store twice while two worker processes share the consumer and a producer
// keeps publishing. The workers must reconnect on their own and nothing may
// be lost.
func TestBrokerRestart(t *testing.T) {
	t.Parallel()
	forEachSink(t, func(t *testing.T, dsn string) {
		p := newPipeline(t, 0)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		evs := genEvents(2, 0, 3000, 100)
		workers := []*proc{p.startWorker("worker-a", dsn), p.startWorker("worker-b", dsn)}
		published := p.publishAsync(ctx, evs, 50)

		p.waitAckFloor(400, 30*time.Second)
		p.srv.Restart()
		p.waitAckFloor(1200, 30*time.Second)
		p.srv.Restart()

		if err := <-published; err != nil {
			t.Fatal(err)
		}
		p.waitCommitted(45 * time.Second)
		for _, w := range workers {
			if w.exited() {
				t.Fatalf("%s exited instead of reconnecting: %v", w.name, w.err)
			}
			w.stop(15 * time.Second)
		}
		model, last := streamModel(t, p.js, streamName, 0)
		if last != uint64(len(evs)) {
			t.Fatalf("the stream holds %d events, want %d: the producer lost or repeated some", last, len(evs))
		}
		assertTable(t, dsn, model)
		if n := p.deadLetters(); n != 0 {
			t.Fatalf("%d dead letters, want none", n)
		}
	})
}
