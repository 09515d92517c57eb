package postgres_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waorders/waorders/internal/testkit"

	"github.com/waorders/waorders/internal/store/postgres"
)

// schemaPool holds migrated schemas for reuse, as River's riverdbtest does:
// creating and migrating a schema costs far more than emptying one, and
// most tests only need an empty, migrated schema of their own. A test gets
// a schema no running test uses; when it ends, the data tables are
// truncated and the schema goes back to the pool. Tests that need a fresh
// or unmigrated schema (migrations, NoMigrate) use newSchema instead.
var schemaPool struct {
	mu   sync.Mutex
	free []string
	all  []string // dropped by TestMain
}

// pooledSchema returns a migrated, empty schema for tb alone, returned to
// the pool, emptied, when tb ends.
func pooledSchema(tb testing.TB, url string) string {
	tb.Helper()
	schemaPool.mu.Lock()
	var name string
	if n := len(schemaPool.free); n > 0 {
		name, schemaPool.free = schemaPool.free[n-1], schemaPool.free[:n-1]
	}
	schemaPool.mu.Unlock()
	if name == "" {
		name = schemaName()
		s, err := postgres.Open(context.Background(), url, postgres.Options{Schema: name, MaxConns: 1})
		if err != nil {
			tb.Fatalf("migrate pooled schema %s: %v", name, err)
		}
		s.Close()
		schemaPool.mu.Lock()
		schemaPool.all = append(schemaPool.all, name)
		schemaPool.mu.Unlock()
	}
	// Registered before the test opens its store, so it runs after the
	// store's Close (cleanups run last-in first-out).
	tb.Cleanup(func() {
		if err := truncateSchema(url, name); err != nil {
			tb.Errorf("empty pooled schema %s: %v (not reused)", name, err)
			return
		}
		schemaPool.mu.Lock()
		schemaPool.free = append(schemaPool.free, name)
		schemaPool.mu.Unlock()
	})
	return name
}

// truncateSchema empties every table of schema but schema_migrations and
// restarts its sequences, so the next test sees a just-migrated schema.
func truncateSchema(url, schema string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT tablename FROM pg_tables
		WHERE schemaname = $1 AND tablename <> 'schema_migrations' ORDER BY tablename`, schema)
	if err != nil {
		return err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	if len(tables) == 0 {
		return nil
	}
	for i, t := range tables {
		tables[i] = pgx.Identifier{schema, t}.Sanitize()
	}
	_, err = conn.Exec(ctx, `TRUNCATE `+strings.Join(tables, ", ")+` RESTART IDENTITY CASCADE`)
	return err
}

// dropPooledSchemas drops every schema the pool created.
func dropPooledSchemas() {
	schemaPool.mu.Lock()
	defer schemaPool.mu.Unlock()
	if len(schemaPool.all) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, testkit.PostgresURLSetting())
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	for _, name := range schemaPool.all {
		_, _ = conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{name}.Sanitize()+` CASCADE`)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	dropPooledSchemas()
	os.Exit(code)
}
