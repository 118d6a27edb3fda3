package workers

import (
	"fmt"
	"strings"
	"time"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/lifecycle"
)

// Defaults applied by Config.WithDefaults to zero fields.
const (
	DefaultBatchSize         = 500
	DefaultMaxWait           = 100 * time.Millisecond
	DefaultConcurrency       = 2
	DefaultGrace             = 25 * time.Second
	DefaultLagInterval       = 5 * time.Second
	DefaultFlushTimeout      = 5 * time.Second
	DefaultDeadLetterTimeout = 10 * time.Second
	// DefaultRetryMin, DefaultRetryMax and DefaultRetryJitter are the
	// Backoff after a failed batch.
	DefaultRetryMin    = 200 * time.Millisecond
	DefaultRetryMax    = 10 * time.Second
	DefaultRetryJitter = 0.2
	// MaxBatchSize bounds BatchSize: a batch larger than the consumer's
	// MaxAckPending (10,000 by default) could never fill.
	MaxBatchSize = 10_000
	// MaxConcurrency bounds Concurrency.
	MaxConcurrency = 64
)

// Config is the static configuration of one Worker. The zero value of every
// optional field means its default; WithDefaults fills them in and Validate
// checks the result.
type Config struct {
	// Stream is the source stream, such as "EVENTS". Required.
	Stream string
	// Consumer is the durable pull consumer the worker binds to, such as
	// "target". Required. It also labels metrics and logs.
	Consumer string
	// SubjectPrefix is the first token(s) of event subjects; default
	// events.DefaultSubjectPrefix ("events").
	SubjectPrefix string
	// VersionSource says where row versions come from; default
	// events.VersionFromStream. It must match the consumer's recorded
	// version source, if any.
	VersionSource events.VersionSource
	// BatchSize is the most messages applied in one transaction; default
	// 500, at most MaxBatchSize.
	BatchSize int
	// MaxWait is how long a batch waits to fill after its first message
	// arrived; default 100 ms. It bounds the latency an idle stream adds.
	MaxWait time.Duration
	// Concurrency is the number of batches applied at the same time by one
	// worker; default 2, at most MaxConcurrency.
	Concurrency int
	// Prefetch is the number of messages pulled ahead of the batches being
	// collected and applied; default BatchSize. Together with BatchSize and
	// Concurrency it bounds the messages one worker holds:
	// (Concurrency+1)*BatchSize + Prefetch.
	Prefetch int
	// MaxEventBytes is the largest payload accepted; larger payloads are
	// dead-lettered. Default events.DefaultMaxEventBytes (1 MiB).
	MaxEventBytes int
	// MaxDeliveries dead-letters a message (kind "max-deliveries") delivered
	// more than this many times. Zero, the default, means never: a long
	// store outage must not empty the stream into the dead-letter stream.
	MaxDeliveries int
	// Backoff spaces retries after a failed batch.
	Backoff Backoff
	// Grace bounds the drain after cancellation; default 25 s.
	Grace time.Duration
	// LagInterval is how often consumer lag is read from the server; default
	// 5 s (one request per interval, never one per batch).
	LagInterval time.Duration
	// FlushTimeout bounds the flush that pushes a batch's acks to the
	// server; default 5 s.
	FlushTimeout time.Duration
	// DeadLetterTimeout bounds the wait for the dead-letter stream to store
	// a batch's poison messages; default 10 s.
	DeadLetterTimeout time.Duration
}

// Backoff is the delay policy after a failed batch: the n-th consecutive
// failure waits Min*2^(n-1), capped at Max, with up to Jitter of it added or
// removed at random so a fleet does not retry in lockstep. Zero fields take
// the defaults (DefaultRetryMin, DefaultRetryMax, DefaultRetryJitter); a
// negative Jitter disables jitter. It is an alias because users of this
// package cannot name the internal package that defines it.
type Backoff = lifecycle.Backoff

