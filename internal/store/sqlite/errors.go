package sqlite

import (
	"database/sql"
	"database/sql/driver"
	"errors"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/waorders/waorders"
)

// interpretError translates a database error into the store's error
// contract, by SQLite result code, never by message text: a constraint
// violation is CodeConflict, and a busy, locked, full, read-only or failing
// database is CodeUnavailable (the caller may retry later). Other errors are
// returned as they are. sql.ErrNoRows is translated by notFound instead,
// which knows what was looked up.
func interpretError(err error) error {
	if err == nil {
		return nil
	}
	var we *waorders.Error
	if errors.As(err, &we) {
		return err // already translated
	}
	if errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn) {
		return waorders.Wrap(waorders.CodeUnavailable, err, "Storage is unavailable; retry later.")
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	code := se.Code()
	switch code & 0xff {
	case sqlite3.SQLITE_CONSTRAINT:
		if code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
			return waorders.Wrap(waorders.CodeConflict, err, "The record already exists.")
		}
		return waorders.Wrap(waorders.CodeConflict, err, "The change violates a storage constraint.")
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR,
		sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_NOLFS:
		return waorders.Wrap(waorders.CodeUnavailable, err, "Storage is unavailable; retry later.")
	}
	return err
}

// notFound returns a CodeNotFound error with message when err is
// sql.ErrNoRows, and interpretError(err) otherwise.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return waorders.Errorf(waorders.CodeNotFound, format, args...)
	}
	return interpretError(err)
}
