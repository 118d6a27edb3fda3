package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchyard/switchyard/stores"
)

// transientCodes are SQLSTATEs after which retrying the same call may
// succeed: serialization failures, deadlocks, lock timeouts, a server
// shutting down or starting, too many connections.
var transientCodes = map[string]bool{
	"40001": true, // serialization_failure
	"40P01": true, // deadlock_detected
	"55P03": true, // lock_not_available
	"57P01": true, // admin_shutdown
	"57P02": true, // crash_shutdown
	"57P03": true, // cannot_connect_now
	"53300": true, // too_many_connections
	"58000": true, // system_error
	"58030": true, // io_error
}

// classify marks errors after which waiting and retrying may help as
// stores.Transient: the server-side codes above, any connection exception
// (class 08), and lost or refused connections seen by the client.
// Cancellation by the caller is not transient.
func classify(err error) error {
	if err == nil || stores.IsTransient(err) || errors.Is(err, context.Canceled) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		if transientCodes[pgErr.Code] || strings.HasPrefix(pgErr.Code, "08") {
			return stores.Transient(err)
		}
		return err
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connectErr),
		errors.As(err, &netErr),
		pgconn.SafeToRetry(err),
		pgconn.Timeout(err),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		errors.Is(err, net.ErrClosed):
		return stores.Transient(err)
	}
	return err
}

// isCatalogRace reports whether a CREATE ... IF NOT EXISTS lost a race
// with a concurrent identical CREATE: PostgreSQL then fails with a unique
// violation on its catalog or a duplicate object instead of skipping.
func isCatalogRace(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "23505" || pgErr.Code == "42P07" || pgErr.Code == "42710")
}
