package sqlite

import (
	"errors"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/switchyard/switchyard/stores"
)

// classify marks errors after which a retry may succeed as transient: the
// database is busy or locked by another connection or process (the primary
// result code, so extended codes such as SQLITE_BUSY_SNAPSHOT count too).
func classify(err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return stores.Transient(err)
		}
	}
	return err
}
