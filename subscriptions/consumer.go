package subscriptions

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Metadata keys Switchyard records on consumers.
const (
	// MetaStartSeq is the first stream sequence the consumer delivers,
	// resolved when it was created.
	MetaStartSeq = "switchyard.start_seq"
	// MetaRole is "legacy" or "target", for status and cleanup.
	MetaRole = "switchyard.role"
	// MetaVersionSource is "stream" or "producer".
	MetaVersionSource = "switchyard.version_source"
)

// StartKind says where a new consumer starts.
type StartKind string

const (
	// StartAll delivers every event the stream holds.
	StartAll StartKind = "all"
	// StartNew delivers only events published after the consumer is created.
	StartNew StartKind = "new"
	// StartSequence delivers from a stream sequence on.
	StartSequence StartKind = "sequence"
	// StartTime delivers from a point in time on.
	StartTime StartKind = "time"
)

// StartPosition is where a new consumer starts. It applies only at creation:
// JetStream cannot move an existing consumer.
type StartPosition struct {
	Kind     StartKind
	Sequence uint64    // with StartSequence
	Time     time.Time // with StartTime
}

// ParseStart parses "all", "new", "seq:N" or "time:RFC3339".
func ParseStart(s string) (StartPosition, error) {
	switch {
	case s == "" || s == string(StartAll):
		return StartPosition{Kind: StartAll}, nil
	case s == string(StartNew):
		return StartPosition{Kind: StartNew}, nil
	case len(s) > 4 && s[:4] == "seq:":
		n, err := strconv.ParseUint(s[4:], 10, 64)
		if err != nil || n == 0 {
			return StartPosition{}, fmt.Errorf("start %q: the sequence must be a positive integer", s)
		}
		return StartPosition{Kind: StartSequence, Sequence: n}, nil
	case len(s) > 5 && s[:5] == "time:":
		t, err := time.Parse(time.RFC3339Nano, s[5:])
		if err != nil {
			return StartPosition{}, fmt.Errorf("start %q: the time must be RFC 3339", s)
		}
		return StartPosition{Kind: StartTime, Time: t}, nil
	}
	return StartPosition{}, fmt.Errorf("start %q is not one of all, new, seq:N, time:RFC3339", s)
}

// ConsumerSpec declares a durable pull consumer: one subscription, shared by
// every worker process of its fleet.
type ConsumerSpec struct {
	Stream string
	// Name is the durable name; workers bind to it.
	Name string
	// Role is "legacy" or "target" (recorded in metadata; may be empty).
	Role string
	// FilterSubjects restricts the subjects delivered; empty means all.
	FilterSubjects []string
	// Start applies at creation only.
	Start StartPosition
	// AckWait is how long a delivered message may stay unacknowledged before
	// it is redelivered. Zero means 30 seconds.
	AckWait time.Duration
	// MaxDeliver bounds deliveries per message; zero or -1 means unlimited,
	// the default, so a long sink outage never drops events.
	MaxDeliver int
	// Backoff, if set, spaces redeliveries after an ack timeout: the n-th
	// redelivery waits Backoff[n-1] (the last step repeats). JetStream then
	// uses Backoff[0] as the ack wait, and MaxDeliver, when limited, must be
	// larger than the number of steps.
	Backoff []time.Duration
	// MaxAckPending bounds unacknowledged messages across the whole fleet.
	// Zero means 10,000.
	MaxAckPending int
	// VersionSource is recorded in metadata ("stream" or "producer").
	VersionSource string
}

// ErrNotFound matches a missing stream or consumer.
var ErrNotFound = errors.New("not found")

