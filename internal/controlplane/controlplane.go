package controlplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/jsdeclare"
	"github.com/switchyard/switchyard/internal/lifecycle"
	"github.com/switchyard/switchyard/migrator"
)

// Parts says which parts of the control plane Open opens.
type Parts int

const (
	// AllParts: the migration state, the flag store with its gates, the
	// audit log, shadow statistics and client registry (console, flags,
	// read-api, dev).
	AllParts Parts = iota
	// StateOnly: the migration state alone (backfill, verify).
	StateOnly
	// StateAndReadStages: the migration state and, when flags are in use
	// (FlagsBucket is set and exists), the flag store without audit log or
	// gates, to count the clients per read stage (status, cleanup).
	StateAndReadStages
)

// Config names the buckets and streams of the control plane. Zero values
// take the defaults named on each field.
type Config struct {
	// Parts is what to open; default AllParts.
	Parts Parts
	// MigrationBucket holds the migration state; default migrator.DefaultBucket.
	MigrationBucket string
	// FlagsBucket holds the read flags; default flags.DefaultBucket, except
	// for StateAndReadStages, where empty means flags are not in use.
	FlagsBucket string
	// AuditStream receives every flag change; default "SWITCHYARD_AUDIT".
	AuditStream string
	// ShadowBucket holds the shadow read counters; default "switchyard_shadow".
	ShadowBucket string
	// ClientsBucket holds the clients read routers served; default
	// "switchyard_clients".
	ClientsBucket string
	// MinShadowReads, MinShadowKeys and MinShadowSpan are the shadow
	// gate's thresholds (flags.GatesConfig); zero takes the default. A
	// threshold below its default makes every move onto the target a
	// forced change.
	MinShadowReads int64
	MinShadowKeys  int
	MinShadowSpan  time.Duration
	// FlushInterval is how often shadow counters and seen clients are
	// written to NATS by this process; default 5 s.
	FlushInterval time.Duration
	// Replicas of the buckets and the audit stream that Open creates;
	// zero means 1. Existing ones are used as they are, never changed.
	Replicas int
	// MustExist opens only what exists: a missing bucket or stream fails
	// with an error matching jsdeclare.ErrMissing instead of being created
	// (commands that only read, or serve, the control plane). The error
	// says which command creates it.
	MustExist bool
	// Wait makes a missing bucket or stream not fail Open at once: it logs
	// that and tries again, backing off up to MaxWaitDelay, until ctx ends
	// (long-running commands, which may start before the control plane is
	// created).
	Wait bool
	// ProtectAudit turns on DenyDelete and DenyPurge on an existing audit
	// stream that lacks them (irreversible); see flags.AuditConfig.Protect.
	ProtectAudit bool
	Log          *slog.Logger
}

// Defaults.
const (
	DefaultAuditStream    = "SWITCHYARD_AUDIT"
	DefaultShadowBucket   = "switchyard_shadow"
	DefaultClientsBucket  = "switchyard_clients"
	DefaultMinShadowReads = flags.DefaultMinShadowReads
)

// Delays between attempts while Open waits for a missing part.
const (
	FirstWaitDelay = 250 * time.Millisecond
	MaxWaitDelay   = 5 * time.Second
)

// WaitBackoff spaces the attempts of Open while it waits for a missing part.
var WaitBackoff = lifecycle.Backoff{Min: FirstWaitDelay, Max: MaxWaitDelay}

// ControlPlane is the opened control plane. Only the parts asked for are
// set: State always, the others with AllParts, Flags also with
// StateAndReadStages when flags are in use.
type ControlPlane struct {
	State  *migrator.State
	Audit  *flags.AuditLog
	Shadow *flags.ShadowStats
	// Samples are the recent mismatching keys per client, kept in the
	// shadow statistics' bucket.
	Samples  *flags.ShadowSamples
	Registry *flags.Registry
	Flags    *flags.Store
}

// ReadStages returns what the migrator's cleanup and status count the read
// stages with; nil when flags are not in use.
func (c *ControlPlane) ReadStages() migrator.ReadStages {
	if c.Flags == nil {
		return nil
	}
	return ReadStages{Store: c.Flags}
}

