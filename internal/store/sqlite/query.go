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
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, interpretError(err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, interpretError(err)
		}
		out = append(out, v)
	}
	return out, interpretError(rows.Err())
}
