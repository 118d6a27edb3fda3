package benchpipeline

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/subscriptions"
)

const streamName = "BENCH"

// broker is the embedded JetStream server of one run, with one client.
type broker struct {
	srv *server.Server
	url string
	nc  *nats.Conn
	js  jetstream.JetStream
	pub *events.Publisher
}

// startBroker starts a JetStream server on a free loopback port with its
// store in dir, and creates the event stream.
func startBroker(ctx context.Context, dir string) (*broker, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	srv, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true,
		JetStreamMaxStore: 8 << 30,
	})
	if err != nil {
		return nil, fmt.Errorf("embedded NATS: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("embedded NATS did not become ready")
	}
	b := &broker{srv: srv, url: fmt.Sprintf("nats://127.0.0.1:%d", port)}
	if b.nc, err = nats.Connect(b.url); err != nil {
		b.close()
		return nil, err
	}
	if b.js, err = jetstream.New(b.nc); err != nil {
		b.close()
		return nil, err
	}
	if _, err := subscriptions.EnsureStream(ctx, b.js, subscriptions.StreamSpec{
		Name: streamName, Subjects: []string{events.SubjectFilter("")},
	}); err != nil {
		b.close()
		return nil, err
	}
	if _, err := subscriptions.EnsureDLQ(ctx, b.js, streamName); err != nil {
		b.close()
		return nil, err
	}
	b.pub = events.NewPublisher(b.js, "")
	return b, nil
}

// fill publishes events first..first+n-1 in pipelined chunks.
func (b *broker) fill(ctx context.Context, first, n, keys, size int) error {
	const chunk = 2000
	for done := 0; done < n; done += chunk {
		m := min(chunk, n-done)
		if err := b.pub.PublishAll(ctx, genEvents(first+done, m, keys, size)); err != nil {
			return fmt.Errorf("publish the backlog: %w", err)
		}
	}
	return nil
}

// consumer creates a durable consumer that starts at the beginning.
func (b *broker) consumer(ctx context.Context, name string) (jetstream.Consumer, error) {
	return subscriptions.EnsureConsumer(ctx, b.js, subscriptions.ConsumerSpec{
		Stream: streamName, Name: name, VersionSource: string(events.VersionFromStream),
		MaxAckPending: 20_000,
	})
}

// ackFloor returns the consumer's ack floor.
func (b *broker) ackFloor(ctx context.Context, name string) (uint64, error) {
	st, err := subscriptions.Inspect(ctx, b.js, streamName, name)
	if err != nil {
		return 0, err
	}
	return st.AckFloor, nil
}

func (b *broker) close() {
	if b.nc != nil {
		b.nc.Close()
	}
	b.srv.Shutdown()
	b.srv.WaitForShutdown()
}
