package subscriptions

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DeadLetter is one message of a consumer's dead-letter subject, with the
// Switchyard headers parsed.
type DeadLetter struct {
	// Seq is the message's sequence in the dead-letter stream; it names the
	// dead letter for show, replay and delete.
	Seq uint64 `json:"seq"`
	// Stream and Consumer name the subscription that gave up on the event.
	Stream   string `json:"stream"`
	Consumer string `json:"consumer"`
	// Reason says why the event was dead-lettered; Kind is its stable class
	// (see HeaderReasonKind).
	Reason string `json:"reason"`
	Kind   string `json:"kind"`
	// OriginalSubject and OriginalSeq locate the event in the source stream.
	// OriginalSeq is 0 when the header is missing or malformed.
	OriginalSubject string `json:"original_subject"`
	OriginalSeq     uint64 `json:"original_seq"`
	// OriginalMsgID is the event's Nats-Msg-Id, normally its id.
	OriginalMsgID string `json:"original_msg_id,omitempty"`
	// Deliveries is how many times the event had been delivered.
	Deliveries uint64 `json:"deliveries"`
	// FailedAt is when the event was dead-lettered (zero if unknown).
	FailedAt time.Time `json:"failed_at"`
	// Header holds every header of the dead letter, the original ones
	// included.
	Header nats.Header `json:"header,omitempty"`
	// Payload is the original payload, byte for byte.
	Payload []byte `json:"payload,omitempty"`
}

// deadLetterOf parses the Switchyard headers of a stored dead letter.
// Missing or malformed headers leave their fields at the zero value rather
// than failing: an operator must be able to see (and purge) anything that
// landed on the subject.
func deadLetterOf(stream, consumer string, msg *jetstream.RawStreamMsg) DeadLetter {
	h := msg.Header
	if h == nil {
		h = nats.Header{}
	}
	dl := DeadLetter{
		Seq:             msg.Sequence,
		Stream:          stream,
		Consumer:        consumer,
		Reason:          h.Get(HeaderReason),
		Kind:            h.Get(HeaderReasonKind),
		OriginalSubject: h.Get(HeaderOriginalSubject),
		OriginalMsgID:   h.Get(HeaderOriginalMsgID),
		Header:          h,
		Payload:         msg.Data,
	}
	dl.OriginalSeq, _ = strconv.ParseUint(h.Get(HeaderOriginalSequence), 10, 64)
	dl.Deliveries, _ = strconv.ParseUint(h.Get(HeaderDeliveryCount), 10, 64)
	dl.FailedAt, _ = time.Parse(time.RFC3339Nano, h.Get(HeaderFailedAt))
	return dl
}

// ListDeadLetters returns up to limit dead letters of one consumer with a
// dead-letter sequence above after, oldest first; limit 0 means all. A
// missing dead-letter stream lists empty. It costs one request per dead
// letter returned, which is meant for operators, not for the event path.
func ListDeadLetters(ctx context.Context, js jetstream.JetStream, stream, consumer string, after uint64, limit int) ([]DeadLetter, error) {
	dlq, err := js.Stream(ctx, DLQStreamName(stream))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dead-letter stream of %s: %w", stream, err)
	}
	var out []DeadLetter
	err = eachDeadLetter(ctx, dlq, stream, consumer, after, func(dl DeadLetter) bool {
		out = append(out, dl)
		return limit <= 0 || len(out) < limit
	})
	return out, err
}

// eachDeadLetter calls fn for the dead letters of consumer above after, in
// order, until fn returns false or none is left.
func eachDeadLetter(ctx context.Context, dlq jetstream.Stream, stream, consumer string, after uint64, fn func(DeadLetter) bool) error {
	subject := DLQSubject(stream, consumer)
	for next := after + 1; ; {
		msg, err := dlq.GetMsg(ctx, next, jetstream.WithGetMsgSubject(subject))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read dead letters of %s on %s: %w", consumer, stream, err)
		}
		if !fn(deadLetterOf(stream, consumer, msg)) {
			return nil
		}
		next = msg.Sequence + 1
	}
}

// DeadLetterStream returns the dead-letter stream of stream, for deleting
// dead letters one by one. It fails with an error matching ErrNotFound (and
// jetstream.ErrStreamNotFound) when there is none.
func DeadLetterStream(ctx context.Context, js jetstream.JetStream, stream string) (jetstream.Stream, error) {
	dlq, err := js.Stream(ctx, DLQStreamName(stream))
	if err != nil {
		return nil, fmt.Errorf("dead-letter stream of %s: %w", stream, notFound(err))
	}
	return dlq, nil
}

// GetDeadLetter returns one dead letter of consumer by its dead-letter
// sequence. It fails with an error matching ErrNotFound when there is no
// such message, or when it belongs to another consumer.
func GetDeadLetter(ctx context.Context, js jetstream.JetStream, stream, consumer string, seq uint64) (DeadLetter, error) {
	dlq, err := DeadLetterStream(ctx, js, stream)
	if err != nil {
		return DeadLetter{}, err
	}
	msg, err := dlq.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return DeadLetter{}, fmt.Errorf("dead letter %d of %s: %w", seq, consumer, ErrNotFound)
	}
	if err != nil {
		return DeadLetter{}, fmt.Errorf("dead letter %d of %s: %w", seq, consumer, err)
	}
	if msg.Subject != DLQSubject(stream, consumer) {
		return DeadLetter{}, fmt.Errorf("dead letter %d belongs to %s, not to consumer %s: %w", seq, msg.Subject, consumer, ErrNotFound)
	}
	return deadLetterOf(stream, consumer, msg), nil
}

// PurgeDeadLetters deletes every dead letter of one consumer and returns how
// many there were. Other consumers' dead letters are kept. A missing
// dead-letter stream purges nothing.
func PurgeDeadLetters(ctx context.Context, js jetstream.JetStream, stream, consumer string) (uint64, error) {
	dlq, err := js.Stream(ctx, DLQStreamName(stream))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("dead-letter stream of %s: %w", stream, err)
	}
	depth, err := DeadLetterDepth(ctx, js, stream, consumer)
	if err != nil {
		return 0, err
	}
	if err := dlq.Purge(ctx, jetstream.WithPurgeSubject(DLQSubject(stream, consumer))); err != nil {
		return 0, fmt.Errorf("purge dead letters of %s on %s: %w", consumer, stream, err)
	}
	return depth, nil
}
