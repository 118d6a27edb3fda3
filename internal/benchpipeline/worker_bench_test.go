package benchpipeline

import (
	"context"
	"path/filepath"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores/all"
	"github.com/switchyard/switchyard/workers"
)

// BenchmarkWorker runs the worker runtime in process (so -cpuprofile sees
// it) on a backlog of b.N events into SQLite and PostgreSQL, and reports
// events/s. The bench-pipeline command measures the real process; this is
// the short version, and the one to profile:
//
//	go test -run '^$' -bench Worker/postgres -benchtime 50000x -cpuprofile cpu.out ./internal/benchpipeline
//	go tool pprof -tagfocus part=worker -top internal/benchpipeline.test cpu.out
//
// The worker runs on its own connection and store, created inside the
// profiler label part=worker (which goroutines inherit), so -tagfocus
// separates its CPU from the embedded server's and the publisher's.
func BenchmarkWorker(b *testing.B) {
	run := func(b *testing.B, dsn string) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		br, err := startBroker(ctx, filepath.Join(b.TempDir(), "nats"))
		if err != nil {
			b.Fatal(err)
		}
		defer br.close()
		n := max(b.N, 1000)
		if err := br.fill(ctx, 0, n, max(n/4, 1), 300); err != nil {
			b.Fatal(err)
		}
		if _, err := br.consumer(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
		done := make(chan error, 1)
		runCtx, stop := context.WithCancel(ctx)
		var w *workers.Worker
		pprof.Do(ctx, pprof.Labels("part", "worker"), func(ctx context.Context) {
			nc, err := nats.Connect(br.url)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(nc.Close)
			js, err := jetstream.New(nc)
			if err != nil {
				b.Fatal(err)
			}
			sink, err := all.Open(ctx, dsn)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { sink.Close() })
			if w, err = workers.New(js, sink, workers.Config{Stream: streamName, Consumer: "bench"}, nil); err != nil {
				b.Fatal(err)
			}
		})
		b.ResetTimer()
		begin := time.Now()
		go pprof.Do(runCtx, pprof.Labels("part", "worker"), func(ctx context.Context) { done <- w.Run(ctx) })
		for {
			floor, err := br.ackFloor(ctx, "bench")
			if err != nil {
				b.Fatal(err)
			}
			if floor >= uint64(n) {
				break
			}
			select {
			case err := <-done:
				b.Fatalf("worker stopped: %v", err)
			case <-time.After(20 * time.Millisecond):
			}
		}
		elapsed := time.Since(begin)
		b.StopTimer()
		stop()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n)/elapsed.Seconds(), "events/s")
		b.ReportMetric(0, "ns/op")
	}
	b.Run("sqlite", func(b *testing.B) { run(b, "sqlite:"+filepath.Join(b.TempDir(), "w.db")) })
	b.Run("postgres", func(b *testing.B) { run(b, testenv.Postgres(b)) })
}
