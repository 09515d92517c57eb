package postgres

import (
	"context"
	"embed"
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"

	"github.com/waorders/waorders/internal/store/migrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations are the embedded migrations in version order.
var migrations = migrate.MustLoad(migrationFiles, "migrations")

// LatestVersion is the schema version this build needs.
func LatestVersion() int { return migrate.Latest(migrations) }

// lockKey is the advisory lock that serialises migrations of one schema
// across every instance and process.
func (s *Store) lockKey() int64 {
	h := fnv.New64a()
	h.Write([]byte("waorders.migrate:" + s.schema))
	return int64(h.Sum64())
}

// Migrate applies every pending migration, all in one transaction that
// first takes a transaction-scoped advisory lock: concurrent instances
// wait for each other, and the ones that come second find nothing to do.
// A failed migration leaves the schema as it was.
func (s *Store) Migrate(ctx context.Context) error {
	var from int
	applied, err := migrate.Run(ctx, migrations, migrator{s, &from}, false)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if len(applied) > 0 {
		s.log.Info("database migrated", "from_version", from, "to_version", applied[len(applied)-1].Version)
	}
	return nil
}

// migrator is the PostgreSQL migrate.Dialect; from receives the version
// the schema was at.
type migrator struct {
	s    *Store
	from *int
}

type migrationTx struct {
	tx   pgx.Tx
	from *int // -1 until read
}

func (m migrator) Locked(ctx context.Context, fn func(migrate.Tx) error) error {
	tx, err := m.s.pool.Begin(ctx)
	if err != nil {
		return interpretError(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) // a no-op after Commit
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, m.s.lockKey()); err != nil {
		return fmt.Errorf("lock: %w", interpretError(err))
	}
	if m.s.schema != "" {
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{m.s.schema}.Sanitize()); err != nil {
			return fmt.Errorf("create schema: %w", interpretError(err))
		}
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer     PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return interpretError(err)
	}
	*m.from = -1
	if err := fn(migrationTx{tx, m.from}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", interpretError(err))
	}
	return nil
}

// Applied compares m with the highest version applied, read once under
// the lock.
func (t migrationTx) Applied(ctx context.Context, m migrate.Migration) (bool, error) {
	if *t.from < 0 {
		if err := t.tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(t.from); err != nil {
			return false, interpretError(err)
		}
	}
	return m.Version <= *t.from, nil
}

func (t migrationTx) Apply(ctx context.Context, m migrate.Migration) error {
	if _, err := t.tx.Exec(ctx, m.SQL); err != nil {
		return interpretError(err)
	}
	if _, err := t.tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
		return fmt.Errorf("record: %w", interpretError(err))
	}
	return nil
}

// SchemaVersion reports the version the database's schema is at (0 when
// it was never migrated) and the version this build needs.
func (s *Store) SchemaVersion(ctx context.Context) (current, latest int, err error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return 0, 0, fmt.Errorf("schema version: %w", interpretError(err))
	}
	if exists {
		if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
			return 0, 0, fmt.Errorf("schema version: %w", interpretError(err))
		}
	}
	return current, LatestVersion(), nil
}
