package postgres

import (
	"context"
	"errors"
	"io"
	"net"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"

	"github.com/waorders/waorders"
)

// interpretError translates a database error into the contract's terms, by
// SQLSTATE code, never by message text: no rows is CodeNotFound, a
// constraint violation CodeConflict, bad data CodeInvalid, and everything
// that goes away on a retry (connection lost, server shutting down or
// starting, failover to a read-only standby, deadlock, serialization
// failure, timeout) CodeUnavailable, which the service answers with 503
// and Retry-After. Other errors are returned as they are. It is the only
// place the driver looks at database errors.
func interpretError(err error) error {
	if err == nil {
		return nil
	}
	var we *waorders.Error
	if errors.As(err, &we) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return waorders.Wrap(waorders.CodeNotFound, err, "not found")
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch code := pe.Code; {
		case code[:2] == "08", // connection exception
			code[:2] == "53", // insufficient resources (too many connections, disk full)
			code[:2] == "57", // operator intervention (shutdown, cannot connect now, query canceled)
			code == "40001",  // serialization_failure
			code == "40P01",  // deadlock_detected
			code == "25006",  // read_only_sql_transaction: a standby after failover
			code == "55P03":  // lock_not_available
			return unavailable(err)
		case code == "23505": // unique_violation
			return waorders.Wrap(waorders.CodeConflict, err, "The record already exists.")
		case code[:2] == "23": // integrity constraint violation
			return waorders.Wrap(waorders.CodeConflict, err, "The change violates a storage constraint.")
		case code[:2] == "22": // data exception
			return waorders.Wrap(waorders.CodeInvalid, err, "A value cannot be stored.")
		}
		return err
	}
	if lostConnection(err) {
		return unavailable(err)
	}
	return err
}

func unavailable(err error) error {
	return waorders.Wrap(waorders.CodeUnavailable, err, "Storage is unavailable; retry later.")
}

// lostConnection reports whether err says the database could not be
// reached or the connection broke: a failed connect, a network error or
// timeout, the server closing the socket, or an operation on a closed conn.
func lostConnection(err error) bool {
	var ne net.Error
	var ce *pgconn.ConnectError
	return errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &ce) ||
		errors.As(err, &ne) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, puddle.ErrClosedPool) ||
		pgconn.Timeout(err) ||
		pgconn.SafeToRetry(err)
}

// retryable reports whether a failed WriteInbound transaction may be
// run again as a whole: it rolled back for a reason that a new attempt can
// avoid (deadlock, serialization failure), it failed before anything was
// sent, or (when idempotent) its connection broke, as pooled connections
// do when the server restarts. idempotent means every row of the
// transaction has a unique key: running it again is then safe even if the
// lost attempt did commit, and reports duplicates of data that is stored,
// which is still right to acknowledge.
func retryable(err error, idempotent bool) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "40001", "40P01":
			return true
		case "57P01", "57P02", "57P03": // the server is shutting down, crashed, or starting
			return idempotent
		}
		return idempotent && pe.Code[:2] == "08"
	}
	if pgconn.SafeToRetry(err) {
		return true
	}
	return idempotent && lostConnection(err) && !errors.Is(err, context.DeadlineExceeded)
}
