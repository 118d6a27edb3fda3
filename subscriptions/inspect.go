package subscriptions

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Status is what an operator needs to know about one subscription.
type Status struct {
	Stream   string `json:"stream"`
	Consumer string `json:"consumer"`
	Role     string `json:"role,omitempty"`
	// StartSeq is the first stream sequence the consumer delivers (0 when it
	// was not created by Switchyard and did not record one).
	StartSeq uint64 `json:"start_seq"`
	// Pending counts matching messages not yet delivered.
	Pending uint64 `json:"pending"`
	// AckPending counts delivered messages not yet acknowledged.
	AckPending int `json:"ack_pending"`
	// Redelivered counts unacknowledged messages delivered more than once.
	Redelivered int `json:"redelivered"`
	// AckFloor is the stream sequence below which everything is acknowledged.
	AckFloor uint64 `json:"ack_floor"`
	// Delivered is the highest stream sequence delivered so far.
	Delivered uint64 `json:"delivered"`
	// Lag is Pending + AckPending: what the fleet has not yet committed.
	Lag uint64 `json:"lag"`
	// Waiting counts open pull requests: roughly, live workers.
	Waiting int `json:"waiting"`
	// DeadLetters is the depth of this consumer's dead-letter subject.
	DeadLetters uint64 `json:"dead_letters"`
	// LastActive is when the consumer last delivered a message.
	LastActive *time.Time `json:"last_active,omitempty"`
}

// Processed reports whether the consumer has acknowledged every matching
// message with a stream sequence below seq. That is the backfill watermark
// when seq is the target subscription's StartSeq.
func (s Status) Processed(seq uint64) bool {
	if seq <= 1 || s.AckFloor+1 >= seq {
		return true
	}
	// The ack floor only moves on matching messages; with nothing
	// outstanding, a delivered cursor past seq-1 (or an empty backlog) means
	// every matching message below seq was acknowledged.
	return s.AckPending == 0 && (s.Delivered+1 >= seq || s.Pending == 0)
}

// Inspect returns the status of one consumer. It fails with an error
// matching ErrNotFound when the stream or consumer does not exist.
func Inspect(ctx context.Context, js jetstream.JetStream, stream, consumer string) (Status, error) {
	c, err := js.Consumer(ctx, stream, consumer)
	if err != nil {
		return Status{}, fmt.Errorf("consumer %s on %s: %w", consumer, stream, notFound(err))
	}
	info, err := c.Info(ctx)
	if err != nil {
		return Status{}, fmt.Errorf("consumer %s on %s: %w", consumer, stream, notFound(err))
	}
	st := statusOf(info)
	st.DeadLetters, err = DeadLetterDepth(ctx, js, stream, consumer)
	if err != nil {
		return Status{}, err
	}
	return st, nil
}

func statusOf(info *jetstream.ConsumerInfo) Status {
	st := Status{
		Stream:      info.Stream,
		Consumer:    info.Name,
		Role:        info.Config.Metadata[MetaRole],
		Pending:     info.NumPending,
		AckPending:  info.NumAckPending,
		Redelivered: info.NumRedelivered,
		AckFloor:    info.AckFloor.Stream,
		Delivered:   info.Delivered.Stream,
		Waiting:     info.NumWaiting,
		LastActive:  info.Delivered.Last,
	}
	st.Lag = st.Pending + uint64(st.AckPending)
	st.StartSeq, _ = strconv.ParseUint(info.Config.Metadata[MetaStartSeq], 10, 64)
	return st
}

// List returns the status of every consumer of a stream, sorted by name.
func List(ctx context.Context, js jetstream.JetStream, stream string) ([]Status, error) {
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", stream, notFound(err))
	}
	var out []Status
	lister := s.ListConsumers(ctx)
	for info := range lister.Info() {
		st := statusOf(info)
		if st.DeadLetters, err = DeadLetterDepth(ctx, js, stream, st.Consumer); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	if err := lister.Err(); err != nil {
		return nil, fmt.Errorf("list consumers of %s: %w", stream, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Consumer < out[j].Consumer })
	return out, nil
}

// DeadLetterDepth counts the dead letters of one consumer. A missing
// dead-letter stream counts as empty.
func DeadLetterDepth(ctx context.Context, js jetstream.JetStream, stream, consumer string) (uint64, error) {
	dlq, err := js.Stream(ctx, DLQStreamName(stream))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("dead-letter stream of %s: %w", stream, err)
	}
	subject := DLQSubject(stream, consumer)
	info, err := dlq.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		return 0, fmt.Errorf("dead-letter stream of %s: %w", stream, err)
	}
	return info.State.Subjects[subject], nil
}
