package rethinkdb

import (
	"context"
	"fmt"
	"sync"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/switchyard/switchyard/stores"
)

// ledgerTable records applied event ids; ledgerTimeIndex orders them by
// the time they were recorded, for PruneLedger.
const (
	ledgerTable     = "switchyard_ledger"
	ledgerKey       = "id"
	ledgerTimeField = "recorded_at"
)

// tableSet remembers the tables this process has created or checked.
type tableSet struct {
	mu    sync.Mutex
	ready map[string]bool
}

// forget drops a table from the set, so the next use checks it again.
func (t *tableSet) forget(table string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.ready, table)
}

// ensureDatabase creates the database when it is missing. Concurrent
// creators are tolerated: when DBCreate fails, the database list decides.
func (s *Store) ensureDatabase(ctx context.Context) error {
	exists := r.DBList().Contains(s.cfg.Database)
	create := r.DBCreate(s.cfg.Database)
	return s.createIfMissing(ctx, "database "+s.cfg.Database, exists, create)
}

// ensureTable creates an entity or ledger table when it is missing, waits
// until it is ready, and checks that its primary key is the configured key
// field. It fails with stores.ErrSchemaMismatch when the primary key
// differs, and with a classified driver error otherwise.
func (s *Store) ensureTable(ctx context.Context, table, primaryKey string) error {
	s.tables.mu.Lock()
	defer s.tables.mu.Unlock()
	if s.tables.ready[table] {
		return nil
	}
	db := r.DB(s.cfg.Database)
	exists := db.TableList().Contains(table)
	create := db.TableCreate(table, r.TableCreateOpts{PrimaryKey: primaryKey})
	if err := s.createIfMissing(ctx, "table "+table, exists, create); err != nil {
		return err
	}
	if err := s.exec(ctx, db.Table(table).Wait()); err != nil {
		return classify(fmt.Errorf("wait for table %s: %w", table, err))
	}
	var key string
	if err := s.readOne(ctx, db.Table(table).Info().Field("primary_key"), &key); err != nil {
		return classify(fmt.Errorf("read primary key of %s: %w", table, err))
	}
	if key != primaryKey {
		return fmt.Errorf("%w: table %s.%s has the primary key %q, want %q (key_field)", stores.ErrSchemaMismatch, s.cfg.Database, table, key, primaryKey)
	}
	if table == ledgerTable {
		if err := s.ensureLedgerIndex(ctx); err != nil {
			return err
		}
	}
	s.tables.ready[table] = true
	return nil
}

func (s *Store) ensureLedgerIndex(ctx context.Context) error {
	ledger := r.DB(s.cfg.Database).Table(ledgerTable)
	exists := ledger.IndexList().Contains(ledgerTimeField)
	if err := s.createIfMissing(ctx, "index "+ledgerTimeField, exists, ledger.IndexCreate(ledgerTimeField)); err != nil {
		return err
	}
	if err := s.exec(ctx, ledger.IndexWait(ledgerTimeField)); err != nil {
		return classify(fmt.Errorf("wait for index %s: %w", ledgerTimeField, err))
	}
	return nil
}

// createIfMissing runs create when exists is false. When create fails, it
// asks exists again: a concurrent worker may have won the race, which is
// success, so no error message has to be interpreted.
func (s *Store) createIfMissing(ctx context.Context, what string, exists, create r.Term) error {
	var found bool
	if err := s.readOne(ctx, exists, &found); err != nil {
		return classify(fmt.Errorf("look up %s: %w", what, err))
	}
	if found {
		return nil
	}
	createErr := s.exec(ctx, create)
	if createErr == nil {
		return nil
	}
	if err := s.readOne(ctx, exists, &found); err == nil && found {
		return nil
	}
	return classify(fmt.Errorf("create %s: %w", what, createErr))
}
