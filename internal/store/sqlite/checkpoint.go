package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"
)

// checkpointGap is the least time between two background checkpoints.
const checkpointGap = 100 * time.Millisecond

// backstopCheckpoint is the WAL size, in pages, at which the writer itself
// checkpoints. The background checkpointer keeps the WAL far below it, but
// under a never-ending stream of commits only a checkpoint run by the
// writer lets the WAL restart from its beginning.
const backstopCheckpoint = 20000

// checkpointer copies committed WAL frames back into the database file on
// a connection of its own, shortly after commits, so that no commit (and no
// acknowledgement waiting on it) pays for copying thousands of pages.
type checkpointer struct {
	db   *sql.DB
	log  *slog.Logger
	kick chan struct{}
	stop context.CancelFunc
	done chan struct{}
}

func startCheckpointer(path string, busy time.Duration, log *slog.Logger) (*checkpointer, error) {
	db, err := sql.Open("sqlite", dsn(path, busy, roleCheckpointer))
	if err != nil {
		return nil, fmt.Errorf("open sqlite checkpointer: %w", err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: db, log: log, kick: make(chan struct{}, 1), stop: cancel, done: make(chan struct{})}
	go c.run(ctx)
	return c, nil
}

// notify asks for a checkpoint soon; it never blocks.
func (c *checkpointer) notify() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	gap := time.NewTimer(0)
	defer gap.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.kick:
		}
		var busy, logFrames, done int
		// PASSIVE copies what it can without waiting for readers or the writer.
		err := c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &done)
		if err != nil && ctx.Err() == nil {
			c.log.Warn("sqlite background checkpoint failed", "err", err)
		}
		gap.Reset(checkpointGap)
		select {
		case <-ctx.Done():
			return
		case <-gap.C:
		}
	}
}

// close stops the checkpointer and closes its connection.
func (c *checkpointer) close() error {
	c.stop()
	<-c.done
	return c.db.Close()
}
