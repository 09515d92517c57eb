package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in order. Their numbers must
// run 1, 2, 3, ... without gaps.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name is not NNNN_name.sql", e.Name())
		}
		body, err := fs.ReadFile(migrationFiles, path.Join("migrations", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{version: v, name: name, sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %04d_%s: expected number %04d", m.version, m.name, i+1)
		}
	}
	return ms, nil
}

// LatestVersion is the schema version this build migrates to.
func LatestVersion() int {
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
) STRICT`

// Migrate applies every migration the database has not had yet, each in its
// own transaction, and records it in schema_migrations. Running it again is
// a no-op; two processes running it at once apply each migration once.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	if _, err := s.w.ExecContext(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("migrate: %w", interpretError(err))
	}
	for _, m := range ms {
		applied := false
		err := s.writeTx(ctx, func(tx *sql.Tx) error {
			// The transaction holds the write lock (BEGIN IMMEDIATE), so this
			// check cannot race another migrating process.
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
				return interpretError(err)
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return interpretError(err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, micros(s.now())); err != nil {
				return interpretError(err)
			}
			applied = true
			return nil
		})
		if err != nil {
			return fmt.Errorf("migrate %04d_%s: %w", m.version, m.name, err)
		}
		if applied {
			s.log.Info("applied database migration", "version", m.version, "name", m.name)
		}
	}
	return nil
}

// SchemaVersion reports the schema version of the database (0 for an empty
// database) and the latest version this build knows.
func (s *Store) SchemaVersion(ctx context.Context) (current, latest int, err error) {
	latest = LatestVersion()
	var n int
	if err := s.r.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&n); err != nil {
		return 0, latest, fmt.Errorf("schema version: %w", interpretError(err))
	}
	if n == 0 {
		return 0, latest, nil
	}
	if err := s.r.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return 0, latest, fmt.Errorf("schema version: %w", interpretError(err))
	}
	return current, latest, nil
}

// prepareSchema migrates the database, or with noMigrate checks that it is
// up to date.
func (s *Store) prepareSchema(ctx context.Context, noMigrate bool) error {
	current, latest, err := s.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("open sqlite %s: %w", s.path, err)
	}
	switch {
	case current > latest:
		return fmt.Errorf("open sqlite %s: database schema version %d is newer than this build of waorders knows (%d); upgrade waorders", s.path, current, latest)
	case current == latest:
		return nil
	case noMigrate:
		return fmt.Errorf("open sqlite %s: database schema version %d is older than this build needs (%d); run `waorders migrate` first", s.path, current, latest)
	}
	if err := s.Migrate(ctx); err != nil {
		return fmt.Errorf("open sqlite %s: %w", s.path, err)
	}
	return nil
}
