package workers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/postgres"
	"github.com/switchyard/switchyard/subscriptions"
	"github.com/switchyard/switchyard/workers"
)

// BenchmarkPostgresVersusRaw applies b.N events (at least 20,000) into
// PostgreSQL twice in one run: through the worker runtime from an
// embedded JetStream server, and as the same batches straight to the store.
// It reports both rates and their ratio, so the runtime's overhead can be
// read without comparing runs taken at different moments.
func BenchmarkPostgresVersusRaw(b *testing.B) {
	n := max(b.N, 20_000)
	const batch, keys = 500, 10_000
	pad := strings.Repeat("x", 200)
	evs := make([]events.Event, n)
	for i := range evs {
		evs[i] = upsert(fmt.Sprintf("ev-%d", i), fmt.Sprintf("k%05d", i%keys), fmt.Sprintf(`{"i":%d,"pad":"%s"}`, i, pad))
	}
	open := func() stores.Store {
		st, err := postgres.Open(context.Background(), testenv.Postgres(b))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		return st
	}
	ctx := context.Background()

	raw := open()
	rawStart := time.Now()
	for i := 0; i < n; i += batch {
		ws := make([]stores.Write, 0, batch)
		for j := i; j < min(i+batch, n); j++ {
			ws = append(ws, stores.Write{Entity: "tasks", Key: evs[j].Key, Client: "acme", Version: int64(j + 1), Data: evs[j].Data, EventID: evs[j].ID})
		}
		if _, err := raw.Apply(ctx, ws); err != nil {
			b.Fatal(err)
		}
	}
	rawRate := float64(n) / time.Since(rawStart).Seconds()

	srv := testenv.NATS(b)
	_, js := srv.Connect()
	if _, err := subscriptions.EnsureStream(ctx, js, subscriptions.StreamSpec{Name: testStream, Subjects: []string{"events.>"}}); err != nil {
		b.Fatal(err)
	}
	if _, err := subscriptions.EnsureDLQ(ctx, js, testStream); err != nil {
		b.Fatal(err)
	}
	pub := events.NewPublisher(js, "")
	for i := 0; i < n; i += 1000 {
		if err := pub.PublishAll(ctx, evs[i:min(i+1000, n)]); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := subscriptions.EnsureConsumer(ctx, js, subscriptions.ConsumerSpec{Stream: testStream, Name: testConsumer}); err != nil {
		b.Fatal(err)
	}
	sink := open()
	w, err := workers.New(js, sink, workers.Config{Stream: testStream, Consumer: testConsumer, Concurrency: 1}, nil)
	if err != nil {
		b.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	b.ResetTimer()
	start := time.Now()
	go func() { done <- w.Run(runCtx) }()
	for {
		s := w.Stats()
		if s.Applied+s.Skipped+s.Duplicates >= uint64(n) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	workerRate := float64(n) / time.Since(start).Seconds()
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(workerRate, "worker-events/s")
	b.ReportMetric(rawRate, "raw-events/s")
	b.ReportMetric(workerRate/rawRate, "ratio")
}
