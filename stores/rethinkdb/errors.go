package rethinkdb

import (
	"context"
	"errors"
	"io"
	"net"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/switchyard/switchyard/stores"
)

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