// defaultBackoff fills the zero fields of Config.Backoff.
var defaultBackoff = Backoff{Min: DefaultRetryMin, Max: DefaultRetryMax, Jitter: DefaultRetryJitter}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.SubjectPrefix == "" {
		c.SubjectPrefix = events.DefaultSubjectPrefix
	}
	if c.VersionSource == "" {
		c.VersionSource = events.VersionFromStream
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.MaxWait == 0 {
		c.MaxWait = DefaultMaxWait
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Prefetch == 0 {
		c.Prefetch = c.BatchSize
	}
	if c.MaxEventBytes == 0 {
		c.MaxEventBytes = events.DefaultMaxEventBytes
	}
	c.Backoff = c.Backoff.Or(defaultBackoff)
	if c.Grace == 0 {
		c.Grace = DefaultGrace
	}
	if c.LagInterval == 0 {
		c.LagInterval = DefaultLagInterval
	}
	if c.FlushTimeout == 0 {
		c.FlushTimeout = DefaultFlushTimeout
	}
	if c.DeadLetterTimeout == 0 {
		c.DeadLetterTimeout = DefaultDeadLetterTimeout
	}
	return c
}

// Validate checks c after defaults and returns an error naming the first
// field that is wrong. It does not contact the server.
func (c Config) Validate() error {
	if err := validName("Stream", c.Stream); err != nil {
		return err
	}
	if err := validName("Consumer", c.Consumer); err != nil {
		return err
	}
	if !events.ValidPrefix(c.SubjectPrefix) {
		return fmt.Errorf("worker config: SubjectPrefix %q must be dot-separated tokens without wildcards or spaces", c.SubjectPrefix)
	}
	if _, err := events.ParseVersionSource(string(c.VersionSource)); err != nil {
		return fmt.Errorf("worker config: VersionSource: %w", err)
	}
	switch {
	case c.BatchSize < 1 || c.BatchSize > MaxBatchSize:
		return fmt.Errorf("worker config: BatchSize %d must be between 1 and %d", c.BatchSize, MaxBatchSize)
	case c.Concurrency < 1 || c.Concurrency > MaxConcurrency:
		return fmt.Errorf("worker config: Concurrency %d must be between 1 and %d", c.Concurrency, MaxConcurrency)
	case c.Prefetch < 1:
		return fmt.Errorf("worker config: Prefetch %d must be at least 1", c.Prefetch)
	case c.MaxEventBytes < 1:
		return fmt.Errorf("worker config: MaxEventBytes %d must be at least 1", c.MaxEventBytes)
	case c.MaxDeliveries < 0:
		return fmt.Errorf("worker config: MaxDeliveries %d must not be negative (0 means unlimited)", c.MaxDeliveries)
	case c.MaxWait < 0:
		return fmt.Errorf("worker config: MaxWait %v must be positive", c.MaxWait)
	case c.Grace < 0:
		return fmt.Errorf("worker config: Grace %v must be positive", c.Grace)
	case c.LagInterval < 0:
		return fmt.Errorf("worker config: LagInterval %v must be positive", c.LagInterval)
	case c.FlushTimeout < 0:
		return fmt.Errorf("worker config: FlushTimeout %v must be positive", c.FlushTimeout)
	case c.DeadLetterTimeout < 0:
		return fmt.Errorf("worker config: DeadLetterTimeout %v must be positive", c.DeadLetterTimeout)
	}
	if err := c.Backoff.Validate(); err != nil {
		return fmt.Errorf("worker config: %w", err)
	}
	return nil
}

// validName checks a stream or consumer name as JetStream accepts it.
func validName(field, name string) error {
	if name == "" {
		return fmt.Errorf("worker config: %s is required", field)
	}
	if strings.ContainsAny(name, ".*> \t\r\n/\\") {
		return fmt.Errorf("worker config: %s %q must not contain dots, wildcards, slashes or white space", field, name)
	}
	return nil
}
