package mssql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	mssqldb "github.com/microsoft/go-mssqldb"

	"github.com/switchyard/switchyard/stores"
)

// SQL Server error numbers this package acts on.
const (
	errDeadlockVictim   = 1205 // chosen as deadlock victim: re-run the batch
	errInvalidObject    = 208  // the table does not exist
	errObjectExists     = 2714 // a concurrent creator won the race
	errLockTimeout      = 1222 // lock request time out period exceeded
	errCannotOpenDB     = 4060 // database unavailable (restore, failover)
	errLoginFailedDBUse = 4221 // login during a failover of an availability group
)

// transientNumbers are server errors after which waiting and retrying may
// succeed: deadlocks, lock timeouts, failovers and the transport errors
// SQL Server reports as error numbers (the Azure SQL transient list).
var transientNumbers = map[int32]bool{
	errDeadlockVictim: true, errLockTimeout: true, errCannotOpenDB: true, errLoginFailedDBUse: true,
	233: true, 10053: true, 10054: true, 10060: true, 10928: true, 10929: true,
	40143: true, 40197: true, 40501: true, 40540: true, 40613: true,
	49918: true, 49919: true, 49920: true,
}

// serverErrorNumber returns the SQL Server error number in err's chain.
func serverErrorNumber(err error) (int32, bool) {
	var sqlErr mssqldb.Error
	if errors.As(err, &sqlErr) {
		return sqlErr.Number, true
	}
	return 0, false
}

func isDeadlock(err error) bool {
	n, ok := serverErrorNumber(err)
	return ok && n == errDeadlockVictim
}

// isMissingTable reports an error 208 (invalid object name). Reads name
// only their table, so there it means the table is missing; the apply
// batch also names OPENJSON, which is missing below compatibility level
// 130, so Apply confirms first (see explainMissing).
func isMissingTable(err error) bool {
	n, ok := serverErrorNumber(err)
	return ok && n == errInvalidObject
}

// classify marks err transient when SQL Server or the network says a retry
// may help, by error number and by type, never by message text. Context
// cancellation is the caller's decision and stays as it is.
func classify(err error) error {
	if err == nil || stores.IsTransient(err) {
		return err
	}
	// context.DeadlineExceeded satisfies net.Error: test for it first.
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if n, ok := serverErrorNumber(err); ok {
		if transientNumbers[n] {
			return stores.Transient(err)
		}
		return err
	}
	var netErr net.Error
	var streamErr mssqldb.StreamError
	switch {
	case errors.Is(err, driver.ErrBadConn),
		errors.As(err, &netErr),
		errors.As(err, &streamErr),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF):
		return stores.Transient(err)
	}
	return err
}

// tableExistsQuery tells whether a table exists: OBJECT_ID returns NULL for
// a missing object (or one the login may not see).
const tableExistsQuery = `SELECT OBJECT_ID(@object, N'U');`

// missingTables returns those of tables (entity names or the ledger) that
// do not exist in the store's schema, one query each: it runs only after
// an error 208.
func (s *Store) missingTables(ctx context.Context, tables []string) ([]string, error) {
	var missing []string
	for _, table := range tables {
		var id sql.NullInt64
		object := quote(s.cfg.schema()) + "." + quote(table)
		if err := s.db.QueryRowContext(ctx, tableExistsQuery, sql.Named("object", object)).Scan(&id); err != nil {
			return nil, classify(fmt.Errorf("look up table %s: %w", object, err))
		}
		if !id.Valid {
			missing = append(missing, table)
		}
	}
	return missing, nil
}

// explainMissing turns an apply's error 208 (invalid object name) into
// what it is. SQL Server raises 208 for any name it cannot resolve: a
// dropped table, and also OPENJSON in a database whose compatibility level
// was lowered below 130 after the store opened. Only a table confirmed
// missing (OBJECT_ID) is a dropped table: it is forgotten so the retry
// creates it again, and the error is transient. Otherwise the level is
// read again, and a level below 130 fails with a *CompatibilityLevelError;
// any other 208 stays a permanent error, never retried forever.
func (s *Store) explainMissing(ctx context.Context, entities []string, err error) error {
	missing, lookupErr := s.missingTables(ctx, append([]string{ledgerTable}, entities...))
	if lookupErr != nil {
		return classify(fmt.Errorf("%w (and confirming that a table is missing failed: %v)", err, lookupErr))
	}
	if len(missing) > 0 {
		s.tables.forget(missing)
		return stores.Transient(fmt.Errorf("%w: table %s was dropped; it is created again on the next attempt", err, strings.Join(missing, ", ")))
	}
	info, infoErr := readServer(ctx, s.db)
	if infoErr != nil {
		return classify(fmt.Errorf("%w (and reading the compatibility level failed: %v)", err, infoErr))
	}
	var cle *CompatibilityLevelError
	if refusal := info.refusal(); errors.As(refusal, &cle) {
		return fmt.Errorf("%w: %w", err, refusal)
	}
	return fmt.Errorf("%w: every table exists, so this is not a dropped table", err)
}
