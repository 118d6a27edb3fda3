package preflight

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/kinderr"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/all"
)

// ErrConfig matches errors about the configuration itself (a store without
// a DSN, an unknown role): the caller's mistake, reported before any check
// runs.
var ErrConfig = errors.New("preflight configuration")

// flagErrorf is a setting of Config.Validate out of range, named as the
// preflight command's flag that sets it.
func flagErrorf(format string, args ...any) error {
	return kinderr.Errorf(ErrConfig, nil, format, args...)
}

// Defaults of Config.
const (
	// DefaultSampleSize is the number of records sampled per source entity.
	DefaultSampleSize = 1000
	// DefaultTimeout bounds each network step: a connection, one store's
	// cheap checks, one sample, one self-test step.
	DefaultTimeout = 30 * time.Second
	// DefaultNATSConnectTimeout bounds the NATS connection attempt and
	// each JetStream request.
	DefaultNATSConnectTimeout = 5 * time.Second
)

// Config says what to check.
type Config struct {
	// NATS is the broker the subscriptions use. An empty URL skips the NATS
	// checks.
	NATS NATSConfig
	// Stores are checked in order, each in its role.
	Stores []StoreSpec
	// SampleSize is the number of records read per source entity, in key
	// order from the first key. Zero means DefaultSampleSize.
	SampleSize int
	// MaxDocumentBytes is the largest document a source may hold: larger
	// ones could not travel as events. Zero means the worker's default limit
	// on event payloads, events.DefaultMaxEventBytes.
	MaxDocumentBytes int
	// Entities names the source entities to sample. Empty means every
	// entity each source holds.
	Entities []string
	// Timeout bounds each network step. Zero means DefaultTimeout.
	Timeout time.Duration
	// Adapters opens the stores by DSN. Nil means every adapter of this
	// module (stores/all.Adapters).
	Adapters stores.Adapters
}

// NATSConfig names the broker, the stream and the consumers the migration
// will use.
type NATSConfig struct {
	// URL is one or more server URLs, comma-separated.
	URL string
	// Options are the connection options (credentials, TLS, name).
	// Preflight adds a connect timeout and turns reconnection off.
	Options []nats.Option
	// ConnectTimeout bounds the connection and each JetStream request.
	// Zero means DefaultNATSConnectTimeout.
	ConnectTimeout time.Duration
	// Stream is the event stream, such as "EVENTS".
	Stream string
	// SubjectPrefix is the prefix of the events' subjects; the stream must
	// capture <prefix>.>. Empty means events.DefaultSubjectPrefix.
	SubjectPrefix string
	// Consumers are the durable consumers the subscriptions use; each must
	// exist with a usable shape or be creatable.
	Consumers []string
}

// StoreSpec is one store and how the migration uses it.
type StoreSpec struct {
	// DSN names the store; secrets may be ${env:NAME} or ${file:PATH}.
	DSN string
	// Role is stores.RoleSource (read only) or stores.RoleTarget (written).
	Role stores.Role
}

// StoreSpecs returns a StoreSpec of role for each DSN, in order.
func StoreSpecs(role stores.Role, dsns []string) []StoreSpec {
	specs := make([]StoreSpec, 0, len(dsns))
	for _, dsn := range dsns {
		specs = append(specs, StoreSpec{DSN: dsn, Role: role})
	}
	return specs
}

// Validate checks c as the preflight command gives it, before any
// default: the sample size, document limit and timeout set (zero is
// refused here, not defaulted) and every store of a scheme Adapters (all
// of this module's when nil) can open. Errors match ErrConfig and name the
// command's flags; Run checks the rest.
func (c Config) Validate() error {
	switch {
	case c.SampleSize < 1:
		return flagErrorf("--sample must be at least 1, got %d", c.SampleSize)
	case c.MaxDocumentBytes < 1:
		return flagErrorf("--max-document-bytes must be positive, got %d", c.MaxDocumentBytes)
	case c.Timeout <= 0:
		return flagErrorf("--timeout must be positive")
	}
	adapters := c.Adapters
	if adapters == nil {
		adapters = all.Adapters
	}
	for _, s := range c.Stores {
		if !slices.Contains(adapters.Schemes(), stores.Scheme(s.DSN)) {
			return flagErrorf("--%s %q: unknown or missing scheme (known: %s)", s.Role, stores.Redact(s.DSN), strings.Join(adapters.Schemes(), ", "))
		}
	}
	return nil
}

// withDefaults validates c and fills in its defaults.
func (c Config) withDefaults() (Config, error) {
	if c.NATS.URL == "" && len(c.Stores) == 0 {
		return c, fmt.Errorf("%w: nothing to check: give a NATS URL or at least one store", ErrConfig)
	}
	if c.NATS.URL != "" && c.NATS.Stream == "" {
		return c, fmt.Errorf("%w: a stream name is required with a NATS URL", ErrConfig)
	}
	for _, s := range c.Stores {
		switch {
		case s.DSN == "":
			return c, fmt.Errorf("%w: a %s store has an empty DSN", ErrConfig, s.Role)
		case stores.Scheme(s.DSN) == "":
			return c, fmt.Errorf("%w: %q is not a DSN (scheme:...)", ErrConfig, stores.Redact(s.DSN))
		case !s.Role.Valid():
			return c, fmt.Errorf("%w: store %s has role %q, want source or target", ErrConfig, stores.Redact(s.DSN), s.Role)
		}
	}
	if c.Adapters == nil {
		c.Adapters = all.Adapters
	}
	for _, e := range c.Entities {
		if !events.ValidEntity(e) {
			return c, fmt.Errorf("%w: entity %q must match ^[a-z][a-z0-9_]{0,62}$", ErrConfig, e)
		}
	}
	for _, name := range c.NATS.Consumers {
		if name == "" {
			return c, fmt.Errorf("%w: a consumer name is empty", ErrConfig)
		}
	}
	switch {
	case c.SampleSize < 0:
		return c, fmt.Errorf("%w: sample size %d must not be negative", ErrConfig, c.SampleSize)
	case c.MaxDocumentBytes < 0:
		return c, fmt.Errorf("%w: max document bytes %d must not be negative", ErrConfig, c.MaxDocumentBytes)
	case c.Timeout < 0 || c.NATS.ConnectTimeout < 0:
		return c, fmt.Errorf("%w: timeouts must not be negative", ErrConfig)
	}
	if c.SampleSize == 0 {
		c.SampleSize = DefaultSampleSize
	}
	if c.MaxDocumentBytes == 0 {
		c.MaxDocumentBytes = events.DefaultMaxEventBytes
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.NATS.ConnectTimeout == 0 {
		c.NATS.ConnectTimeout = DefaultNATSConnectTimeout
	}
	if c.NATS.SubjectPrefix == "" {
		c.NATS.SubjectPrefix = events.DefaultSubjectPrefix
	}
	return c, nil
}
