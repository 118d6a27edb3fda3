package subscriptions_test

import (
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/subscriptions"
)

// testCtx is a test's context for calls to the server.
var testCtx = testenv.Context

// eventsStream starts an embedded server with the EVENTS stream and its DLQ.
func eventsStream(t *testing.T) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	srv := testenv.NATS(t)
	nc, js := srv.Connect()
	ctx := testCtx(t)
	if _, err := subscriptions.EnsureStream(ctx, js, subscriptions.StreamSpec{Name: "EVENTS", Subjects: []string{"events.>"}}); err != nil {
		t.Fatalf("EnsureStream: %v", err)
	}
	if _, err := subscriptions.EnsureDLQ(ctx, js, "EVENTS"); err != nil {
		t.Fatalf("EnsureDLQ: %v", err)
	}
	return nc, js
}

// publishN publishes n small messages on subject and returns the last sequence.
func publishN(t *testing.T, js jetstream.JetStream, subject string, n int) uint64 {
	t.Helper()
	ctx := testCtx(t)
	var last uint64
	for i := 0; i < n; i++ {
		ack, err := js.Publish(ctx, subject, []byte(fmt.Sprintf(`{"n":%d}`, i)))
		if err != nil {
			t.Fatalf("publish: %v", err)
		}
		last = ack.Sequence
	}
	return last
}

// publisherlessServer starts an embedded server with no stream at all.
func publisherlessServer(t *testing.T) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	return testenv.NATS(t).Connect()
}
