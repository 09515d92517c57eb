// Package sqlite is the embedded storage driver of waorders: the store
// contract on one SQLite file, through the pure-Go modernc.org/sqlite driver.
//
// The file runs in WAL mode with synchronous=FULL, so a committed
// transaction has reached the disk before any acknowledgement is sent. All
// writes go through one connection (SQLite allows one writer at a time, and
// queuing in Go is cheaper than SQLITE_BUSY retries), and a store.Tx of
// InTx is a transaction on that connection; reads use a separate
// pool of query-only connections that never wait for the writer; a third
// connection copies committed pages back into the database file in the
// background (checkpoint.go).
//
// The cost of a durable write is mostly the pages it dirties: each is
// written to the WAL (two syscalls) and later checkpointed. Pages of tables
// and indexes keyed by something increasing are shared by a whole batch,
// but every index on a random key (a wamid, a request id, a customer) costs
// about one page per insert. The schema therefore keys child rows by an
// increasing seq, has one random-key index per dedup key and a single
// index by customer, keeps an order's first total in its own row, stores
// the raw JSON of messages and statuses as spans of the callback body it
// was cut from, and derives each order's creation history entry.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/waorders/waorders/internal/store"
)

// DefaultReadConns is the size of the read pool when Options.ReadConns is 0.
const DefaultReadConns = 4

// DefaultBusyTimeout is how long a connection waits for a lock held by
// another process (such as `waorders migrate`) before failing.
const DefaultBusyTimeout = 5 * time.Second

// Options configures Open. The zero value is ready to use.
type Options struct {
	// Logger receives migration and shutdown messages; nil discards them.
	Logger *slog.Logger
	// NowFunc is the clock; nil means time.Now.
	NowFunc func() time.Time
	// ReadConns is the size of the read pool; 0 means DefaultReadConns.
	ReadConns int
	// BusyTimeout bounds waits for locks held by other processes; 0 means
	// DefaultBusyTimeout.
	BusyTimeout time.Duration
	// NoMigrate makes Open refuse a database whose schema is older than this
	// build instead of migrating it.
	NoMigrate bool
}

// Store is the SQLite implementation of store.Store. It is safe for
// concurrent use.
type Store struct {
	path string
	w    *sql.DB // the single writer connection
	r    *sql.DB // the query-only read pool
	log  *slog.Logger
	now  func() time.Time

	stmts *writeStmts
	ckpt  *checkpointer

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it and its directory if needed) the database file at
// path and, unless opts.NoMigrate is set, migrates it to the latest schema.
// With NoMigrate an out-of-date schema is an error that says to run
// `waorders migrate`. A schema newer than this build is always an error.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file::memory:") {
		return nil, fmt.Errorf("open sqlite: %q is not a database file path", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("open sqlite: create directory: %w", err)
	}
	if err := createPrivate(abs); err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	s := &Store{path: abs, log: opts.Logger, now: opts.NowFunc}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = DefaultBusyTimeout
	}
	readConns := opts.ReadConns
	if readConns <= 0 {
		readConns = DefaultReadConns
	}

	if err := s.openPools(ctx, busy, readConns); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.prepareSchema(ctx, opts.NoMigrate); err != nil {
		s.Close()
		return nil, err
	}
	if s.stmts, err = prepareWriteStmts(ctx, s.w); err != nil {
		s.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	if s.ckpt, err = startCheckpointer(s.path, busy, s.log); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// createPrivate creates the database file with mode 0600 when it does not
// exist yet. SQLite would create it with 0666 less the umask (usually
// 0644: readable by every local user), and gives its -wal and -shm files
// the mode of the database file, so creating the file first keeps all
// three private to the service's user. An existing file keeps its mode.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database file: %w", err)
	}
	return f.Close()
}

