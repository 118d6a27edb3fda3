package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/all"
)

// StoreFlags are the --source and --target DSNs of the commands that copy
// or compare stores.
type StoreFlags struct{ Source, Target string }

// Register adds --source and --target to fs.
func (f *StoreFlags) Register(fs *FlagSet) {
	fs.StringVar(&f.Source, "source", "", "DSN of the legacy store, the source of truth (secrets as ${env:NAME} or ${file:PATH})")
	fs.StringVar(&f.Target, "target", "", "DSN of the target store")
}

// Validate requires both DSNs, each with a scheme; command prefixes the
// usage error.
func (f *StoreFlags) Validate(command string) error {
	for _, d := range []struct{ flag, dsn string }{{"--source", f.Source}, {"--target", f.Target}} {
		if d.dsn == "" {
			return Usagef("%s: %s is required", command, d.flag)
		}
		if stores.Scheme(d.dsn) == "" {
			return Usagef("%s: %s %q is not a DSN (scheme:...)", command, d.flag, stores.Redact(d.dsn))
		}
	}
	return nil
}

// Open opens both stores in their roles: the source writes nothing and
// works with read-only credentials. The caller closes them.
func (f *StoreFlags) Open(ctx context.Context) (source, target stores.Store, err error) {
	src, err := openStore(ctx, f.Source, stores.RoleSource)
	if err != nil {
		return nil, nil, fmt.Errorf("source: %w", err)
	}
	dst, err := openStore(ctx, f.Target, stores.RoleTarget)
	if err != nil {
		src.Close()
		return nil, nil, fmt.Errorf("target: %w", err)
	}
	return src, dst, nil
}

// openStore opens a store in its role; an unknown scheme is a usage error.
func openStore(ctx context.Context, dsn string, role stores.Role) (stores.Store, error) {
	st, err := all.OpenRole(ctx, dsn, role)
	if errors.Is(err, stores.ErrUnknownScheme) {
		return nil, Usagef("%v", err)
	}
	return st, err
}

// ValidEntities requires at least one entity name, each valid; command
// prefixes the usage error.
func ValidEntities(command string, entities []string) error {
	if len(entities) == 0 {
		return Usagef("%s: --entities is required (comma-separated entity names)", command)
	}
	for _, e := range entities {
		if !events.ValidEntity(e) {
			return Usagef("%s: entity %q must match ^[a-z][a-z0-9_]{0,62}$", command, e)
		}
	}
	return nil
}

// ValidateCopy checks what every command comparing or copying entities
// between the stores takes: both DSNs (Validate), then the entities
// (ValidEntities).
func (f *StoreFlags) ValidateCopy(command string, entities []string) error {
	if err := f.Validate(command); err != nil {
		return err
	}
	return ValidEntities(command, entities)
}
