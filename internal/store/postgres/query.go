package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waorders/waorders/internal/store"
)

// dialect is how this driver writes the list queries package store builds.
var dialect = store.Dialect{
	Placeholder: func(n int) string { return "$" + strconv.Itoa(n) },
	Bind: func(v any) any {
		switch v := v.(type) {
		case string:
			return clean(v)
		case time.Time:
			return v.UTC()
		}
		return v
	},
	CustomerSet: customerSet,
}

// queryAll runs sql on the pool, within the store's time bound, and scans
// each row with scan; no rows is an empty slice. Errors are translated by
// interpretError.
func queryAll[T any](ctx context.Context, s *Store, sql string, args []any, scan func(pgx.Row) (T, error)) ([]T, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, interpretError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
	return out, interpretError(err)
}