// EnsureConsumer creates the durable consumer or updates what JetStream lets
// change (ack wait, max deliver, backoff, max ack pending, filters). On
// creation a "new" start is pinned to the exact next stream sequence, and the
// resolved start sequence is recorded in MetaStartSeq.
func EnsureConsumer(ctx context.Context, js jetstream.JetStream, spec ConsumerSpec) (jetstream.Consumer, error) {
	if spec.Stream == "" || spec.Name == "" {
		return nil, fmt.Errorf("consumer spec needs a stream and a name")
	}
	stream, err := js.Stream(ctx, spec.Stream)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", spec.Stream, notFound(err))
	}
	cfg := jetstream.ConsumerConfig{
		Durable:        spec.Name,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        spec.AckWait,
		MaxDeliver:     spec.MaxDeliver,
		BackOff:        spec.Backoff,
		MaxAckPending:  spec.MaxAckPending,
		FilterSubjects: spec.FilterSubjects,
		Metadata:       map[string]string{},
	}
	if cfg.AckWait == 0 {
		cfg.AckWait = 30 * time.Second
	}
	if cfg.MaxDeliver == 0 {
		cfg.MaxDeliver = -1
	}
	if cfg.MaxAckPending == 0 {
		cfg.MaxAckPending = 10_000
	}
	if spec.Role != "" {
		cfg.Metadata[MetaRole] = spec.Role
	}
	if spec.VersionSource != "" {
		cfg.Metadata[MetaVersionSource] = spec.VersionSource
	}
	if existing, err := stream.Consumer(ctx, spec.Name); err == nil {
		// Start position and metadata of an existing consumer are kept: the
		// watermark must not move once the backfill relies on it.
		old := existing.CachedInfo().Config
		cfg.DeliverPolicy, cfg.OptStartSeq, cfg.OptStartTime = old.DeliverPolicy, old.OptStartSeq, old.OptStartTime
		for k, v := range old.Metadata {
			cfg.Metadata[k] = v
		}
		return stream.CreateOrUpdateConsumer(ctx, cfg)
	} else if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, fmt.Errorf("consumer %s: %w", spec.Name, err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", spec.Stream, err)
	}
	start := uint64(1)
	switch spec.Start.Kind {
	case StartAll, "":
		cfg.DeliverPolicy = jetstream.DeliverAllPolicy
		start = info.State.FirstSeq
	case StartNew:
		start = info.State.LastSeq + 1
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, start
	case StartSequence:
		start = spec.Start.Sequence
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, start
	case StartTime:
		t := spec.Start.Time
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &t
		start = 0 // resolved below from the first delivery position
	default:
		return nil, fmt.Errorf("consumer %s: unknown start kind %q", spec.Name, spec.Start.Kind)
	}
	if start == 0 && spec.Start.Kind != StartTime {
		start = 1
	}
	if start > 0 {
		cfg.Metadata[MetaStartSeq] = strconv.FormatUint(start, 10)
	}
	c, err := stream.CreateConsumer(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create consumer %s: %w", spec.Name, err)
	}
	if spec.Start.Kind == StartTime {
		// The server resolves the time to a sequence: everything delivered
		// and pending starts at Delivered.Stream+1.
		ci, err := c.Info(ctx)
		if err != nil {
			return nil, fmt.Errorf("consumer %s: %w", spec.Name, err)
		}
		cfg.Metadata[MetaStartSeq] = strconv.FormatUint(ci.Delivered.Stream+1, 10)
		if c, err = stream.UpdateConsumer(ctx, cfg); err != nil {
			return nil, fmt.Errorf("record start of consumer %s: %w", spec.Name, err)
		}
	}
	return c, nil
}

// DeleteConsumer removes a durable consumer. It fails with an error matching
// ErrNotFound when the consumer does not exist.
func DeleteConsumer(ctx context.Context, js jetstream.JetStream, stream, name string) error {
	if err := js.DeleteConsumer(ctx, stream, name); err != nil {
		return fmt.Errorf("delete consumer %s on %s: %w", name, stream, notFound(err))
	}
	return nil
}

func notFound(err error) error {
	if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

// Declared is what Ensure declared: the consumer, and what it found and
// did on the event stream and its dead-letter stream.
type Declared struct {
	Consumer    jetstream.Consumer
	Stream      StreamReport
	DeadLetters StreamReport
}

// Ensure declares a whole subscription: the event stream and its
// dead-letter stream as DeclareStream does (created when missing, checked
// and left alone when they exist, changed only where stream.Update says),
// then the durable consumer as EnsureConsumer does. consumer.Stream
// defaults to stream.Name; naming another stream is an error. A consumer
// without filters on a stream that also captures subjects outside
// stream.Subjects (the application's other traffic) filters on
// stream.Subjects. It stops at the first failure; what was ensured before
// it stays, and calling Ensure again is safe.
func Ensure(ctx context.Context, js jetstream.JetStream, stream StreamSpec, consumer ConsumerSpec) (Declared, error) {
	var out Declared
	switch consumer.Stream {
	case "":
		consumer.Stream = stream.Name
	case stream.Name:
	default:
		return out, fmt.Errorf("consumer %s is for stream %s, not %s", consumer.Name, consumer.Stream, stream.Name)
	}
	st, report, err := DeclareStream(ctx, js, stream, consumer.FilterSubjects)
	out.Stream = report
	if err != nil {
		return out, err
	}
	if len(consumer.FilterSubjects) == 0 {
		for _, s := range st.CachedInfo().Config.Subjects {
			if !coveredBy(stream.Subjects, s) {
				consumer.FilterSubjects = stream.Subjects
				break
			}
		}
	}
	dlq := DLQSpec(stream)
	_, out.DeadLetters, err = DeclareStream(ctx, js, dlq, nil)
	if err != nil {
		return out, err
	}
	out.Consumer, err = EnsureConsumer(ctx, js, consumer)
	return out, err
}

// EnsureSpecs are the declarations of a whole subscription, as Ensure
// takes them.
type EnsureSpecs struct {
	Stream   StreamSpec
	Consumer ConsumerSpec
}

// EnsureReported ensures as Ensure does, then inspects the consumer: what
// subs ensure prints.
func EnsureReported(ctx context.Context, js jetstream.JetStream, specs EnsureSpecs) (EnsureReport, error) {
	declared, err := Ensure(ctx, js, specs.Stream, specs.Consumer)
	if err != nil {
		return EnsureReport{}, err
	}
	st, err := Inspect(ctx, js, specs.Stream.Name, specs.Consumer.Name)
	return EnsureReport{Stream: declared.Stream, DeadLetters: declared.DeadLetters, Consumer: st}, err
}
