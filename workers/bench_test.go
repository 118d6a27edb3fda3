package workers_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/subscriptions"
	"github.com/switchyard/switchyard/workers"
)

// countingSink accepts every write and only counts: the benchmark measures
// the runtime (pull, decode, ack), not a store. A latency makes each Apply
// take that long without using the CPU, like a store's round trip.
type countingSink struct {
	writes  atomic.Int64
	latency time.Duration
}

func (s *countingSink) Apply(_ context.Context, ws []stores.Write) (stores.ApplyResult, error) {
	if s.latency > 0 {
		time.Sleep(s.latency)
	}
	s.writes.Add(int64(len(ws)))
	return stores.ApplyResult{Applied: len(ws)}, nil
}

// BenchmarkRuntime measures the worker runtime alone against a sink that
// does nothing, with ~300-byte events: the per-event cost the runtime adds
// on top of a store. It reports events/s. The store-10ms variant's sink
// takes 10 ms per Apply without using the CPU: its ceiling is
// Concurrency × BatchSize per 10 ms (100,000 events/s with the defaults),
// and what it misses is time the store idles between batches.
func BenchmarkRuntime(b *testing.B) {
	b.Run("no-store", func(b *testing.B) { benchmarkRuntime(b, 0) })
	b.Run("store-10ms", func(b *testing.B) { benchmarkRuntime(b, 10*time.Millisecond) })
}

func benchmarkRuntime(b *testing.B, latency time.Duration) {
	srv := testenv.NATS(b)
	_, js := srv.Connect()
	ctx := context.Background()
	if _, err := subscriptions.EnsureStream(ctx, js, subscriptions.StreamSpec{Name: testStream, Subjects: []string{"events.>"}}); err != nil {
		b.Fatal(err)
	}
	if _, err := subscriptions.EnsureDLQ(ctx, js, testStream); err != nil {
		b.Fatal(err)
	}
	n := max(b.N, 1000)
	pub := events.NewPublisher(js, "")
	pad := strings.Repeat("x", 180)
	evs := make([]events.Event, 0, 1000)
	for i := 0; i < n; i++ {
		evs = append(evs, upsert(fmt.Sprintf("ev-%d", i), fmt.Sprintf("k%05d", i%50000), fmt.Sprintf(`{"title":"task %d","pad":"%s"}`, i, pad)))
		if len(evs) == cap(evs) || i == n-1 {
			if err := pub.PublishAll(ctx, evs); err != nil {
				b.Fatal(err)
			}
			evs = evs[:0]
		}
	}
	if _, err := subscriptions.EnsureConsumer(ctx, js, subscriptions.ConsumerSpec{Stream: testStream, Name: testConsumer}); err != nil {
		b.Fatal(err)
	}
	sink := &countingSink{latency: latency}
	w, err := workers.New(js, sink, workers.Config{Stream: testStream, Consumer: testConsumer}, nil)
	if err != nil {
		b.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	b.ResetTimer()
	start := time.Now()
	go func() { done <- w.Run(runCtx) }()
	for sink.writes.Load() < int64(n) {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "events/s")
	st := w.Stats()
	b.ReportMetric(float64(n)/float64(max(st.Batches, 1)), "events/batch")
}
