package subscriptions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// StreamSpec declares an event stream.
type StreamSpec struct {
	// Name of the stream, such as "EVENTS".
	Name string
	// Subjects the stream captures, such as "events.>".
	Subjects []string
	// DuplicateWindow is how long the stream remembers Nats-Msg-Ids to drop
	// duplicate publishes. Zero means the server default (2 minutes).
	DuplicateWindow time.Duration
	// MaxAge bounds how long events are kept. Zero means forever.
	MaxAge time.Duration
	// Replicas is the number of copies in a cluster. Zero means 1.
	Replicas int
	// Memory keeps the stream in memory instead of on disk (tests only).
	Memory bool
}

func (s StreamSpec) config() jetstream.StreamConfig {
	cfg := jetstream.StreamConfig{
		Name:       s.Name,
		Subjects:   s.Subjects,
		Retention:  jetstream.LimitsPolicy,
		Duplicates: s.DuplicateWindow,
		MaxAge:     s.MaxAge,
		Replicas:   s.Replicas,
		Storage:    jetstream.FileStorage,
	}
	if s.Memory {
		cfg.Storage = jetstream.MemoryStorage
	}
	return cfg
}

// EnsureStream creates the stream or updates its subjects and limits. It does
// not touch a stream's storage type, which JetStream cannot change.
func EnsureStream(ctx context.Context, js jetstream.JetStream, spec StreamSpec) (jetstream.Stream, error) {
	if spec.Name == "" || len(spec.Subjects) == 0 {
		return nil, fmt.Errorf("stream spec needs a name and subjects")
	}
	cfg := spec.config()
	if existing, err := js.Stream(ctx, spec.Name); err == nil {
		cfg.Storage = existing.CachedInfo().Config.Storage
	} else if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("stream %s: %w", spec.Name, err)
	}
	st, err := js.CreateOrUpdateStream(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("ensure stream %s: %w", spec.Name, err)
	}
	return st, nil
}

// DLQStreamName is the dead-letter stream of a source stream.
func DLQStreamName(stream string) string { return stream + "_DLQ" }

// DLQSubjectPrefix is the first token of dead-letter subjects.
const DLQSubjectPrefix = "switchyard.dlq"

// DLQSubject is where dead letters of one consumer of stream are published.
func DLQSubject(stream, consumer string) string {
	return DLQSubjectPrefix + "." + stream + "." + consumer
}

// EnsureDLQ creates the dead-letter stream of a source stream. Dead letters
// are kept until an operator replays or purges them: no age limit.
func EnsureDLQ(ctx context.Context, js jetstream.JetStream, stream string) (jetstream.Stream, error) {
	return EnsureStream(ctx, js, StreamSpec{
		Name:     DLQStreamName(stream),
		Subjects: []string{DLQSubjectPrefix + "." + stream + ".>"},
	})
}
