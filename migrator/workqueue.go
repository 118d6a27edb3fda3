package migrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/internal/jsdeclare"
)

// DefaultWorkStream is the work-queue stream that hands out backfill chunks.
const DefaultWorkStream = "SWITCHYARD_BACKFILL"

// copierConsumer is the durable consumer every copier pulls chunks from.
// A work-queue stream admits one consumer per subject; all copiers of all
// processes share it, so each chunk goes to exactly one of them at a time.
const copierConsumer = "copiers"

// chunkTask is the descriptor of one chunk in the work queue.
type chunkTask struct {
	Run    string     `json:"run"`
	Entity string     `json:"entity"`
	Chunk  ChunkRange `json:"chunk"`
}

// workQueue is the JetStream side of a backfill: a work-queue stream of
// chunk descriptors and the copiers' shared pull consumer.
type workQueue struct {
	js       jetstream.JetStream
	stream   string
	consumer jetstream.Consumer
	ackWait  time.Duration
}

func chunkSubject(stream, entity string) string { return stream + ".chunks." + entity }

// openWorkQueue creates (or opens, as it is) the work-queue stream, with
// replicas when it creates it, and the copiers' consumer. Chunks are kept on disk until a copier acknowledges them, so a
// broker restart loses none; a chunk unacknowledged for ackWait is
// redelivered to another copier.
func openWorkQueue(ctx context.Context, js jetstream.JetStream, stream string, ackWait time.Duration, replicas int) (*workQueue, error) {
	if ackWait <= 0 {
		ackWait = 30 * time.Second
	}
	cfg := jetstream.StreamConfig{
		Name:        stream,
		Description: "Switchyard backfill chunks (work queue)",
		Subjects:    []string{stream + ".chunks.>"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Duplicates:  time.Hour,
		Replicas:    replicas,
	}
	s, err := jsdeclare.Stream(ctx, js, cfg, jsdeclare.Create)
	if err != nil {
		return nil, fmt.Errorf("work-queue stream %s: %w", stream, err)
	}
	c, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       copierConsumer,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		MaxDeliver:    -1,
		MaxAckPending: 1000,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("work-queue consumer %s on %s: %w", copierConsumer, stream, err)
	}
	return &workQueue{js: js, stream: stream, consumer: c, ackWait: ackWait}, nil
}

// purge drops every queued chunk (for a restart).
func (q *workQueue) purge(ctx context.Context) error {
	s, err := q.js.Stream(ctx, q.stream)
	if err != nil {
		return fmt.Errorf("work-queue stream %s: %w", q.stream, err)
	}
	if err := s.Purge(ctx); err != nil {
		return fmt.Errorf("purge work-queue stream %s: %w", q.stream, err)
	}
	return nil
}

// publish enqueues one chunk. The message id makes a republished chunk
// (after a planner crashed between recording and publishing it) a
// duplicate the stream drops.
func (q *workQueue) publish(ctx context.Context, t chunkTask) error {
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode chunk: %w", err)
	}
	msg := nats.NewMsg(chunkSubject(q.stream, t.Entity))
	msg.Data = b
	msg.Header.Set(jetstream.MsgIDHeader, t.Run+"."+t.Entity+"."+strconv.Itoa(t.Chunk.Index))
	if _, err := q.js.PublishMsg(ctx, msg); err != nil {
		return fmt.Errorf("enqueue chunk %d of %s: %w", t.Chunk.Index, t.Entity, err)
	}
	return nil
}

// next waits up to wait for one chunk; it returns (nil, nil) when none came.
func (q *workQueue) next(ctx context.Context, wait time.Duration) (jetstream.Msg, error) {
	fetchCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	batch, err := q.consumer.Fetch(1, jetstream.FetchContext(fetchCtx))
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return nil, nil
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("fetch chunk: %w", err)
	}
	for msg := range batch.Messages() {
		return msg, nil
	}
	if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("fetch chunk: %w", err)
	}
	return nil, nil
}

// heartbeat tells the server, every third of the ack wait until stop is
// closed, that msg is still being worked on, so a long chunk is not
// redelivered while its copier is alive.
func (q *workQueue) heartbeat(msg jetstream.Msg, stop <-chan struct{}) {
	tick := time.NewTicker(max(q.ackWait/3, 50*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			_ = msg.InProgress() // a lost heartbeat at worst causes a redelivery
		}
	}
}
