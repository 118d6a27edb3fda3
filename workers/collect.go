package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/internal/lifecycle"
	"github.com/switchyard/switchyard/subscriptions"
)

// collector pulls messages from the consumer with one continuous pull
// (jetstream's Consume) whose requests never ask for more than Prefetch
// messages, prepares (decodes) each one and fills batches. The client hands
// the messages to one callback goroutine at a time, so batches are filled in
// delivery order; decoding there overlaps it with the store round trips of
// the apply loops even with Concurrency 1. A callback rather than an
// iterator: the iterator's Next arms and stops a heartbeat timer on every
// call, which cost a sixth of the worker's CPU.
type collector struct {
	consumer jetstream.Consumer
	conn     *nats.Conn
	prep     preparer
	cfg      Config
	log      *slog.Logger
}

// run fills batches taken from free and sends them on out until ctx ends or
// pulling fails for good; it closes out when it returns. On return it
// negatively acknowledges what it pulled but did not hand over, so other
// workers get it at once instead of after the ack wait. The error is nil
// when ctx ended.
func (c *collector) run(ctx, hard context.Context, free chan *Batch, out chan<- *Batch) error {
	defer close(out)
	for {
		f := &filler{c: c, ctx: ctx, free: free, out: out}
		consume, err := c.open(f)
		if err != nil {
			return err
		}
		closed := consume.Closed()
		select {
		case <-ctx.Done():
		case <-closed:
		}
		f.release(hard, consume, closed)
		if ctx.Err() != nil {
			return nil
		}
		// Consuming ends on its own when the connection is closed for good
		// or the consumer was deleted: consume again or give up.
		if err := c.await(ctx); err != nil {
			return ignoreCancel(ctx, err)
		}
	}
}

// pullHeartbeat is how often the consumer's leader confirms an idle pull
// request. When the leader's node goes away (a cluster node stopped or
// lost), the requests it held vanish with it and no message says so; two
// missed heartbeats make the client pull again from the new leader. The
// client's default (half the 30 s expiry) stalled a worker 30 s on every
// such leader change.
const pullHeartbeat = 2 * time.Second

func (c *collector) open(f *filler) (jetstream.ConsumeContext, error) {
	f.linger = time.AfterFunc(time.Hour, f.lingerExpired)
	f.linger.Stop()
	consume, err := c.consumer.Consume(f.add,
		jetstream.PullMaxMessages(c.cfg.Prefetch),
		jetstream.PullHeartbeat(pullHeartbeat),
		jetstream.ConsumeErrHandler(c.pullFailed))
	if err != nil {
		return nil, fmt.Errorf("pull from consumer %s on %s: %w", c.cfg.Consumer, c.cfg.Stream, err)
	}
	return consume, nil
}

// pullFailed logs what the client reports while consuming: missed
// heartbeats (it pulls again by itself), server status errors and the end
// of consuming.
func (c *collector) pullFailed(_ jetstream.ConsumeContext, err error) {
	c.log.Warn("pulling messages failed; waiting for the server", "err", err)
}

// await waits, with backoff, until the consumer is reachable again. A
// deleted consumer or a closed connection ends the worker.
func (c *collector) await(ctx context.Context) error {
	policy := lifecycle.Policy{Backoff: c.cfg.Backoff, Log: c.log,
		Waiting: "waiting for the consumer to become reachable", Attrs: []any{"consumer", c.cfg.Consumer}}
	return lifecycle.Retry(ctx, policy, func() error {
		if c.conn.IsClosed() {
			return lifecycle.Permanent(fmt.Errorf("consumer %s on %s: %w", c.cfg.Consumer, c.cfg.Stream, jetstream.ErrConnectionClosed))
		}
		_, err := c.consumer.Info(ctx)
		if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
			return lifecycle.Permanent(fmt.Errorf("consumer %s on %s is gone: %w: %w", c.cfg.Consumer, c.cfg.Stream, subscriptions.ErrNotFound, err))
		}
		return err
	})
}

// filler fills batches from one Consume call. add runs on the client's
// callback goroutine, lingerExpired on a timer's; mu orders them. A batch
// is handed over when it holds BatchSize messages or MaxWait has passed
// since its first message. Blocking in add (no free batch, or the apply
// loops busy) holds the client's pull back: it asks the server for more
// only as add returns, so Prefetch still bounds what waits here.
type filler struct {
	c    *collector
	ctx  context.Context
	free chan *Batch
	out  chan<- *Batch

	mu       sync.Mutex
	batch    *Batch    // being filled; nil between batches
	deadline time.Time // when batch is handed over however full
	linger   *time.Timer
	returned int         // messages negatively acknowledged on the way out
	over     atomic.Bool // release ran: whatever still arrives goes back
}

// add appends msg, prepared, to the batch being filled, starting one when
// there is none, and hands the batch over when it is full.
func (f *filler) add(msg jetstream.Msg) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.over.Load() || f.ctx.Err() != nil {
		f.giveBack(msg)
		return
	}
	if f.batch == nil {
		select {
		case f.batch = <-f.free:
		case <-f.ctx.Done():
			f.giveBack(msg)
			return
		}
		f.deadline = time.Now().Add(f.c.cfg.MaxWait)
		f.linger.Reset(f.c.cfg.MaxWait)
	}
	b := f.batch
	b.Messages = append(b.Messages, Message{Msg: msg})
	f.c.prep.prepare(&b.Messages[len(b.Messages)-1])
	if len(b.Messages) >= f.c.cfg.BatchSize {
		f.handOver()
	}
}

// lingerExpired hands the batch being filled over once its MaxWait has
// passed. A timer that fires late, for an earlier batch, re-arms for the
// current one instead.
func (f *filler) lingerExpired() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.batch == nil || f.over.Load() {
		return
	}
	if wait := time.Until(f.deadline); wait > 0 {
		f.linger.Reset(wait)
		return
	}
	f.handOver()
}

// handOver sends the batch being filled to the apply loops. mu is held.
func (f *filler) handOver() {
	b := f.batch
	f.batch = nil
	f.linger.Stop()
	select {
	case f.out <- b:
	case <-f.ctx.Done():
		f.returned += len(b.Messages)
		requeue(b)
	}
}

// giveBack negatively acknowledges a message that will not be handled
// here. mu is held.
func (f *filler) giveBack(msg jetstream.Msg) {
	_ = msg.Nak()
	f.returned++
}

// release stops consuming and negatively acknowledges the messages that
// were pulled but not handed over (those the client had buffered and the
// batch being filled), so they are redelivered at once to other workers.
// closed is the Consume call's Closed channel.
func (f *filler) release(hard context.Context, consume jetstream.ConsumeContext, closed <-chan struct{}) {
	consume.Drain()
	wait, cancel := context.WithTimeout(hard, time.Second)
	select {
	case <-closed:
	case <-wait.Done():
	}
	cancel()
	consume.Stop()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.over.Store(true)
	f.linger.Stop()
	if f.batch != nil {
		f.returned += len(f.batch.Messages)
		requeue(f.batch)
		f.free <- f.batch // never blocks: the batch came from free
		f.batch = nil
	}
	if f.returned > 0 {
		f.c.log.Info("returned prefetched messages for redelivery", "messages", f.returned)
	}
}

// requeue negatively acknowledges every message of a batch that was never
// handled, without delay.
func requeue(b *Batch) {
	for i := range b.Messages {
		_ = b.Messages[i].Msg.Nak()
	}
	b.reset()
}

func ignoreCancel(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}
