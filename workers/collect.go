package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/subscriptions"
)

// collector pulls messages from the consumer through one bounded prefetch
// buffer, prepares (decodes) each one and fills batches. It is the only
// goroutine that reads the iterator, so batches are filled in delivery
// order; decoding here overlaps it with the store round trips of the apply
// loops even with Concurrency 1.
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
	iter, err := c.open()
	if err != nil {
		return err
	}
	defer func() { c.release(hard, iter) }()
	failures := int64(0)
	for {
		var b *Batch
		select {
		case <-ctx.Done():
			return nil
		case b = <-free:
		}
		err := c.fill(ctx, iter, b)
		if len(b.Messages) > 0 {
			select {
			case out <- b:
				failures = 0
			case <-ctx.Done():
				requeue(b)
				return nil
			}
		} else {
			free <- b // never blocks: the batch came from free
		}
		if err == nil || ctx.Err() != nil {
			continue
		}
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) || errors.Is(err, jetstream.ErrConsumerDeleted) {
			// The iterator ends when the connection is closed for good or
			// the consumer was deleted: open a new one or give up.
			iter.Stop()
			if iter, err = c.reopen(ctx); err != nil {
				return ignoreCancel(ctx, err)
			}
			continue
		}
		failures++
		delay := c.cfg.Backoff.Delay(failures)
		c.log.Warn("pulling messages failed; waiting for the server", "err", err, "retry_in", delay)
		if !sleep(ctx, delay) {
			return nil
		}
	}
}

// pullHeartbeat is how often the consumer's leader confirms an idle pull
// request. When the leader's node goes away (a cluster node stopped or
// lost), the requests it held vanish with it and no message says so; two
// missed heartbeats make the iterator pull again from the new leader. The
// client's default (half the 30 s expiry) stalled a worker 30 s on every
// such leader change.
const pullHeartbeat = 2 * time.Second

func (c *collector) open() (jetstream.MessagesContext, error) {
	iter, err := c.consumer.Messages(jetstream.PullMaxMessages(c.cfg.Prefetch), jetstream.PullHeartbeat(pullHeartbeat))
	if err != nil {
		return nil, fmt.Errorf("pull from consumer %s on %s: %w", c.cfg.Consumer, c.cfg.Stream, err)
	}
	return iter, nil
}

// reopen opens a new iterator, retrying with backoff while the server is
// unreachable. A deleted consumer or a closed connection ends the worker.
func (c *collector) reopen(ctx context.Context) (jetstream.MessagesContext, error) {
	for attempt := int64(1); ; attempt++ {
		if c.conn.IsClosed() {
			return nil, fmt.Errorf("consumer %s on %s: %w", c.cfg.Consumer, c.cfg.Stream, jetstream.ErrConnectionClosed)
		}
		_, err := c.consumer.Info(ctx)
		if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
			return nil, fmt.Errorf("consumer %s on %s is gone: %w: %w", c.cfg.Consumer, c.cfg.Stream, subscriptions.ErrNotFound, err)
		}
		if err == nil {
			return c.open()
		}
		delay := c.cfg.Backoff.Delay(attempt)
		c.log.Warn("waiting for the consumer to become reachable", "consumer", c.cfg.Consumer, "err", err, "retry_in", delay)
		if !sleep(ctx, delay) {
			return nil, ctx.Err()
		}
	}
}

// fill adds messages to b until it holds BatchSize messages or MaxWait has
// passed since its first message. It blocks for the first message until
// ctx ends.
func (c *collector) fill(ctx context.Context, iter jetstream.MessagesContext, b *Batch) error {
	msg, err := iter.Next(jetstream.NextContext(ctx))
	if err != nil {
		return ignoreCancel(ctx, err)
	}
	c.add(b, msg)
	if len(b.Messages) >= c.cfg.BatchSize {
		return nil
	}
	linger, cancel := context.WithTimeout(ctx, c.cfg.MaxWait)
	defer cancel()
	// One option slice for the whole batch: built per call, the option and
	// its variadic slice cost two allocations per message.
	untilLinger := []jetstream.NextOpt{jetstream.NextContext(linger)}
	for len(b.Messages) < c.cfg.BatchSize {
		msg, err := iter.Next(untilLinger...)
		if err != nil {
			if linger.Err() != nil {
				return nil // the batch is as full as it gets in time
			}
			return err
		}
		c.add(b, msg)
	}
	return nil
}

// add appends msg to b, prepared.
func (c *collector) add(b *Batch, msg jetstream.Msg) {
	b.Messages = append(b.Messages, Message{Msg: msg})
	c.prep.prepare(&b.Messages[len(b.Messages)-1])
}

// release stops the iterator and negatively acknowledges the messages it
// had buffered, so they are redelivered at once to other workers.
func (c *collector) release(hard context.Context, iter jetstream.MessagesContext) {
	if iter == nil {
		return // reopening failed; the old iterator is already stopped
	}
	iter.Drain()
	ctx, cancel := context.WithTimeout(hard, time.Second)
	defer cancel()
	n := 0
	for {
		msg, err := iter.Next(jetstream.NextContext(ctx))
		if err != nil {
			break
		}
		_ = msg.Nak()
		n++
	}
	iter.Stop()
	if n > 0 {
		c.log.Info("returned prefetched messages for redelivery", "messages", n)
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

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
