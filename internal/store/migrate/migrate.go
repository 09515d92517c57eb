// Package migrate is the one migration runner of the storage drivers. A
// driver embeds its numbered NNNN_name.sql files; Load reads, orders and
// validates them once, and Run applies the pending ones through the
// driver's Dialect, which keeps what is dialect-specific: how migrators are
// serialised (PostgreSQL's advisory lock, SQLite's BEGIN IMMEDIATE) and how
// versions are recorded.
package migrate

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
)

// Migration is one numbered schema change.
type Migration struct {
	Version int
	Name    string // the file name without number and .sql
	SQL     string
}

// Load reads the files NNNN_name.sql at the root of fsys, in version order.
// Versions must run 1, 2, 3, ... without gaps or repeats.
func Load(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []Migration
	for _, name := range names {
		num, rest, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || rest == "" {
			return nil, fmt.Errorf("migration %s: name is not NNNN_name.sql", name)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		ms = append(ms, Migration{Version: v, Name: rest, SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %04d_%s: expected number %04d", m.Version, m.Name, i+1)
		}
	}
	return ms, nil
}

// MustLoad is Load for embedded files, which cannot be wrong at run time
// once a test has loaded them: it panics on an error.
func MustLoad(fsys fs.FS, dir string) []Migration {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	ms, err := Load(sub)
	if err != nil {
		panic(err)
	}
	return ms
}

// Latest is the version ms migrate to (0 for none).
func Latest(ms []Migration) int { return len(ms) }

// Dialect is what a driver contributes to Run.
type Dialect interface {
	// Locked runs fn in one transaction that holds the lock serialising
	// every migrator of the database, and commits it when fn returns nil.
	Locked(ctx context.Context, fn func(tx Tx) error) error
}

// Tx is a Dialect's migration transaction.
type Tx interface {
	// Applied reports whether m was applied already. (SQLite looks m up,
	// so a migration whose record was removed runs again; PostgreSQL
	// compares with the highest version applied.)
	Applied(ctx context.Context, m Migration) (bool, error)
	// Apply runs m and records it as applied.
	Apply(ctx context.Context, m Migration) error
}

// Run applies every migration of ms the schema has not had, in order, and
// returns those it applied. With perMigration each migration runs in a
// Locked transaction of its own; otherwise all run in one, so a failure
// leaves the schema as it was. Migrators running at once each apply a
// migration at most once, as the version is read under the lock.
func Run(ctx context.Context, ms []Migration, d Dialect, perMigration bool) ([]Migration, error) {
	var applied []Migration
	apply := func(tx Tx, todo []Migration) error {
		var done []Migration
		for _, m := range todo {
			ok, err := tx.Applied(ctx, m)
			if err != nil {
				return fmt.Errorf("read version: %w", err)
			}
			if ok {
				continue
			}
			if err := tx.Apply(ctx, m); err != nil {
				return fmt.Errorf("apply %04d_%s: %w", m.Version, m.Name, err)
			}
			done = append(done, m)
		}
		applied = append(applied, done...)
		return nil
	}
	if !perMigration {
		err := d.Locked(ctx, func(tx Tx) error { return apply(tx, ms) })
		if err != nil {
			return nil, err
		}
		return applied, nil
	}
	for i := range ms {
		if err := d.Locked(ctx, func(tx Tx) error { return apply(tx, ms[i:i+1]) }); err != nil {
			return applied, err
		}
	}
	return applied, nil
}
