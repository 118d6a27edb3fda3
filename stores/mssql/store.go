package mssql

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/golang-sql/civil"
	_ "github.com/microsoft/go-mssqldb" // registers the "sqlserver" driver
	"github.com/microsoft/go-mssqldb/azuread"

	"github.com/switchyard/switchyard/stores"
)

// azureDriverName is the database/sql driver that authenticates with Azure
// AD (the fedauth= DSN parameter).
const azureDriverName = azuread.DriverName

// OpenStore is the stores.RoleOpener of SQL Server ("sqlserver" DSNs); it opens every role alike.
// It is its entry in the adapter table of stores/all.
func OpenStore(ctx context.Context, dsn string, _ stores.Role) (stores.Store, error) {
	st, err := Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	return st, nil
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
// does. It fails with ErrBadDSN for a bad DSN, with an error matching
// stores.ErrTransient when SQL Server cannot be reached, and with an error
// matching ErrUnsupported when the server or database cannot run the
// adapter (see New).
func Open(ctx context.Context, dsn string) (*Store, error) {
	parsed, db, err := connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	st, err := New(ctx, db, parsed.Config)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return st, nil
}

// New returns a store on an open database handle after the cheap checks
// that need no table: the server is SQL Server 2019 or later (or Azure
// SQL) and the database's compatibility level is 130 or higher. It writes
// nothing: the schema, the ledger and the entity tables are created by the
// first Apply that needs them, so a read-only login can open a store to
// read. The store owns db from then on: Close closes it. New fails with an
// error matching ErrUnsupported (a *ServerVersionError or a
// *CompatibilityLevelError, naming what was found and what to do), and
// with a classified driver error when the checks cannot run.
func New(ctx context.Context, db *sql.DB, cfg Config) (*Store, error) {
	s, err := newUnchecked(db, cfg)
	if err != nil {
		return nil, err
	}
	info, err := readServer(ctx, db)
	if err != nil {
		return nil, err
	}
	if err := info.refusal(); err != nil {
		return nil, err
	}
	return s, nil
}

// newUnchecked builds a store without asking the server anything, for
// preflight, which reports what New would refuse instead of refusing.
func newUnchecked(db *sql.DB, cfg Config) (*Store, error) {
	if !validIdentifier(cfg.schema()) {
		return nil, fmt.Errorf("%w: schema %q must match ^[A-Za-z_][A-Za-z0-9_]{0,127}$", ErrBadDSN, cfg.Schema)
	}
	return &Store{db: db, cfg: cfg, tables: tableSet{ready: map[string]bool{}}, pause: pauseFor}, nil
}

// connect parses dsn and returns a pinged connection pool.
func connect(ctx context.Context, dsn string) (DSN, *sql.DB, error) {
	parsed, err := ParseDSN(dsn)
	if err != nil {
		return DSN{}, nil, err
	}
	db, err := sql.Open(parsed.DriverName, parsed.Driver)
	if err != nil {
		return DSN{}, nil, fmt.Errorf("%w: %v", ErrBadDSN, err)
	}
	db.SetMaxOpenConns(parsed.PoolSize)
	db.SetMaxIdleConns(parsed.PoolSize)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close() // the connection error is the one to report
		return DSN{}, nil, classify(fmt.Errorf("connect: %w", err))
	}
	return parsed, db, nil
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
// neither escalates to a table lock (see statementRows) nor fills the
// transaction log at once.
const pruneBatch = statementRows

func pruneStatement(schema string) string {
	return "DELETE TOP (@batch) FROM " + quote(schema) + "." + quote(ledgerTable) + " WHERE [recorded_at] < @cutoff;"
}

// utcDateTime2 is how a time compared with a DATETIME2 column is sent: as
// datetime2(7) holding the UTC wall clock, the type of [recorded_at] and
// [updated_at] and of SYSUTCDATETIME(). go-mssqldb v1.11.2 sends a
// time.Time as datetimeoffset(7) (makeParam, case time.Time, on TDS 7.3 and
// later), which outranks DATETIME2 in SQL Server's data type precedence, so
// the column would be converted for the comparison; civil.DateTime is sent
// as datetime2(7) (makeParamExtra, case civil.DateTime), its wall clock
// encoded as given whatever the connection's time zone.
func utcDateTime2(t time.Time) civil.DateTime { return civil.DateTimeOf(t.UTC()) }

// PruneLedger deletes ledger ids recorded before cutoff, in batches of
// pruneBatch rows, and returns how many it removed. A ledger that was never created
// prunes nothing. On error it returns the count removed so far with the
// classified error.
func (s *Store) PruneLedger(ctx context.Context, cutoff time.Time) (int64, error) {
	statement := pruneStatement(s.cfg.schema())
	var total int64
	for {
		res, err := s.db.ExecContext(ctx, statement, sql.Named("batch", int64(pruneBatch)), sql.Named("cutoff", utcDateTime2(cutoff)))
		if err != nil {
			if isMissingTable(err) {
				missing, cerr := s.missingTables(ctx, []string{ledgerTable})
				if cerr == nil && len(missing) == 1 {
					s.tables.forget(missing)
					return total, nil
				}
			}
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
