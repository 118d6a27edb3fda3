package controlplane

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/migrator"
)

// ReadStages tells the migrator's cleanup and status how many clients read
// from which store, from the flag store.
type ReadStages struct{ Store *flags.Store }

var (
	_ migrator.ReadStages    = ReadStages{}
	_ migrator.DefaultStages = ReadStages{}
)

// CountByStage returns the number of clients per read stage.
func (r ReadStages) CountByStage(ctx context.Context) (map[string]int, error) {
	return r.Store.CountByStage(ctx)
}

// StagesWithoutOverride returns the default stage and the rollout's stage.
func (r ReadStages) StagesWithoutOverride(ctx context.Context) ([]string, error) {
	cfg, _, err := r.Store.Config(ctx)
	if err != nil {
		return nil, err
	}
	out := []string{string(cfg.Default)}
	if cfg.Rollout != nil && cfg.Rollout.BasisPoints > 0 {
		out = append(out, string(cfg.Rollout.Stage))
	}
	return out, nil
}

// openReadStagesStore opens the flag store, without audit log or gates, when
// its bucket exists; nil means flags are not in use. The clients read
// routers recorded are counted too, when their bucket exists.
func openReadStagesStore(ctx context.Context, js jetstream.JetStream, cfg Config) (*flags.Store, error) {
	if cfg.FlagsBucket == "" {
		return nil, nil
	}
	if _, err := js.KeyValue(ctx, cfg.FlagsBucket); errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("flag bucket %s: %w", cfg.FlagsBucket, err)
	}
	var registry *flags.Registry
	if _, err := js.KeyValue(ctx, cfg.ClientsBucket); err == nil {
		if registry, err = flags.OpenRegistry(ctx, js, flags.RegistryConfig{Bucket: cfg.ClientsBucket, MustExist: true}); err != nil {
			return nil, err
		}
	}
	return flags.OpenStore(ctx, js, flags.StoreConfig{Bucket: cfg.FlagsBucket, Registry: registry, MustExist: true})
}
