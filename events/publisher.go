package events

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Publisher publishes events to JetStream with the event id as Nats-Msg-Id,
// so a retried publish inside the stream's duplicate window is stored once.
type Publisher struct {
	js     jetstream.JetStream
	prefix string
}

// NewPublisher returns a publisher on js. An empty prefix means
// DefaultSubjectPrefix.
func NewPublisher(js jetstream.JetStream, prefix string) *Publisher {
	if prefix == "" {
		prefix = DefaultSubjectPrefix
	}
	return &Publisher{js: js, prefix: prefix}
}

// Message returns the NATS message for ev without publishing it.
func (p *Publisher) Message(ev Event) (*nats.Msg, error) {
	payload, err := Encode(ev)
	if err != nil {
		return nil, err
	}
	msg := nats.NewMsg(Subject(p.prefix, ev.Entity, ev.Op))
	msg.Data = payload
	msg.Header.Set(jetstream.MsgIDHeader, ev.ID)
	return msg, nil
}

// Publish publishes one event and waits for the stream's acknowledgement. It
// fails with an error matching ErrInvalid when ev is invalid, and with the
// JetStream error when no stream stored it. A PubAck with Duplicate set means
// the stream already had an event with this id.
func (p *Publisher) Publish(ctx context.Context, ev Event) (*jetstream.PubAck, error) {
	msg, err := p.Message(ev)
	if err != nil {
		return nil, err
	}
	return p.js.PublishMsg(ctx, msg)
}

// PublishAll publishes evs pipelined (one round trip for the lot, not one per
// event) and waits until the stream acknowledged each of them or ctx ends.
// Every event is validated before anything is sent. On failure it reports
// the first event that was not stored; events before it may have been stored,
// and publishing them again is safe because their ids deduplicate.
func (p *Publisher) PublishAll(ctx context.Context, evs []Event) error {
	msgs := make([]*nats.Msg, len(evs))
	for i, ev := range evs {
		msg, err := p.Message(ev)
		if err != nil {
			return fmt.Errorf("event %d (id %q): %w", i, ev.ID, err)
		}
		msgs[i] = msg
	}
	futures := make([]jetstream.PubAckFuture, len(msgs))
	for i, msg := range msgs {
		f, err := p.js.PublishMsgAsync(msg)
		if err != nil {
			return fmt.Errorf("event %d (id %q): %w", i, evs[i].ID, err)
		}
		futures[i] = f
	}
	for i, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("event %d (id %q): %w", i, evs[i].ID, err)
		case <-ctx.Done():
			return fmt.Errorf("event %d (id %q): %w", i, evs[i].ID, ctx.Err())
		}
	}
	return nil
}
