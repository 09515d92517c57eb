package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

const userColumns = `id, username, role, password_hash, disabled, must_change_password, created_at, updated_at`

func scanUser(row pgx.Row) (*store.User, error) {
	var u store.User
	if err := row.Scan(&u.ID, &u.Username, &u.Role, &u.PasswordHash, &u.Disabled, &u.MustChangePassword, &u.CreatedAt, &u.UpdatedAt); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return &u, nil
}

func getUser(ctx context.Context, q querier, username string) (*store.User, error) {
	u, err := scanUser(q.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE username = $1`, username))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, waorders.Errorf(waorders.CodeNotFound, "user %q not found", username)
	}
	if err != nil {
		return nil, fmt.Errorf("get user: %w", interpretError(err))
	}
	return u, nil
}

// GetUser implements store.Users.
func (s *Store) GetUser(ctx context.Context, username string) (*store.User, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return getUser(ctx, s.pool, username)
}

// ListUsers implements store.Users.
func (s *Store) ListUsers(ctx context.Context) ([]*store.User, error) {
	out, err := queryAll(ctx, s, `SELECT `+userColumns+` FROM users ORDER BY username`, nil, scanUser)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// CountUsers implements store.Users.
func (s *Store) CountUsers(ctx context.Context) (int64, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", interpretError(err))
	}
	return n, nil
}

// GetSession implements store.Users.
func (s *Store) GetSession(ctx context.Context, id string, now time.Time) (*store.Session, *store.User, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var (
		ss store.Session
		u  store.User
	)
	err := s.pool.QueryRow(ctx, `SELECT s.id, s.user_id, s.created_at, s.expires_at,
       u.id, u.username, u.role, u.password_hash, u.disabled, u.must_change_password, u.created_at, u.updated_at
  FROM sessions s JOIN users u ON u.id = s.user_id
 WHERE s.id = $1 AND s.expires_at > $2 AND NOT u.disabled`, id, now.UTC()).Scan(
		&ss.ID, &ss.UserID, &ss.CreatedAt, &ss.ExpiresAt,
		&u.ID, &u.Username, &u.Role, &u.PasswordHash, &u.Disabled, &u.MustChangePassword, &u.CreatedAt, &u.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, waorders.Errorf(waorders.CodeNotFound, "session not found or expired")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get session: %w", interpretError(err))
	}
	ss.CreatedAt, ss.ExpiresAt = ss.CreatedAt.UTC(), ss.ExpiresAt.UTC()
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return &ss, &u, nil
}

// CreateUser implements store.Store. See tx.CreateUser.
func (s *Store) CreateUser(ctx context.Context, p store.CreateUserParams) (u *store.User, err error) {
	err = s.autocommit(func(tx store.Tx) error { u, err = tx.CreateUser(ctx, p); return err })
	return u, err
}

// UpdateUser implements store.Store. See tx.UpdateUser.
func (s *Store) UpdateUser(ctx context.Context, p store.UpdateUserParams) (u *store.User, err error) {
	err = s.InTx(ctx, func(tx store.Tx) error { u, err = tx.UpdateUser(ctx, p); return err })
	return u, err
}

// CreateSession implements store.Store. See tx.CreateSession.
func (s *Store) CreateSession(ctx context.Context, ss store.Session) error {
	return s.autocommit(func(tx store.Tx) error { return tx.CreateSession(ctx, ss) })
}

// DeleteSessions implements store.Store. See tx.DeleteSessions.
func (s *Store) DeleteSessions(ctx context.Context, p store.DeleteSessionsParams) (n int64, err error) {
	err = s.autocommit(func(tx store.Tx) error { n, err = tx.DeleteSessions(ctx, p); return err })
	return n, err
}

// CreateUser implements store.UsersTx.
func (t *tx) CreateUser(ctx context.Context, p store.CreateUserParams) (*store.User, error) {
	if err := t.guard.Check(); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	at := p.At
	if at.IsZero() {
		at = t.s.nowUTC()
	}
	ctx, cancel := t.s.bound(ctx)
	defer cancel()
	u, err := scanUser(t.q().QueryRow(ctx, `INSERT INTO users (username, role, password_hash, disabled, must_change_password, created_at, updated_at)
VALUES ($1, $2, $3, false, $5, $4, $4) RETURNING `+userColumns, p.Username, p.Role, p.PasswordHash, at.UTC(), p.MustChangePassword))
	if err != nil {
		err = interpretError(err)
		if waorders.ErrorCode(err) == waorders.CodeConflict {
			return nil, waorders.Errorf(waorders.CodeConflict, "user %q already exists", p.Username)
		}
		return nil, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// UpdateUser implements store.UsersTx. Outside InTx its two statements
// are one: the sessions are deleted by a data-modifying WITH clause.
func (t *tx) UpdateUser(ctx context.Context, p store.UpdateUserParams) (*store.User, error) {
	if err := t.guard.Check(); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	at := p.At
	if at.IsZero() {
		at = t.s.nowUTC()
	}
	ctx, cancel := t.s.bound(ctx)
	defer cancel()
	endSessions := p.PasswordHash != nil || (p.Disabled != nil && *p.Disabled)
	u, err := scanUser(t.q().QueryRow(ctx, `WITH u AS (
  UPDATE users SET role = coalesce($2, role), password_hash = coalesce($3, password_hash),
         disabled = coalesce($4, disabled), updated_at = $5, must_change_password = coalesce($7, must_change_password)
   WHERE username = $1 RETURNING `+userColumns+`
), d AS (
  DELETE FROM sessions WHERE $6 AND user_id IN (SELECT id FROM u)
)
SELECT `+userColumns+` FROM u`, p.Username, p.Role, p.PasswordHash, p.Disabled, at.UTC(), endSessions, p.MustChangePassword))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, waorders.Errorf(waorders.CodeNotFound, "user %q not found", p.Username)
	}
	if err != nil {
		return nil, fmt.Errorf("update user: %w", interpretError(err))
	}
	return u, nil
}

// CreateSession implements store.UsersTx.
func (t *tx) CreateSession(ctx context.Context, ss store.Session) error {
	if err := t.guard.Check(); err != nil {
		return err
	}
	if ss.ID == "" || ss.UserID == 0 {
		return waorders.Errorf(waorders.CodeInvalid, "a session needs an id and a user")
	}
	if ss.CreatedAt.IsZero() {
		ss.CreatedAt = t.s.nowUTC()
	}
	ctx, cancel := t.s.bound(ctx)
	defer cancel()
	// Expired sessions go as new ones come: no sweeper needed.
	var n int64
	err := t.q().QueryRow(ctx, `WITH gone AS (DELETE FROM sessions WHERE expires_at <= $3 RETURNING 1),
ins AS (INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4) RETURNING 1)
SELECT count(*) FROM ins`, ss.ID, ss.UserID, ss.CreatedAt.UTC(), ss.ExpiresAt.UTC()).Scan(&n)
	if err != nil {
		return fmt.Errorf("create session: %w", interpretError(err))
	}
	return nil
}

// DeleteSessions implements store.UsersTx.
func (t *tx) DeleteSessions(ctx context.Context, p store.DeleteSessionsParams) (int64, error) {
	if err := t.guard.Check(); err != nil {
		return 0, err
	}
	if p.UserID == 0 && p.ID == "" {
		return 0, waorders.Errorf(waorders.CodeInvalid, "say which sessions to delete: a session id or a user id")
	}
	ctx, cancel := t.s.bound(ctx)
	defer cancel()
	var n int64
	err := t.q().QueryRow(ctx, `WITH d AS (DELETE FROM sessions WHERE ($1 <> 0 AND user_id = $1) OR ($1 = 0 AND id = $2) RETURNING 1)
SELECT count(*) FROM d`, p.UserID, p.ID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("delete sessions: %w", interpretError(err))
	}
	return n, nil
}