func (s *Store) openPools(ctx context.Context, busy time.Duration, readConns int) error {
	var err error
	s.w, err = sql.Open("sqlite", dsn(s.path, busy, roleWriter))
	if err != nil {
		return fmt.Errorf("open sqlite %s: %w", s.path, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	// The first connection applies journal_mode=WAL, which persists in the
	// file, before any reader opens it.
	var mode string
	if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("open sqlite %s: %w", s.path, interpretError(err))
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("open sqlite %s: journal mode is %q, not wal (is the file on a network filesystem?)", s.path, mode)
	}

	s.r, err = sql.Open("sqlite", dsn(s.path, busy, roleReader))
	if err != nil {
		return fmt.Errorf("open sqlite %s: %w", s.path, err)
	}
	s.r.SetMaxOpenConns(readConns)
	s.r.SetMaxIdleConns(readConns)
	s.r.SetConnMaxLifetime(0)
	s.r.SetConnMaxIdleTime(0)
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("open sqlite %s: %w", s.path, interpretError(err))
	}
	return nil
}

// role is what a connection is for; each gets its own settings.
type role int

const (
	roleWriter role = iota
	roleReader
	roleCheckpointer
)

// dsn builds the modernc DSN of a connection. The path is sent as a file:
// URI so that any character in it is safe.
func dsn(abs string, busy time.Duration, r role) string {
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(busy.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "temp_store(memory)")
	// An acknowledgement follows the commit, so the commit must be on
	// disk; a checkpoint syncs the database file before the WAL is reused.
	q.Add("_pragma", "synchronous(full)")
	switch r {
	case roleWriter:
		q.Add("_pragma", "journal_mode(wal)")
		// 16 MB of pages (about 32 MB resident with modernc's allocator).
		q.Add("_pragma", "cache_size(-16000)")
		q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", backstopCheckpoint))
		q.Add("_pragma", "journal_size_limit(67108864)")
		// Take the write lock at BEGIN: a transaction never fails halfway
		// when another process holds the lock, it waits busy_timeout.
		q.Set("_txlock", "immediate")
	case roleReader:
		q.Add("_pragma", "query_only(1)")
	case roleCheckpointer:
		q.Add("_pragma", "wal_autocheckpoint(0)")
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	return "file:" + u.EscapedPath() + "?" + q.Encode()
}

// Path returns the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Ping checks that the database answers reads and accepts a durable write.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite: %w", interpretError(err))
	}
	_, err := s.w.ExecContext(ctx,
		`INSERT INTO heartbeat (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at`,
		micros(s.now()))
	if err != nil {
		return fmt.Errorf("ping sqlite: %w", interpretError(err))
	}
	return nil
}

// Close optimises the query planner statistics and closes both pools. It is
// safe to call more than once; later calls return the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.ckpt != nil {
			errs = append(errs, s.ckpt.close())
		}
		if s.stmts != nil {
			errs = append(errs, s.stmts.close())
		}
		if s.w != nil {
			if _, err := s.w.Exec("PRAGMA optimize"); err != nil {
				s.log.Debug("sqlite optimize on close", "err", err)
			}
			errs = append(errs, s.w.Close())
		}
		if s.r != nil {
			errs = append(errs, s.r.Close())
		}
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("close sqlite: %w", err)
		}
	})
	return s.closeErr
}

// readTx runs fn in a read transaction, so that its queries see one snapshot.
func (s *Store) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return interpretError(err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to undo
	// Every read error is classified, so a failing disk answers 503 with
	// Retry-After instead of 500.
	return interpretError(fn(tx))
}

// writeTx runs fn in a write transaction on the writer connection and
// commits it when fn returns nil. It rolls back when fn fails or panics, so
// the one writer connection is never left inside a transaction.
func (s *Store) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return interpretError(err)
	}
	committing := false
	defer func() {
		if !committing {
			_ = tx.Rollback() // fn failed or panicked
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	committing = true
	if err := tx.Commit(); err != nil {
		return interpretError(err)
	}
	return nil
}
