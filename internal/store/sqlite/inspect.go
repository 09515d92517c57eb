package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// inspectedPragmas are the settings WriterPragmas and ReaderPragmas report.
var inspectedPragmas = []string{"journal_mode", "synchronous", "foreign_keys", "busy_timeout", "query_only"}

// WriterPragmas reports the effective settings of the writer connection
// (for diagnostics and tests): journal_mode, synchronous (2 = FULL),
// foreign_keys, busy_timeout and query_only.
func (s *Store) WriterPragmas(ctx context.Context) (map[string]string, error) {
	return pragmas(ctx, s.w)
}

// ReaderPragmas reports the same settings for a connection of the read pool.
func (s *Store) ReaderPragmas(ctx context.Context) (map[string]string, error) {
	return pragmas(ctx, s.r)
}

func pragmas(ctx context.Context, db *sql.DB) (map[string]string, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("pragmas: %w", interpretError(err))
	}
	defer conn.Close()
	out := make(map[string]string, len(inspectedPragmas))
	for _, p := range inspectedPragmas {
		var v string
		if err := conn.QueryRowContext(ctx, "PRAGMA "+p).Scan(&v); err != nil {
			return nil, fmt.Errorf("pragma %s: %w", p, interpretError(err))
		}
		out[p] = v
	}
	return out, nil
}
