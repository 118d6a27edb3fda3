package preflight_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/preflight"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/subscriptions"
)

func natsConfig(url string, consumers ...string) preflight.Config {
	return preflight.Config{NATS: preflight.NATSConfig{URL: url, Stream: "EVENTS", Consumers: consumers}}
}

// ensureEvents declares the event stream as the application's setup would.
func ensureEvents(t *testing.T, js jetstream.JetStream) {
	t.Helper()
	if _, err := subscriptions.EnsureStream(context.Background(), js, subscriptions.StreamSpec{Name: "EVENTS", Subjects: []string{"events.>"}, Memory: true}); err != nil {
		t.Fatal(err)
	}
}

func TestNATSPassesAndCreatesNothing(t *testing.T) {
	srv := testenv.NATS(t)
	_, js := srv.Connect()
	ctx := context.Background()
	ensureEvents(t, js)
	if _, err := subscriptions.EnsureConsumer(ctx, js, subscriptions.ConsumerSpec{Stream: "EVENTS", Name: "legacy", Role: "legacy"}); err != nil {
		t.Fatal(err)
	}
	rep := run(t, natsConfig(srv.URL, "legacy", "target"))
	allPass(t, rep)
	want(t, rep, "connect", "", stores.CheckPass, srv.URL)
	want(t, rep, "jetstream", "", stores.CheckPass)
	want(t, rep, "stream", "EVENTS", stores.CheckPass, "events.>")
	want(t, rep, "stream_subjects", "EVENTS", stores.CheckPass)
	want(t, rep, "stream_retention", "EVENTS", stores.CheckPass, "limits")
	want(t, rep, "consumer", "legacy", stores.CheckPass, "exists: durable pull, explicit ack")
	want(t, rep, "consumer", "target", stores.CheckPass, "does not exist yet and can be created")
	want(t, rep, "dead_letter_stream", "EVENTS_DLQ", stores.CheckPass, "does not exist yet")
	// Preflight wrote nothing to NATS.
	if _, err := js.Consumer(ctx, "EVENTS", "target"); err == nil {
		t.Fatal("preflight created the target consumer")
	}
	if _, err := js.Stream(ctx, "EVENTS_DLQ"); err == nil {
		t.Fatal("preflight created the dead-letter stream")
	}
}

func TestNATSFailures(t *testing.T) {
	ctx := context.Background()
	t.Run("unreachable", func(t *testing.T) {
		url := "nats://127.0.0.1:" + itoa(testenv.FreePort(t))
		cfg := natsConfig(url)
		cfg.NATS.ConnectTimeout = time.Second
		rep := run(t, cfg)
		want(t, rep, "connect", "", stores.CheckFail, "127.0.0.1")
		if len(rep.Results) != 1 {
			t.Fatalf("checks after a failed connection:\n%s", table(rep))
		}
	})
	t.Run("no stream", func(t *testing.T) {
		srv := testenv.NATS(t)
		rep := run(t, natsConfig(srv.URL, "target"))
		want(t, rep, "stream", "EVENTS", stores.CheckFail, "no stream named EVENTS")
	})
	t.Run("work queue", func(t *testing.T) {
		srv := testenv.NATS(t)
		_, js := srv.Connect()
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"events.>"}, Retention: jetstream.WorkQueuePolicy, Storage: jetstream.MemoryStorage}); err != nil {
			t.Fatal(err)
		}
		rep := run(t, natsConfig(srv.URL, "target"))
		want(t, rep, "stream_retention", "EVENTS", stores.CheckFail, "work-queue")
	})
	t.Run("subjects elsewhere", func(t *testing.T) {
		srv := testenv.NATS(t)
		_, js := srv.Connect()
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"events.task.*", "orders.>"}, Storage: jetstream.MemoryStorage}); err != nil {
			t.Fatal(err)
		}
		rep := run(t, natsConfig(srv.URL))
		want(t, rep, "stream_subjects", "EVENTS", stores.CheckFail, "events.>")
	})
	t.Run("push consumer without explicit acks", func(t *testing.T) {
		srv := testenv.NATS(t)
		_, js := srv.Connect()
		ensureEvents(t, js)
		stream, err := js.Stream(ctx, "EVENTS")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "target", AckPolicy: jetstream.AckNonePolicy}); err != nil {
			t.Fatal(err)
		}
		rep := run(t, natsConfig(srv.URL, "target"))
		want(t, rep, "consumer", "target", stores.CheckFail, "ack policy")
	})
	t.Run("consumer limit reached", func(t *testing.T) {
		srv := testenv.NATS(t)
		_, js := srv.Connect()
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"events.>"}, MaxConsumers: 1, Storage: jetstream.MemoryStorage}); err != nil {
			t.Fatal(err)
		}
		if _, err := subscriptions.EnsureConsumer(ctx, js, subscriptions.ConsumerSpec{Stream: "EVENTS", Name: "legacy"}); err != nil {
			t.Fatal(err)
		}
		rep := run(t, natsConfig(srv.URL, "legacy", "target"))
		want(t, rep, "consumer", "legacy", stores.CheckPass)
		want(t, rep, "consumer", "target", stores.CheckFail, "maximum of 1 consumers")
	})
}

func TestSubjectCoverage(t *testing.T) {
	srv := testenv.NATS(t)
	_, js := srv.Connect()
	ctx := context.Background()
	for _, c := range []struct {
		subjects []string
		covered  bool
	}{
		{[]string{"events.>"}, true},
		{[]string{"events.*.>"}, false},
		{[]string{"events.task.*", "ev.>"}, false},
		{[]string{"events.*", "events.*.>"}, true},
		{[]string{"events.*"}, false},
		{[]string{"events.task.>"}, false},
		{[]string{"other.>", "events.>"}, true},
	} {
		if err := js.DeleteStream(ctx, "EVENTS"); err != nil && err != jetstream.ErrStreamNotFound {
			t.Fatal(err)
		}
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: c.subjects, Storage: jetstream.MemoryStorage}); err != nil {
			t.Fatalf("stream with subjects %q: %v", c.subjects, err)
		}
		rep := run(t, natsConfig(srv.URL))
		status := stores.CheckFail
		if c.covered {
			status = stores.CheckPass
		}
		want(t, rep, "stream_subjects", "EVENTS", status)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
