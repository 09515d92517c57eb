package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/waorders/waorders/internal/store"
)

// dialect is how this driver writes the list queries package store builds.
var dialect = store.Dialect{
	Placeholder: func(int) string { return "?" },
	Bind: func(v any) any {
		if t, ok := v.(time.Time); ok {
			return micros(t)
		}
		return v
	},
	CustomerSet: customerSet,
}

// scanner is a row to scan: *sql.Row or *sql.Rows.
type scanner = interface{ Scan(...any) error }

// queryer is a pool or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryAll runs query on db and scans each row with scan; no rows is an
// empty slice. Errors are translated by interpretError.
func queryAll[T any](ctx context.Context, db queryer, query string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	out := []T{}
	err := eachRow(ctx, db, query, args, func(sc scanner) error {
		v, err := scan(sc)
		out = append(out, v)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachRow runs query on db and calls fn with each row, until fn fails.
// Errors are translated by interpretError.
func eachRow(ctx context.Context, db queryer, query string, args []any, fn func(scanner) error) error {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return interpretError(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return interpretError(err)
		}
	}
	return interpretError(rows.Err())
}
