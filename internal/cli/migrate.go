package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"

	"github.com/waorders/waorders/internal/config"
)

const migrateSynopsis = `Usage: waorders migrate [--database-url URL]

Applies the embedded database migrations and prints the schema version.
On PostgreSQL, run it once per upgrade before starting the new version (or
start serve with --migrate); instances take an advisory lock, so running it
from several places at once is safe. SQLite databases migrate on serve.`

func runMigrate(ctx context.Context, env Env, args []string) error {
	var cfg config.Serve
	fs := newFlagSet(env, "migrate", migrateSynopsis, args)
	fs.StringVar(&cfg.ConfigFile, "config", "", "read settings from this `file`")
	fs.StringVar(&cfg.DatabaseURL, "database-url", config.DefaultDatabaseURL, "storage: a SQLite file `path`, sqlite:///abs/path.db, or postgres://user@host/db")
	if err := config.Resolve(fs, args, env.Getenv, config.ServeSecrets); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	cfg.DBMaxConns = 2
	log := newLogger(env.Stderr, "info", "text")
	st, err := openStore(ctx, &cfg, log, false)
	if err != nil {
		return err
	}
	defer st.Close()
	if v, ok := st.(interface {
		SchemaVersion(context.Context) (int, int, error)
	}); ok {
		cur, latest, err := v.SchemaVersion(ctx)
		if err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		fmt.Fprintf(env.Stdout, "schema is at version %d (this build's latest: %d)\n", cur, latest)
	}
	log.Debug("migrate done", slog.String("storage", cfg.Driver()))
	return nil
}
