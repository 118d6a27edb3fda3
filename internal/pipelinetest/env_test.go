package pipelinetest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/subscriptions"

	_ "github.com/switchyard/switchyard/stores/postgres" // DSNs of the tables checked
	_ "github.com/switchyard/switchyard/stores/sqlite"
)

const (
	streamName   = "EVENTS"
	consumerName = "target"
	// ackWait is short so that the batch a killed worker held comes back
	// quickly; the workers' own retries do not depend on it.
	ackWait = time.Second
)

// pipeline is one stream, its dead-letter stream and one consumer that
// workers bind to, on an embedded server or cluster.
type pipeline struct {
	t   *testing.T
	srv *testenv.NATSServer // nil on a cluster
	js  jetstream.JetStream
	pub *events.Publisher
	// url is what workers get as --nats: one URL, or every node's.
	url      string
	consumer string
}

// newPipeline starts an embedded server and declares the stream (with the
// given duplicate window; zero means the default) and the consumer.
func newPipeline(t *testing.T, duplicateWindow time.Duration) *pipeline {
	t.Helper()
	srv := testenv.NATS(t)
	_, js := srv.Connect()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := subscriptions.EnsureStream(ctx, js, subscriptions.StreamSpec{
		Name: streamName, Subjects: []string{events.SubjectFilter("")}, DuplicateWindow: duplicateWindow,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := subscriptions.EnsureDLQ(ctx, js, streamName); err != nil {
		t.Fatal(err)
	}
	if _, err := subscriptions.EnsureConsumer(ctx, js, subscriptions.ConsumerSpec{
		Stream: streamName, Name: consumerName, Role: "target", AckWait: ackWait,
		VersionSource: string(events.VersionFromStream),
	}); err != nil {
		t.Fatal(err)
	}
	return &pipeline{t: t, srv: srv, js: js, pub: events.NewPublisher(js, ""), url: srv.URL, consumer: consumerName}
}

// sqliteDSN returns a fresh SQLite file in the test's temporary folder.
func sqliteDSN(t *testing.T) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "target.db")
}

// startWorker runs `switchyard worker` on the pipeline's consumer into dsn.
func (p *pipeline) startWorker(name, dsn string, extra ...string) *proc {
	p.t.Helper()
	args := append([]string{
		"worker",
		"--nats", p.url,
		"--stream", streamName,
		"--consumer", p.consumer,
		"--sink", dsn,
		"--batch-size", "100",
		"--version-source", "stream",
		"--http", "",
		"--log-format", "text",
	}, extra...)
	return start(p.t, name, args...)
}

// status inspects the pipeline's consumer.
func (p *pipeline) status() (subscriptions.Status, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return subscriptions.Inspect(ctx, p.js, streamName, p.consumer)
}

// lastSeq is the stream's last sequence.
func (p *pipeline) lastSeq() uint64 {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := p.js.Stream(ctx, streamName)
	if err != nil {
		p.t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		p.t.Fatal(err)
	}
	return info.State.LastSeq
}

// waitCommitted waits until the consumer acknowledged every event up to the
// stream's last sequence, so the store committed them all.
func (p *pipeline) waitCommitted(timeout time.Duration) subscriptions.Status {
	p.t.Helper()
	last := p.lastSeq()
	var st subscriptions.Status
	testenv.Eventually(p.t, timeout, func() (bool, string) {
		var err error
		st, err = p.status()
		if err != nil {
			return false, err.Error()
		}
		return st.AckFloor >= last && st.Pending == 0 && st.AckPending == 0,
			fmt.Sprintf("ack floor %d of %d, pending %d, ack pending %d, redelivered %d", st.AckFloor, last, st.Pending, st.AckPending, st.Redelivered)
	}, "consumer "+p.consumer+": every event committed")
	return st
}

// publish publishes evs in chunks, retrying a chunk until the stream stored
// all of it (ids deduplicate, so a retry never stores an event twice), as a
// producer that must not lose an event does. It stops at ctx's end.
func (p *pipeline) publish(ctx context.Context, evs []events.Event, chunk int) error {
	for len(evs) > 0 {
		n := min(chunk, len(evs))
		for attempt := 0; ; attempt++ {
			err := p.pub.PublishAll(ctx, evs[:n])
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return fmt.Errorf("publish: %w (last error: %v)", ctx.Err(), err)
			}
			if errors.Is(err, events.ErrInvalid) {
				return err
			}
			// The broker is away (restart test): back off and retry.
			select {
			case <-ctx.Done():
			case <-time.After(time.Duration(min(attempt+1, 10)) * 50 * time.Millisecond):
			}
		}
		evs = evs[n:]
	}
	return nil
}

// publishAsync runs publish in a goroutine; the returned channel yields its
// error once done.
func (p *pipeline) publishAsync(ctx context.Context, evs []events.Event, chunk int) <-chan error {
	done := make(chan error, 1)
	go func() { done <- p.publish(ctx, evs, chunk) }()
	return done
}

// deadLetters returns the depth of the consumer's dead-letter subject.
func (p *pipeline) deadLetters() uint64 {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := subscriptions.DeadLetterDepth(ctx, p.js, streamName, p.consumer)
	if err != nil {
		p.t.Fatal(err)
	}
	return n
}

// waitAckFloor waits until the consumer's ack floor reaches at least seq.
func (p *pipeline) waitAckFloor(seq uint64, timeout time.Duration) {
	p.t.Helper()
	testenv.Eventually(p.t, timeout, func() (bool, string) {
		st, err := p.status()
		if err != nil {
			return false, err.Error()
		}
		return st.AckFloor >= seq, "ack floor " + strconv.FormatUint(st.AckFloor, 10)
	}, "consumer "+p.consumer+": ack floor at "+strconv.FormatUint(seq, 10))
}
