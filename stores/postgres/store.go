package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchyard/switchyard/stores"
)

// OpenStore is the stores.RoleOpener of PostgreSQL ("postgres" and "postgresql" DSNs); it opens every role alike.
// It is its entry in the adapter table of stores/all.
func OpenStore(ctx context.Context, dsn string, _ stores.Role) (stores.Store, error) {
	st, err := Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// Store is a PostgreSQL schema holding one table per entity. It is safe for
// concurrent use, and any number of processes may share one schema.
type Store struct {
	pool   *pgxpool.Pool
	schema string // the schema holding the tables, unquoted
	ledger string // the ledger table, quoted and qualified

	// tables remembers the entities whose table exists with the right shape.
	tables sync.Map // entity name -> struct{}

	// createSchema is set when the DSN names a schema that did not exist at
	// Open; the first write creates it.
	createSchema bool
	// bookkeeping guards the creation of the schema and the ledger, which
	// the first write does (see ensureBookkeeping); bookkept is set once
	// both exist.
	bookkeeping sync.Mutex
	bookkept    atomic.Bool
}

var _ stores.Store = (*Store)(nil)

// Open connects to the server a DSN names and settles the schema (the DSN's
// schema parameter, or the first schema of the search path). It writes
// nothing: the schema, when missing, and the ledger table are created by the
// first write (Apply, PruneLedger), so a store opened only to read works
// with read-only credentials. A refused connection fails with an error
// matching stores.ErrTransient, so callers can wait for the server.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, schema, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	cfg.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
		registerColumnCodecs(conn.TypeMap())
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, classify(fmt.Errorf("postgres: %w", err))
	}
	s := &Store{pool: pool}
	if err := s.settleSchema(ctx, schema); err != nil {
		pool.Close()
		return nil, err
	}
	s.ledger = pgx.Identifier{s.schema, ledgerTable}.Sanitize()
	return s, nil
}

// settleSchema picks the schema of the tables.
func (s *Store) settleSchema(ctx context.Context, schema string) error {
	if schema == "" {
		var current *string
		if err := s.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&current); err != nil {
			return classify(fmt.Errorf("postgres: current schema: %w", err))
		}
		if current == nil {
			return errors.New("postgres: the search path names no existing schema; create it or set the schema parameter")
		}
		s.schema = *current
		return nil
	}
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, schema).Scan(&exists); err != nil {
		return classify(fmt.Errorf("postgres: schema %s: %w", schema, err))
	}
	s.schema, s.createSchema = schema, !exists
	return nil
}

// ensureBookkeeping creates what writes need and reads do not: the schema
// named by the DSN when it was missing, and the ledger. Writers call it
// before their first statement; once both exist it costs an atomic load.
// A failure (a role without CREATE, say) is returned and retried by the
// next write.
func (s *Store) ensureBookkeeping(ctx context.Context) error {
	if s.bookkept.Load() {
		return nil
	}
	s.bookkeeping.Lock()
	defer s.bookkeeping.Unlock()
	if s.bookkept.Load() {
		return nil
	}
	if s.createSchema {
		_, err := s.pool.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{s.schema}.Sanitize())
		if err != nil && !isCatalogRace(err) {
			return classify(fmt.Errorf("postgres: create schema %s: %w", s.schema, err))
		}
	}
	if err := s.ensureLedger(ctx); err != nil {
		return err
	}
	s.bookkept.Store(true)
	return nil
}

// Schema returns the schema that holds the tables.
func (s *Store) Schema() string { return s.schema }

// Pool returns the connection pool, for benchmarks that compare Apply with
// raw statements on the same connections.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping checks that the server answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return classify(fmt.Errorf("postgres: %w", err))
	}
	return nil
}

// Close closes the pool, waiting for connections in use to be returned.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}
