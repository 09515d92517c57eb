package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/waorders/waorders/internal/store/migrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations are the embedded migrations in version order.
var migrations = migrate.MustLoad(migrationFiles, "migrations")

// LatestVersion is the schema version this build migrates to.
func LatestVersion() int { return migrate.Latest(migrations) }

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
) STRICT`

// Migrate applies every migration the database has not had yet, each in its
// own transaction, and records it in schema_migrations. Running it again is
// a no-op; two processes running it at once apply each migration once.
func (s *Store) Migrate(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("migrate: %w", interpretError(err))
	}
	applied, err := migrate.Run(ctx, migrations, migrator{s}, true)
	for _, m := range applied {
		s.log.Info("applied database migration", "version", m.Version, "name", m.Name)
	}
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// migrator is the SQLite migrate.Dialect: each transaction holds the
// write lock (BEGIN IMMEDIATE), so reading the version cannot race another
// migrating process.
type migrator struct{ s *Store }

type migrationTx struct {
	s  *Store
	tx *sql.Tx
}

func (m migrator) Locked(ctx context.Context, fn func(migrate.Tx) error) error {
	return m.s.writeTx(ctx, func(tx *sql.Tx) error { return fn(migrationTx{m.s, tx}) })
}

// Applied looks m up, so a migration whose record was removed runs again.
func (t migrationTx) Applied(ctx context.Context, m migrate.Migration) (bool, error) {
	var n int
	if err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
		return false, interpretError(err)
	}
	return n > 0, nil
}

func (t migrationTx) Apply(ctx context.Context, m migrate.Migration) error {
	if _, err := t.tx.ExecContext(ctx, m.SQL); err != nil {
		return interpretError(err)
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.Version, m.Name, micros(t.s.now())); err != nil {
		return interpretError(err)
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
