package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/migrator"
)

const statusUsage = `status [--json] [flags]

Shows the migration phase; every subscription of --stream with its lag,
redeliveries and dead letters; backfill progress per entity (also while a
backfill runs in another process); the last verify and its age; how many
clients read from which store when flags are in use; and the cleanup record.
DSN passwords are redacted. See docs/status.md.`

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("status", statusUsage, stderr)
	mf := migrationFlags{readOnly: true}
	mf.register(fs)
	flagsBucket := fs.String("flags-bucket", flags.DefaultBucket, "flag bucket whose read stages are counted (empty: flags not in use)")
	source := fs.String("source", "", "source DSN to show (redacted; default: the one the backfill recorded)")
	target := fs.String("target", "", "target DSN to show (redacted; default: the one the backfill recorded)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := fs.NoArgs(); err != nil {
		return err
	}
	nc, js, state, _, err := mf.connect(ctx, "status", stderr)
	if err != nil {
		return err
	}
	defer nc.Close()
	stages, err := openReadStages(ctx, js, *flagsBucket)
	if err != nil {
		return err
	}
	st, err := migrator.GatherStatus(ctx, migrator.StatusConfig{
		JS: js, State: state, Stream: mf.stream, ReadStages: stages, Source: *source, Target: *target,
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeIndentedJSON(stdout, st)
	}
	return st.WriteText(stdout)
}

// readStages adapts the flag store to what status and cleanup need.
type readStages struct{ store *flags.Store }

func (r readStages) CountByStage(ctx context.Context) (map[string]int, error) {
	return r.store.CountByStage(ctx)
}

// StagesWithoutOverride returns the default stage and the rollout's stage.
func (r readStages) StagesWithoutOverride(ctx context.Context) ([]string, error) {
	cfg, _, err := r.store.Config(ctx)
	if err != nil {
		return nil, err
	}
	out := []string{string(cfg.Default)}
	if cfg.Rollout != nil && cfg.Rollout.BasisPoints > 0 {
		out = append(out, string(cfg.Rollout.Stage))
	}
	return out, nil
}

// clientsBucket is where read routers record the clients they served.
const clientsBucket = "switchyard_clients"

// openReadStages opens the flag store when its bucket exists; nil means
// flags are not in use.
func openReadStages(ctx context.Context, js jetstream.JetStream, bucket string) (migrator.ReadStages, error) {
	if bucket == "" {
		return nil, nil
	}
	if _, err := js.KeyValue(ctx, bucket); errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("flag bucket %s: %w", bucket, err)
	}
	// Clients seen by read routers are counted too, when routers record them.
	var registry *flags.Registry
	if _, err := js.KeyValue(ctx, clientsBucket); err == nil {
		if registry, err = flags.OpenRegistry(ctx, js, flags.RegistryConfig{Bucket: clientsBucket, MustExist: true}); err != nil {
			return nil, err
		}
	}
	store, err := flags.OpenStore(ctx, js, flags.StoreConfig{Bucket: bucket, Registry: registry, MustExist: true})
	if err != nil {
		return nil, err
	}
	return readStages{store: store}, nil
}
