package workers_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/subscriptions"
	"github.com/switchyard/switchyard/workers"
)

const (
	testStream   = "EVENTS"
	testConsumer = "target"
)

// env is one test's broker: an embedded JetStream server with the event
// stream, its dead-letter stream and the "target" consumer.
type env struct {
	t   *testing.T
	srv *testenv.NATSServer
	nc  *nats.Conn
	js  jetstream.JetStream
	pub *events.Publisher
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv := testenv.NATS(t)
	nc, js := srv.Connect()
	ctx := context.Background()
	declareStreams(t, js)
	if _, err := subscriptions.EnsureConsumer(ctx, js, subscriptions.ConsumerSpec{
		Stream: testStream, Name: testConsumer, Start: subscriptions.StartPosition{Kind: subscriptions.StartAll},
	}); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, srv: srv, nc: nc, js: js, pub: events.NewPublisher(js, "")}
}

// declareStreams declares the event stream and its dead-letter stream.
func declareStreams(t *testing.T, js jetstream.JetStream) {
	t.Helper()
	ctx := context.Background()
	if _, err := subscriptions.EnsureStream(ctx, js, subscriptions.StreamSpec{Name: testStream, Subjects: []string{"events.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := subscriptions.EnsureDLQ(ctx, js, testStream); err != nil {
		t.Fatal(err)
	}
}

func testConfig() workers.Config {
	return workers.Config{
		Stream:      testStream,
		Consumer:    testConsumer,
		BatchSize:   100,
		MaxWait:     20 * time.Millisecond,
		Backoff:     workers.Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond, Jitter: -1},
		LagInterval: 50 * time.Millisecond,
		Grace:       10 * time.Second,
	}
}

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func (e *env) worker(sink stores.Writer, cfg workers.Config, opts ...workers.Option) *workers.Worker {
	e.t.Helper()
	w, err := workers.New(e.js, sink, cfg, testLogger(), opts...)
	if err != nil {
		e.t.Fatal(err)
	}
	return w
}

// run starts w and returns a function that cancels it and returns Run's
// error. The test's cleanup stops it too.
func (e *env) run(w *workers.Worker) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- w.Run(ctx) }()
	var result error
	stopped := false
	stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			select {
			case result = <-errc:
			case <-time.After(30 * time.Second):
				e.t.Fatal("worker did not stop within 30s")
			}
		}
		return result
	}
	e.t.Cleanup(func() { _ = stop() })
	return stop
}

func (e *env) publish(evs ...events.Event) {
	e.t.Helper()
	if err := e.pub.PublishAll(context.Background(), evs); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) publishRaw(subject string, data []byte) {
	e.t.Helper()
	if _, err := e.js.Publish(context.Background(), subject, data); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) consumerInfo() *jetstream.ConsumerInfo {
	e.t.Helper()
	c, err := e.js.Consumer(context.Background(), testStream, testConsumer)
	if err != nil {
		e.t.Fatal(err)
	}
	info, err := c.Info(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return info
}

// waitAcked waits until every message up to stream sequence seq is acked.
func (e *env) waitAcked(seq uint64) {
	e.t.Helper()
	testenv.Eventually(e.t, 10*time.Second, func() (bool, string) {
		info := e.consumerInfo()
		return info.AckFloor.Stream >= seq && info.NumAckPending == 0,
			fmt.Sprintf("ack floor %d, ack pending %d, pending %d", info.AckFloor.Stream, info.NumAckPending, info.NumPending)
	}, "consumer acknowledged everything")
}

func upsert(id, key, data string) events.Event {
	return events.Event{
		ID: id, Type: "task.saved", Entity: "tasks", Key: key, Client: "acme",
		Op: events.OpUpsert, OccurredAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Data: []byte(data),
	}
}

func deletion(id, key string) events.Event {
	return events.Event{
		ID: id, Type: "task.deleted", Entity: "tasks", Key: key, Client: "acme",
		Op: events.OpDelete, OccurredAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

func manyUpserts(n int, prefix string) []events.Event {
	evs := make([]events.Event, n)
	for i := range evs {
		evs[i] = upsert(fmt.Sprintf("%s-%d", prefix, i), fmt.Sprintf("k%03d", i), fmt.Sprintf(`{"n":%d}`, i))
	}
	return evs
}
