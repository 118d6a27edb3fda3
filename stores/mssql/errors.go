package mssql

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"

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
