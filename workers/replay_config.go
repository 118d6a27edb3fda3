package workers

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/kinderr"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/subscriptions"
)

// ErrReplayConfig matches errors saying that a replay is asked for in a way
// that cannot work (ReplayConfig.Validate, ErrReplaySelection, a version
// source that contradicts the consumer, a sink of an unknown scheme).
// Nothing was replayed.
var ErrReplayConfig = errors.New("replay configuration")

func replayConfigErrorf(cause error, format string, args ...any) error {
	return kinderr.Errorf(ErrReplayConfig, cause, format, args...)
}

// ReplayConfig is a replay as an operator asks for it (switchyard dlq
// replay): the consumer's store by DSN and the version source checked
// against what the consumer records. ReplayDeadLetters runs it.
type ReplayConfig struct {
	// Stream and Consumer name the subscription. Required.
	Stream, Consumer string
	// SinkDSN is the consumer's store, opened through Adapters. Both
	// required.
	SinkDSN  string
	Adapters stores.Adapters
	// VersionSource is "stream" or "producer"; it must agree with what the
	// consumer records. Empty means the recorded one, which must then
	// exist: replaying with the wrong source would give events the wrong
	// versions.
	VersionSource string
	// SubjectPrefix, MaxEventBytes and BatchSize are Replay's. Zero means
	// the default (WithDefaults): events.DefaultSubjectPrefix,
	// events.DefaultMaxEventBytes and DefaultReplayBatchSize.
	SubjectPrefix string
	MaxEventBytes int
	BatchSize     int
	// Seq or All select the dead letters, as in Replay.
	Seq uint64
	All bool
}

// WithDefaults returns c with every zero setting set to its default.
func (c ReplayConfig) WithDefaults() ReplayConfig {
	if c.SubjectPrefix == "" {
		c.SubjectPrefix = events.DefaultSubjectPrefix
	}
	if c.MaxEventBytes == 0 {
		c.MaxEventBytes = events.DefaultMaxEventBytes
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultReplayBatchSize
	}
	return c
}

// Validate checks c after defaults, without contacting anything. Its errors
// match ErrReplayConfig.
func (c ReplayConfig) Validate() error {
	switch {
	case c.Stream == "":
		return replayConfigErrorf(nil, "a stream is required")
	case c.Consumer == "":
		return replayConfigErrorf(nil, "a consumer is required")
	case c.SinkDSN == "":
		return replayConfigErrorf(nil, "a sink DSN is required")
	case c.Adapters == nil:
		return replayConfigErrorf(nil, "no store adapters given to open the sink with")
	case stores.Scheme(c.SinkDSN) == "":
		return replayConfigErrorf(nil, "sink %q is not a DSN (scheme:...)", stores.Redact(c.SinkDSN))
	case !events.ValidPrefix(c.SubjectPrefix):
		return replayConfigErrorf(nil, "prefix %q is not a subject prefix", c.SubjectPrefix)
	case c.MaxEventBytes < 1:
		return replayConfigErrorf(nil, "max event bytes %d must be positive", c.MaxEventBytes)
	case c.BatchSize < 1:
		return replayConfigErrorf(nil, "batch size %d must be positive", c.BatchSize)
	case (c.Seq == 0) == !c.All:
		return ErrReplaySelection
	}
	if c.VersionSource != "" {
		if _, err := events.ParseVersionSource(c.VersionSource); err != nil {
			return replayConfigErrorf(err, "version source: %v", err)
		}
	}
	return nil
}

// ReplayDeadLetters applies the defaults to c, validates it, settles the
// version source with the consumer, opens the sink and runs the Replay. Its
// errors are Replay.Run's, or match ErrReplayConfig when nothing could be
// replayed as asked.
func ReplayDeadLetters(ctx context.Context, js jetstream.JetStream, c ReplayConfig) (ReplayResult, error) {
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		return ReplayResult{}, err
	}
	source, err := c.versionSource(ctx, js)
	if err != nil {
		return ReplayResult{}, err
	}
	sink, err := c.Adapters.Open(ctx, c.SinkDSN)
	if errors.Is(err, stores.ErrUnknownScheme) {
		return ReplayResult{}, replayConfigErrorf(err, "sink: %v", err)
	}
	if err != nil {
		return ReplayResult{}, err
	}
	defer sink.Close()
	return Replay{
		Stream:        c.Stream,
		Consumer:      c.Consumer,
		Sink:          sink,
		VersionSource: source,
		Decoder:       events.Decoder{MaxEventBytes: c.MaxEventBytes},
		SubjectPrefix: c.SubjectPrefix,
		Seq:           c.Seq,
		All:           c.All,
		BatchSize:     c.BatchSize,
	}.Run(ctx, js)
}

// versionSource returns the version source to replay with: c's, which must
// agree with what the consumer records, or the recorded one.
func (c ReplayConfig) versionSource(ctx context.Context, js jetstream.JetStream) (events.VersionSource, error) {
	var recorded string
	consumer, err := js.Consumer(ctx, c.Stream, c.Consumer)
	switch {
	case err == nil:
		recorded = consumer.CachedInfo().Config.Metadata[subscriptions.MetaVersionSource]
	case errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound):
	default:
		return "", fmt.Errorf("consumer %s on %s: %w", c.Consumer, c.Stream, err)
	}
	switch {
	case c.VersionSource == "" && recorded == "":
		return "", replayConfigErrorf(nil, "a version source is required: consumer %s records none", c.Consumer)
	case c.VersionSource == "":
		return events.ParseVersionSource(recorded)
	case recorded != "" && recorded != c.VersionSource:
		return "", replayConfigErrorf(ErrVersionSourceMismatch, "version source %s contradicts consumer %s, which records %s", c.VersionSource, c.Consumer, recorded)
	}
	return events.VersionSource(c.VersionSource), nil
}