// Open opens cfg.Parts of the control plane, creating what is missing with
// cfg.Replicas unless cfg.MustExist. A missing bucket or stream fails with
// an error matching jsdeclare.ErrMissing that names the command creating
// it, at once, or once ctx ends when cfg.Wait. With AllParts the flag
// store's gates ask the migration state, and the first change that moves a
// client off legacy advances the migration to the switching phase. It
// fails with the first error of the underlying opens, which match
// flags.ErrUnavailable when JetStream cannot be reached.
func Open(ctx context.Context, js jetstream.JetStream, cfg Config) (*ControlPlane, error) {
	cfg = cfg.withDefaults()
	thresholds := flags.GatesConfig{MinShadowReads: cfg.MinShadowReads, MinShadowKeys: cfg.MinShadowKeys, MinShadowSpan: cfg.MinShadowSpan}
	if err := thresholds.Validate(); err != nil {
		return nil, err
	}
	if !cfg.Wait {
		return openParts(ctx, js, cfg)
	}
	policy := lifecycle.Policy{
		Backoff:   WaitBackoff,
		Retryable: func(err error) bool { return errors.Is(err, jsdeclare.ErrMissing) },
		Log:       cfg.Log,
		Waiting:   "waiting for the control plane",
	}
	cp, err := lifecycle.RetryValue(ctx, policy, func() (*ControlPlane, error) { return openParts(ctx, js, cfg) })
	if stopped, ok := errors.AsType[*lifecycle.InterruptedError](err); ok {
		if !errors.Is(stopped.Last, jsdeclare.ErrMissing) {
			return nil, stopped.Last
		}
		return nil, fmt.Errorf("%w (stopped waiting: %w)", stopped.Last, stopped.Cause)
	}
	if err != nil {
		return nil, err
	}
	return cp, nil
}

// openParts opens cfg.Parts once. A missing part names the command that
// creates it: flags init for the flag store's parts, and for the migration
// state too when the flag store is asked for.
func openParts(ctx context.Context, js jetstream.JetStream, cfg Config) (*ControlPlane, error) {
	hint := CreateStateHint
	if cfg.Parts == AllParts {
		hint = CreateHint
	}
	state, err := migrator.OpenStateWith(ctx, js, migrator.StateConfig{Bucket: cfg.MigrationBucket, Replicas: cfg.Replicas, MustExist: cfg.MustExist})
	if err != nil {
		return nil, explainMissing(err, hint)
	}
	cp := &ControlPlane{State: state}
	switch cfg.Parts {
	case AllParts:
		cp, err = openFlags(ctx, js, cfg, state)
		err = explainMissing(err, hint)
	case StateAndReadStages:
		cp.Flags, err = openReadStagesStore(ctx, js, cfg)
	}
	if err != nil {
		return nil, err
	}
	return cp, nil
}

// openFlags opens the flag store with its gates over state, its audit log,
// shadow statistics and client registry, once.
func openFlags(ctx context.Context, js jetstream.JetStream, cfg Config, state *migrator.State) (*ControlPlane, error) {
	audit, err := flags.OpenAuditLog(ctx, js, flags.AuditConfig{Stream: cfg.AuditStream, Replicas: cfg.Replicas, MustExist: cfg.MustExist, Protect: cfg.ProtectAudit})
	if err != nil {
		return nil, err
	}
	if err := audit.Check(); err != nil {
		cfg.Log.Warn("the audit trail can be edited", "err", err)
	}
	shadow, err := flags.OpenShadowStats(ctx, js, flags.ShadowStatsConfig{Bucket: cfg.ShadowBucket, FlushInterval: cfg.FlushInterval, Replicas: cfg.Replicas, MustExist: cfg.MustExist, Logger: cfg.Log})
	if err != nil {
		return nil, err
	}
	registry, err := flags.OpenRegistry(ctx, js, flags.RegistryConfig{Bucket: cfg.ClientsBucket, FlushInterval: cfg.FlushInterval, Replicas: cfg.Replicas, MustExist: cfg.MustExist, Logger: cfg.Log})
	if err != nil {
		return nil, err
	}
	store, err := flags.OpenStore(ctx, js, flags.StoreConfig{
		Bucket:    cfg.FlagsBucket,
		Replicas:  cfg.Replicas,
		MustExist: cfg.MustExist,
		Audit:     audit,
		Registry:  registry,
		Shadow:    shadow,
		Gates: flags.NewGates(flags.GatesConfig{
			Source:         Gates{State: state},
			Shadow:         shadow,
			MinShadowReads: cfg.MinShadowReads,
			MinShadowKeys:  cfg.MinShadowKeys,
			MinShadowSpan:  cfg.MinShadowSpan,
		}),
		OnLeaveLegacy: func(ctx context.Context) error {
			// A migration already past switching stays where it is.
			if err := state.Advance(ctx, migrator.PhaseSwitching); err != nil && !errors.Is(err, migrator.ErrPhaseBackward) {
				return err
			}
			return nil
		},
		Logger: cfg.Log,
	})
	if err != nil {
		return nil, err
	}
	return &ControlPlane{State: state, Audit: audit, Shadow: shadow, Samples: flags.NewShadowSamples(shadow, 0), Registry: registry, Flags: store}, nil
}

func (c Config) withDefaults() Config {
	if c.MigrationBucket == "" {
		c.MigrationBucket = migrator.DefaultBucket
	}
	if c.FlagsBucket == "" && c.Parts == AllParts {
		c.FlagsBucket = flags.DefaultBucket
	}
	if c.AuditStream == "" {
		c.AuditStream = DefaultAuditStream
	}
	if c.ShadowBucket == "" {
		c.ShadowBucket = DefaultShadowBucket
	}
	if c.ClientsBucket == "" {
		c.ClientsBucket = DefaultClientsBucket
	}
	if c.MinShadowReads == 0 {
		c.MinShadowReads = DefaultMinShadowReads
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}
