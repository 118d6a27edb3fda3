package migrator

import (
	"context"
	"log/slog"

	"github.com/switchyard/switchyard/stores"
)

// requireStores runs the cheap start-up checks of the backfill's stores,
// each in its role, before anything is read or written, and logs their
// warnings. A failing check refuses the start with an error matching
// stores.ErrInspectFailed that names every reason. A dry run only reads the
// target, so it checks the target as a reader.
func requireStores(ctx context.Context, cfg BackfillConfig, targetRole stores.Role) error {
	for _, s := range []struct {
		store any
		dsn   string
		role  stores.Role
	}{{cfg.Source, cfg.SourceName, stores.RoleSource}, {cfg.Target, cfg.TargetName, targetRole}} {
		checks, err := stores.RequireRole(ctx, s.store, s.role, s.dsn)
		logWarnings(cfg.Log, s.role, s.dsn, checks)
		if err != nil {
			return err
		}
	}
	return nil
}

func logWarnings(log *slog.Logger, role stores.Role, dsn string, checks []stores.Check) {
	for _, c := range checks {
		if c.Status == stores.CheckWarn {
			log.Warn("store check", "role", role, "store", stores.Redact(dsn), "check", c.Name, "detail", c.Detail)
		}
	}
}
