package mssql

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	_ "github.com/microsoft/go-mssqldb" // registers the "sqlserver" driver
	"github.com/microsoft/go-mssqldb/azuread"

	"github.com/switchyard/switchyard/stores"
)

// azureDriverName is the database/sql driver that authenticates with Azure
// AD (the fedauth= DSN parameter).
const azureDriverName = azuread.DriverName

func init() {
	stores.Register("sqlserver", func(ctx context.Context, dsn string) (stores.Store, error) {
		return Open(ctx, dsn)
	})
}

// Store is a stores.Store on SQL Server. It is safe for concurrent use.
type Store struct {
	db     *sql.DB
	cfg    Config
	tables tableSet
	pause  func(ctx context.Context, attempt int) error
}

var _ stores.Store = (*Store)(nil)

// Open parses dsn (see ParseDSN), connects with the sqlserver driver or, when
// the DSN has fedauth=, the azuread driver, and prepares the store as New
// does. It fails with ErrBadDSN for a bad DSN and with an error matching
// stores.ErrTransient when SQL Server cannot be reached.
func Open(ctx context.Context, dsn string) (*Store, error) {
	parsed, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open(parsed.DriverName, parsed.Driver)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadDSN, err)
	}
	db.SetMaxOpenConns(parsed.PoolSize)
	db.SetMaxIdleConns(parsed.PoolSize)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close() // the connection error is the one to report
		return nil, classify(fmt.Errorf("connect: %w", err))
	}
	st, err := New(ctx, db, parsed.Config)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return st, nil
}

// New returns a store on an open database handle and creates the ledger
// table if it is missing. The store owns db from then on: Close closes it.
// It fails with stores.ErrSchemaMismatch when a ledger table of the wrong
// shape exists, and with a classified driver error otherwise.
func New(ctx context.Context, db *sql.DB, cfg Config) (*Store, error) {
	if !validIdentifier(cfg.schema()) {
		return nil, fmt.Errorf("%w: schema %q must match ^[A-Za-z_][A-Za-z0-9_]{0,127}$", ErrBadDSN, cfg.Schema)
	}
	s := &Store{db: db, cfg: cfg, tables: tableSet{ready: map[string]bool{}}, pause: pauseFor}
	if err := s.ensureLedger(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Ping checks that SQL Server answers; failures match stores.ErrTransient
// when they are connection errors.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return classify(fmt.Errorf("ping: %w", err))
	}
	return nil
}

// pruneBatch bounds the rows one DELETE removes, so pruning a large ledger
// neither escalates to a table lock nor fills the transaction log at once.
const pruneBatch = 5000

func pruneStatement(schema string) string {
	return "DELETE TOP (@batch) FROM " + quote(schema) + "." + quote(ledgerTable) + " WHERE [recorded_at] < @cutoff;"
}

// PruneLedger deletes ledger ids recorded before cutoff, in batches of 5,000
// rows, and returns how many it removed. On error it returns the count
// removed so far with the classified error.
func (s *Store) PruneLedger(ctx context.Context, cutoff time.Time) (int64, error) {
	statement := pruneStatement(s.cfg.schema())
	var total int64
	for {
		res, err := s.db.ExecContext(ctx, statement, sql.Named("batch", int64(pruneBatch)), sql.Named("cutoff", cutoff.UTC()))
		if err != nil {
			return total, classify(fmt.Errorf("prune ledger: %w", err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("prune ledger: %w", err)
		}
		total += n
		if n < pruneBatch {
			return total, nil
		}
	}
}

// Close closes the connection pool.
func (s *Store) Close() error { return s.db.Close() }
