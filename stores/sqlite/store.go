package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/switchyard/switchyard/stores"
)

// OpenStore is the stores.RoleOpener of SQLite ("sqlite" DSNs).
// It is its entry in the adapter table of stores/all.
func OpenStore(ctx context.Context, dsn string, role stores.Role) (stores.Store, error) {
	st, err := OpenRole(ctx, dsn, role)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// Store is a SQLite database file holding one table per entity.
// It is safe for concurrent use.
type Store struct {
	path   string
	writer *sql.DB // exactly one connection: SQLite has one writer
	reader *sql.DB // query_only connections that read beside the writer
	// readOnly is set for a store opened as stores.RoleSource: writer is
	// then the query_only reader pool, so every write fails.
	readOnly bool

	// tables remembers the entities whose table exists with the right shape,
	// so Apply checks the catalog once per entity and process.
	tables sync.Map // entity name -> struct{}
}

var _ stores.Store = (*Store)(nil)

// Open opens (creating if needed) the database file a DSN names, switches it
// to WAL mode and creates the ledger table. The folder of the file must
// exist. It fails when the file cannot be opened or is not a SQLite
// database.
func Open(ctx context.Context, dsn string) (*Store, error) {
	return OpenRole(ctx, dsn, "")
}

// OpenRole is Open in a role. As stores.RoleSource it writes nothing: the
// file must exist, its journal mode is left as it is, no ledger is created,
// and every connection is query_only, so Apply and PruneLedger fail. Any
// other role is Open.
func OpenRole(ctx context.Context, dsn string, role stores.Role) (*Store, error) {
	cfg, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if role == stores.RoleSource {
		return openSource(ctx, cfg)
	}
	if dir := filepath.Dir(cfg.path); dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("sqlite database folder: %w", err)
		}
	}
	writer, err := sql.Open("sqlite", cfg.driverDSN(false))
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", cfg.path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	s := &Store{path: cfg.path, writer: writer}
	// The writer connection switches the file to WAL and creates the ledger
	// before any reader connects, so readers never see a rollback journal.
	if err := s.ensureLedger(ctx); err != nil {
		writer.Close()
		return nil, err
	}
	reader, err := sql.Open("sqlite", cfg.driverDSN(true))
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", cfg.path, err)
	}
	reader.SetMaxOpenConns(cfg.readers)
	reader.SetMaxIdleConns(cfg.readers)
	s.reader = reader
	return s, nil
}

// openSource opens an existing file for reading only.
func openSource(ctx context.Context, cfg config) (*Store, error) {
	if _, err := os.Stat(cfg.path); err != nil {
		return nil, fmt.Errorf("sqlite source: %w", err)
	}
	reader, err := sql.Open("sqlite", cfg.sourceDSN())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", cfg.path, err)
	}
	reader.SetMaxOpenConns(cfg.readers)
	reader.SetMaxIdleConns(cfg.readers)
	s := &Store{path: cfg.path, writer: reader, reader: reader, readOnly: true}
	if err := reader.PingContext(ctx); err != nil {
		reader.Close()
		return nil, classify(fmt.Errorf("open sqlite %s: %w", cfg.path, err))
	}
	return s, nil
}

// Path returns the database file.
func (s *Store) Path() string { return s.path }

// Ping checks that both pools can reach the file.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.writer.PingContext(ctx); err != nil {
		return classify(fmt.Errorf("sqlite %s: %w", s.path, err))
	}
	if err := s.reader.PingContext(ctx); err != nil {
		return classify(fmt.Errorf("sqlite %s: %w", s.path, err))
	}
	return nil
}

// Close closes both pools. In-flight calls finish first.
func (s *Store) Close() error {
	if s.readOnly {
		return s.reader.Close()
	}
	return errors.Join(s.reader.Close(), s.writer.Close())
}
