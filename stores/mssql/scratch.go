package mssql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/stores"
)

// dropScratchStatement drops a scratch table and the ledger ids that begin
// with its name. The ledger DELETE compiles even when the ledger is
// missing (deferred name resolution) and runs only when it exists. Under
// the ledger's binary collation LIKE compares exactly; '_' in the name is
// escaped.
func dropScratchStatement(schema, entity string) string {
	ledger := quote(schema) + "." + quote(ledgerTable)
	return `IF OBJECT_ID(@object, N'U') IS NOT NULL
    DROP TABLE ` + quote(schema) + "." + quote(entity) + `;
IF OBJECT_ID(@ledger, N'U') IS NOT NULL
    DELETE FROM ` + ledger + ` WHERE [id] LIKE @ids ESCAPE N'\';`
}

// DropScratch drops the scratch table entity, made by preflight's writer
// self-test, and deletes the ledger ids that begin with entity's name (the
// self-test names its event ids so). It refuses, with an error matching
// stores.ErrNotScratch and before sending anything, any name that does not start
// with stores.ScratchPrefix, so it can never drop an application's table.
// Dropping what does not exist succeeds.
func (s *Store) DropScratch(ctx context.Context, entity string) error {
	if !strings.HasPrefix(entity, stores.ScratchPrefix) || !events.ValidEntity(entity) {
		return fmt.Errorf("drop %q: %w: only entities named %s… are dropped", entity, stores.ErrNotScratch, stores.ScratchPrefix)
	}
	schema := s.cfg.schema()
	s.tables.forget([]string{entity})
	_, err := s.db.ExecContext(ctx, dropScratchStatement(schema, entity),
		sql.Named("object", quote(schema)+"."+quote(entity)),
		sql.Named("ledger", quote(schema)+"."+quote(ledgerTable)),
		sql.Named("ids", strings.ReplaceAll(entity, "_", `\_`)+"%"))
	if err != nil {
		return classify(fmt.Errorf("drop scratch entity %s: %w", entity, err))
	}
	return nil
}
