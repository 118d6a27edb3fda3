package pipelinetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/events"
)

// ackTimeout is how long the acked producer waits for a publish's
// acknowledgement before it takes the outcome as unknown and publishes the
// event again. A leader change answers within it or not at all.
const ackTimeout = 5 * time.Second

// ackedProducer publishes events as a producer that must not lose one does
// while the stream's leader changes: each chunk is published pipelined, and
// every event the stream did not acknowledge (an error, a lost connection,
// or no answer within ackTimeout: the outcome is unknown) is published
// again with the same Nats-Msg-Id until it is acknowledged, so the duplicate
// window stores it once. It records the stream sequence of every
// acknowledgement: that record, not the stream, is the model the table is
// checked against.
type ackedProducer struct {
	js  jetstream.JetStream // with WithPublishAsyncTimeout(ackTimeout)
	pub *events.Publisher

	mu    sync.Mutex
	acked map[string]ackedEvent // by event id

	retries    atomic.Int64 // publishes repeated because the previous had no acknowledgement
	duplicates atomic.Int64 // acknowledgements of a republish that the stream already had
}

// ackedEvent is one event and the sequence the stream acknowledged it at.
type ackedEvent struct {
	ev  events.Event
	seq uint64
}

func newAckedProducer(js jetstream.JetStream) *ackedProducer {
	return &ackedProducer{js: js, pub: events.NewPublisher(js, ""), acked: map[string]ackedEvent{}}
}

// run publishes chunks of next's events, one chunk every interval, until
// stop is closed (finishing the chunk under way) or ctx ends. It returns
// how many events it published, each acknowledged.
func (p *ackedProducer) run(ctx context.Context, stop <-chan struct{}, interval time.Duration, next func(first int) []events.Event) (int, error) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	published := 0
	for {
		select {
		case <-stop:
			return published, nil
		case <-ctx.Done():
			return published, fmt.Errorf("producer: %w after %d events", ctx.Err(), published)
		case <-tick.C:
		}
		evs := next(published)
		if err := p.publishChunk(ctx, evs, nil); err != nil {
			return published, err
		}
		published += len(evs)
	}
}

// publishChunk publishes evs and republishes what was not acknowledged
// until everything was. sent, when not nil, is called once the first
// attempt of every event is on its way.
func (p *ackedProducer) publishChunk(ctx context.Context, evs []events.Event, sent func()) error {
	pending := evs
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt > 0 {
			p.retries.Add(int64(len(pending)))
			select {
			case <-ctx.Done():
			case <-time.After(time.Duration(min(attempt, 10)) * 50 * time.Millisecond):
			}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("producer: %d events never acknowledged: %w", len(pending), ctx.Err())
		}
		futures := make([]jetstream.PubAckFuture, len(pending))
		for i, ev := range pending {
			msg, err := p.pub.Message(ev)
			if err != nil {
				return err
			}
			// A publish refused at once (connection closed or
			// reconnecting with a full buffer) is retried like a lost
			// acknowledgement.
			futures[i], _ = p.js.PublishMsgAsync(msg)
		}
		if attempt == 0 && sent != nil {
			sent()
		}
		var again []events.Event
		for i, f := range futures {
			if f == nil {
				again = append(again, pending[i])
				continue
			}
			select {
			case ack := <-f.Ok():
				if err := p.record(pending[i], ack); err != nil {
					return err
				}
			case <-f.Err():
				again = append(again, pending[i])
			case <-ctx.Done():
				return fmt.Errorf("producer: waiting for the acknowledgement of %s: %w", pending[i].ID, ctx.Err())
			}
		}
		pending = again
	}
	return nil
}

// record notes ev's acknowledgement. An event acknowledged at two
// sequences was stored twice: the duplicate window did not hold across the
// leader change.
func (p *ackedProducer) record(ev events.Event, ack *jetstream.PubAck) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if prev, ok := p.acked[ev.ID]; ok && prev.seq != ack.Sequence {
		return fmt.Errorf("event %s acknowledged at sequence %d and again at %d: stored twice, the duplicate window did not hold", ev.ID, prev.seq, ack.Sequence)
	}
	if ack.Duplicate {
		p.duplicates.Add(1)
	}
	p.acked[ev.ID] = ackedEvent{ev: ev, seq: ack.Sequence}
	return nil
}

// model folds the acknowledged events, in sequence order, into the table
// the store must end up with under stream-sequence versions, and returns
// the highest acknowledged sequence. It fails when two events were
// acknowledged at the same sequence.
func (p *ackedProducer) model() (map[string]modelRow, uint64, error) {
	p.mu.Lock()
	all := make([]ackedEvent, 0, len(p.acked))
	for _, a := range p.acked {
		all = append(all, a)
	}
	p.mu.Unlock()
	slices.SortFunc(all, func(a, b ackedEvent) int { return cmp.Compare(a.seq, b.seq) })
	model := map[string]modelRow{}
	var last uint64
	for _, a := range all {
		if a.seq == last {
			return nil, 0, errors.New("two events acknowledged at sequence " + fmt.Sprint(a.seq))
		}
		last = a.seq
		row := modelRow{Version: int64(a.seq), Client: a.ev.Client, Deleted: a.ev.Op == events.OpDelete}
		if !row.Deleted {
			row.Data = a.ev.Data
		}
		model[a.ev.Key] = row
	}
	return model, last, nil
}

// count returns how many events were acknowledged.
func (p *ackedProducer) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.acked)
}
