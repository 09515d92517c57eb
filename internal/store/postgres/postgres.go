// Package postgres is the PostgreSQL driver of the storage contract, built
// on a pgx v5 connection pool so that many stateless waorders instances can
// share one database.
//
// Every write of a call to WriteInbound goes to the server as one batch
// of set-based statements (arrays unnested into INSERT ... ON CONFLICT DO
// NOTHING), which PostgreSQL runs as one implicit transaction: a group of
// 256 inbound callbacks costs one round trip and one commit. Deduplication is by
// UNIQUE keys only, so concurrent instances never both store the same
// message, and a group whose connection broke can be written again safely.
// The Store's own write methods run in autocommit mode (WriteInbound keeps
// that single round trip); Store.InTx runs several writes in one explicit
// transaction and retries it on a deadlock or serialization failure.
// Migrations are embedded and applied by package migrate under a
// transaction-scoped advisory lock, so instances starting together never
// race.
//
// Errors follow the store contract; a database that cannot be reached, is
// restarting, or is a read-only standby after a failover gives
// CodeUnavailable, within Options.QueryTimeout at most.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/waorders/waorders/internal/store"
)

var _ store.Store = (*Store)(nil)

// Default bounds applied by Open when Options leaves them zero.
const (
	DefaultConnectTimeout = 5 * time.Second
	DefaultQueryTimeout   = 15 * time.Second
)

// Options tune Open. The zero value is usable.
type Options struct {
	// Logger receives driver events (migrations applied, retries). Nil
	// discards them.
	Logger *slog.Logger
	// NowFunc is the clock for times the caller leaves zero. Nil means
	// time.Now.
	NowFunc func() time.Time
	// MaxConns caps the pool; zero keeps pgx's default (or pool_max_conns
	// from the URL).
	MaxConns int32
	// Schema, when set, is the only schema on the search_path of every
	// connection; Migrate creates it if needed. Tests use one per test.
	Schema string
	// NoMigrate makes Open refuse an out-of-date schema instead of
	// migrating it.
	NoMigrate bool
	// ConnectTimeout bounds establishing one connection
	// (DefaultConnectTimeout when zero and the URL sets no connect_timeout).
	ConnectTimeout time.Duration
	// QueryTimeout bounds every call (each page of an export), so an
	// unreachable database is reported as an error quickly
	// (DefaultQueryTimeout when zero).
	QueryTimeout time.Duration
}

// Store is the PostgreSQL implementation of store.Store. It is safe for
// concurrent use.
type Store struct {
	pool         *pgxpool.Pool
	log          *slog.Logger
	now          func() time.Time
	schema       string
	queryTimeout time.Duration

	closeOnce sync.Once
}

// Open connects to the database at url (a postgres:// URL or a libpq
// key=value string), checks that it answers, and migrates its schema, or,
// with opts.NoMigrate, refuses a schema older than this build's.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The parse error may quote the URL, password included.
		return nil, errors.New("postgres: database URL is not valid; expected postgres://user@host:port/db")
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if cfg.ConnConfig.ConnectTimeout == 0 { // no connect_timeout in the URL
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	if opts.ConnectTimeout > 0 {
		cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	}
	if opts.Schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{opts.Schema}.Sanitize()
	}

	s := &Store{
		log:          opts.Logger,
		now:          opts.NowFunc,
		schema:       opts.Schema,
		queryTimeout: opts.QueryTimeout,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.queryTimeout <= 0 {
		s.queryTimeout = DefaultQueryTimeout
	}
	s.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open pool: %w", err)
	}
	if err := s.open(ctx, opts.NoMigrate); err != nil {
		s.pool.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) open(ctx context.Context, noMigrate bool) error {
	pctx, cancel := s.bound(ctx)
	defer cancel()
	if err := s.pool.Ping(pctx); err != nil {
		return fmt.Errorf("postgres: connect: %w", interpretError(err))
	}
	if !noMigrate {
		if err := s.Migrate(ctx); err != nil {
			return err
		}
		return nil
	}
	current, latest, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	switch {
	case current < latest:
		return fmt.Errorf("postgres: database schema is at version %d but this waorders needs version %d: run `waorders migrate` (or start serve with --migrate)", current, latest)
	case current > latest:
		s.log.Warn("database schema is newer than this waorders; upgrade waorders", "schema_version", current, "known_version", latest)
	}
	return nil
}

// bound applies the query timeout to ctx.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.queryTimeout)
}

// nowUTC returns the store's clock in UTC.
func (s *Store) nowUTC() time.Time { return s.now().UTC() }

// Ping checks that the database answers and accepts a durable write: it
// rewrites the heartbeat row, which fails on a read-only standby.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx,
		`INSERT INTO heartbeat (id, at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET at = excluded.at`,
		s.nowUTC())
	if err != nil {
		return fmt.Errorf("ping: %w", interpretError(err))
	}
	return nil
}

// Close closes the pool, waiting for connections in use to be released. It
// is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(s.pool.Close)
	return nil
}
