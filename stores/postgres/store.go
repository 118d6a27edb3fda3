package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchyard/switchyard/stores"
)

func init() {
	open := func(ctx context.Context, dsn string) (stores.Store, error) { return Open(ctx, dsn) }
	stores.Register("postgres", open)
	stores.Register("postgresql", open)
}

// Store is a PostgreSQL schema holding one table per entity. It is safe for
// concurrent use, and any number of processes may share one schema.
type Store struct {
	pool   *pgxpool.Pool
	schema string // the schema holding the tables, unquoted
	ledger string // the ledger table, quoted and qualified

	// tables remembers the entities whose table exists with the right shape.
	tables sync.Map // entity name -> struct{}
}

var _ stores.Store = (*Store)(nil)

// Open connects to the server a DSN names, settles the schema (the DSN's
// schema parameter, created if missing, or the first schema of the search
// path) and creates the ledger table. A refused connection fails with an
// error matching stores.ErrTransient, so callers can wait for the server.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, schema, err := parseDSN(dsn)
	if err != nil {
		return nil, err
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
	if err := s.ensureLedger(ctx); err != nil {
		pool.Close()
		return nil, err
	}
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
	if !exists {
		_, err := s.pool.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize())
		if err != nil && !isCatalogRace(err) {
			return classify(fmt.Errorf("postgres: create schema %s: %w", schema, err))
		}
	}
	s.schema = schema
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
