package benchpipeline

import (
	"context"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/switchyard/switchyard/stores"
)

// natsCeiling is the most any JetStream-fed worker can reach on this host:
// the raw ceiling's batches of writes, applied the same way, but each batch
// first pulled from the stream and each of its messages acknowledged after
// the commit, as a worker must (explicit acks, so that several processes
// can share the consumer). It does no decoding, validation or preparing:
// the writes are built in memory before the clock starts, and a message
// only stands for the write at its position in the stream.
//
// Set against the raw ceiling, it shows what the broker's delivery and
// acknowledgement of each message cost on the same cores; set against the
// worker, what the worker's own work costs.
func natsCeiling(ctx context.Context, cfg Config, b *broker, consumer string, sink stores.Writer) (time.Duration, error) {
	writes := rawWrites(cfg)
	cons, err := b.consumer(ctx, consumer)
	if err != nil {
		return 0, err
	}
	nc, err := nats.Connect(b.url)
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return 0, err
	}
	if cons, err = js.Consumer(ctx, streamName, consumer); err != nil {
		return 0, err
	}

	type batch struct {
		first int
		msgs  []jetstream.Msg
	}
	batches := make(chan batch, cfg.Concurrency)
	begin := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	for range cfg.Concurrency {
		g.Go(func() error {
			for {
				select {
				case bt, ok := <-batches:
					if !ok {
						return nil
					}
					if _, err := sink.Apply(gctx, writes[bt.first:bt.first+len(bt.msgs)]); err != nil {
						return err
					}
					for _, m := range bt.msgs {
						if err := m.Ack(); err != nil {
							return err
						}
					}
					if err := nc.FlushTimeout(5 * time.Second); err != nil {
						return err
					}
				case <-gctx.Done():
					return gctx.Err()
				}
			}
		})
	}

	// The callback runs on one goroutine per subscription, in delivery
	// order; blocking on a busy batches channel holds the pull back, as
	// the worker's does.
	var cur batch
	received := 0
	consume, err := cons.Consume(func(m jetstream.Msg) {
		if received >= len(writes) {
			return
		}
		cur.msgs = append(cur.msgs, m)
		received++
		if len(cur.msgs) == cfg.BatchSize || received == len(writes) {
			select {
			case batches <- cur:
			case <-gctx.Done():
			}
			cur = batch{first: received, msgs: make([]jetstream.Msg, 0, cfg.BatchSize)}
			if received == len(writes) {
				close(batches)
			}
		}
	}, jetstream.PullMaxMessages(cfg.BatchSize), jetstream.PullHeartbeat(2*time.Second))
	if err != nil {
		close(batches)
		g.Wait()
		return 0, err
	}
	defer consume.Stop()
	if err := g.Wait(); err != nil {
		return 0, err
	}
	// Done when the server has taken every ack, as for the worker.
	for {
		floor, err := b.ackFloor(ctx, consumer)
		if err != nil {
			return 0, err
		}
		if floor >= uint64(len(writes)) {
			return time.Since(begin), nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}
