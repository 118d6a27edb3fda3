package benchpipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/stores"
)

// perMessage is the naive consumer the worker is compared with: it pulls
// from the same stream, decodes, applies each event in its own transaction
// (one Apply of one write) and acknowledges it, one message at a time. It
// returns the events applied and the time taken for the first n.
func perMessage(ctx context.Context, b *broker, consumer string, sink stores.Writer, n int) (int, time.Duration, error) {
	c, err := b.consumer(ctx, consumer)
	if err != nil {
		return 0, 0, err
	}
	iter, err := c.Messages(jetstream.PullMaxMessages(500))
	if err != nil {
		return 0, 0, err
	}
	defer iter.Stop()
	begin := time.Now()
	for done := 0; done < n; done++ {
		msg, err := iter.Next(jetstream.NextContext(ctx))
		if err != nil {
			return done, time.Since(begin), fmt.Errorf("per-message consumer: %w", err)
		}
		md, err := msg.Metadata()
		if err != nil {
			return done, time.Since(begin), err
		}
		ev, err := events.Decode(msg.Data())
		if err != nil {
			return done, time.Since(begin), fmt.Errorf("per-message consumer: %w", err)
		}
		w := stores.Write{
			Entity: ev.Entity, Key: ev.Key, Client: ev.Client, Version: int64(md.Sequence.Stream),
			Data: ev.Data, EventID: ev.ID,
		}
		if _, err := sink.Apply(ctx, []stores.Write{w}); err != nil {
			return done, time.Since(begin), fmt.Errorf("per-message consumer: %w", err)
		}
		if err := msg.DoubleAck(ctx); err != nil {
			return done, time.Since(begin), fmt.Errorf("per-message consumer: ack: %w", err)
		}
	}
	return n, time.Since(begin), nil
}
