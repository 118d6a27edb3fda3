package rethinkdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/switchyard/switchyard/stores"
)

// ErrReadOnly matches the errors of writes to a store opened as a source.
var ErrReadOnly = errors.New("store opened as a source is read only")

// ErrNoDatabase: a source's database does not exist. A source creates
// nothing, so this is a misconfigured DSN rather than an empty store.
var ErrNoDatabase = errors.New("rethinkdb database does not exist")

// CollisionError says that legacy documents already hold fields this store
// would read as its own bookkeeping, while the operator left those fields
// at their default names. Reading them would turn application data into
// versions and tombstones, so a source refuses to open.
type CollisionError struct {
	// Database and Table locate the documents.
	Database, Table string
	// Fields are the bookkeeping fields found in the documents.
	Fields []string
	// Count is how many of the Sampled documents hold one of them.
	Count, Sampled int
	// SampleKey is the primary key of one such document.
	SampleKey any
}

func (e *CollisionError) Error() string {
	return fmt.Sprintf("table %s.%s: %d of the %d documents sampled (e.g. key %s) already hold the field(s) %s, which this store would read as its own bookkeeping; "+
		"if Switchyard wrote them, name the fields explicitly in the DSN (version_field, deleted_field, updated_field, added_field); otherwise name other, unused fields",
		e.Database, e.Table, e.Count, e.Sampled, describeKey(e.SampleKey), strings.Join(e.Fields, ", "))
}

// Is makes errors.Is(err, stores.ErrSchemaMismatch) true.
func (e *CollisionError) Is(target error) bool { return target == stores.ErrSchemaMismatch }

// NonStringKeysError says that a table holds documents whose primary key
// is not a string. No store can key such a record, and skipping it would
// lose it silently, so Scan and Checksum (and so the backfill and verify)
// fail with this error instead.
type NonStringKeysError struct {
	// Database and Table locate the documents.
	Database, Table string
	// Count is how many documents have a key that is not a string.
	Count int64
	// SampleKey is one of those keys, as the driver decoded it.
	SampleKey any
}

func (e *NonStringKeysError) Error() string {
	return fmt.Sprintf("table %s.%s: %d documents have a primary key that is not a string (e.g. %s); Switchyard migrates string keys only: convert those keys in the application before migrating",
		e.Database, e.Table, e.Count, describeKey(e.SampleKey))
}

// Is makes errors.Is(err, stores.ErrSchemaMismatch) true.
func (e *NonStringKeysError) Is(target error) bool { return target == stores.ErrSchemaMismatch }

func describeKey(k any) string {
	if s, ok := k.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	if b, err := marshal(k); err == nil {
		return fmt.Sprintf("%s (%T)", b, k)
	}
	return fmt.Sprintf("%v (%T)", k, k)
}

// classify marks err transient when the driver or the server says a retry
// may help: lost or refused connections, timeouts, and availability errors
// (no primary replica, an indeterminate write during a failover). It
// matches error values and types, never message text; context cancellation
// stays as it is.
func classify(err error) error {
	if err == nil || stores.IsTransient(err) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var (
		connErr          r.RQLConnectionError
		timeoutErr       r.RQLTimeoutError
		availErr         r.RQLAvailabilityError
		opFailedErr      r.RQLOpFailedError
		indeterminateErr r.RQLOpIndeterminateError
		netErr           net.Error
	)
	switch {
	case errors.Is(err, r.ErrConnectionClosed),
		errors.Is(err, r.ErrNoConnections),
		errors.Is(err, r.ErrNoConnectionsStarted),
		errors.Is(err, r.ErrQueryTimeout),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.As(err, &connErr),
		errors.As(err, &timeoutErr),
		errors.As(err, &availErr),
		errors.As(err, &opFailedErr),
		errors.As(err, &indeterminateErr),
		errors.As(err, &netErr):
		return stores.Transient(err)
	}
	return err
}

// isOpFailed reports an OP_FAILED error, which RethinkDB returns both for a
// missing table and for an unavailable one; callers tell them apart by
// asking for the table list.
func isOpFailed(err error) bool {
	var opFailedErr r.RQLOpFailedError
	return errors.As(err, &opFailedErr)
}
