package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

const userColumns = `id, username, role, password_hash, disabled, must_change_password, created_at, updated_at`

func scanUser(sc interface{ Scan(...any) error }) (*store.User, error) {
	var (
		u                store.User
		created, updated int64
	)
	if err := sc.Scan(&u.ID, &u.Username, &u.Role, &u.PasswordHash, &u.Disabled, &u.MustChangePassword, &created, &updated); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &u, nil
}

type queryRower interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func getUser(ctx context.Context, db queryRower, username string) (*store.User, error) {
	u, err := scanUser(db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE username = ?`, username))
	if err != nil {
		return nil, notFound(err, "user %q not found", username)
	}
	return u, nil
}

// GetUser implements store.Users.
func (s *Store) GetUser(ctx context.Context, username string) (*store.User, error) {
	return getUser(ctx, s.r, username)
}

// ListUsers implements store.Users.
func (s *Store) ListUsers(ctx context.Context) ([]*store.User, error) {
	out, err := queryAll(ctx, s.r, `SELECT `+userColumns+` FROM users ORDER BY username`, nil, scanUser)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// CountUsers implements store.Users.
func (s *Store) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", interpretError(err))
	}
	return n, nil
}

// GetSession implements store.Users.
func (s *Store) GetSession(ctx context.Context, id string, now time.Time) (*store.Session, *store.User, error) {
	var (
		ss               store.Session
		created, expires int64
	)
	row := s.r.QueryRowContext(ctx, `SELECT s.id, s.user_id, s.created_at, s.expires_at, u.username
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.id = ? AND s.expires_at > ? AND u.disabled = 0`, id, micros(now))
	var username string
	if err := row.Scan(&ss.ID, &ss.UserID, &created, &expires, &username); err != nil {
		return nil, nil, notFound(err, "session not found or expired")
	}
	ss.CreatedAt, ss.ExpiresAt = fromMicros(created), fromMicros(expires)
	u, err := getUser(ctx, s.r, username)
	if err != nil {
		return nil, nil, err
	}
	return &ss, u, nil
}

// CreateUser implements store.Store. See tx.CreateUser.
func (s *Store) CreateUser(ctx context.Context, p store.CreateUserParams) (u *store.User, err error) {
	err = s.InTx(ctx, func(tx store.Tx) error { u, err = tx.CreateUser(ctx, p); return err })
	return u, err
}

// UpdateUser implements store.Store. See tx.UpdateUser.
func (s *Store) UpdateUser(ctx context.Context, p store.UpdateUserParams) (u *store.User, err error) {
	err = s.InTx(ctx, func(tx store.Tx) error { u, err = tx.UpdateUser(ctx, p); return err })
	return u, err
}

// CreateSession implements store.Store. See tx.CreateSession.
func (s *Store) CreateSession(ctx context.Context, ss store.Session) error {
	return s.InTx(ctx, func(tx store.Tx) error { return tx.CreateSession(ctx, ss) })
}

// DeleteSessions implements store.Store. See tx.DeleteSessions.
func (s *Store) DeleteSessions(ctx context.Context, p store.DeleteSessionsParams) (n int64, err error) {
	err = s.InTx(ctx, func(tx store.Tx) error { n, err = tx.DeleteSessions(ctx, p); return err })
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
		at = t.s.now()
	}
	_, err := t.sqlTx.ExecContext(ctx, `INSERT INTO users (username, role, password_hash, disabled, must_change_password, created_at, updated_at)
VALUES (?, ?, ?, 0, ?, ?, ?)`, p.Username, p.Role, p.PasswordHash, p.MustChangePassword, micros(at), micros(at))
	if err != nil {
		err = interpretError(err)
		if waorders.ErrorCode(err) == waorders.CodeConflict {
			return nil, waorders.Errorf(waorders.CodeConflict, "user %q already exists", p.Username)
		}
		return nil, fmt.Errorf("create user: %w", err)
	}
	return getUser(ctx, t.sqlTx, p.Username)
}

// UpdateUser implements store.UsersTx.
func (t *tx) UpdateUser(ctx context.Context, p store.UpdateUserParams) (*store.User, error) {
	if err := t.guard.Check(); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	u, err := getUser(ctx, t.sqlTx, p.Username)
	if err != nil {
		return nil, err
	}
	at := p.At
	if at.IsZero() {
		at = t.s.now()
	}
	if p.Role != nil {
		u.Role = *p.Role
	}
	endSessions := false
	if p.PasswordHash != nil {
		u.PasswordHash, endSessions = *p.PasswordHash, true
	}
	if p.Disabled != nil {
		u.Disabled = *p.Disabled
		endSessions = endSessions || u.Disabled
	}
	if p.MustChangePassword != nil {
		u.MustChangePassword = *p.MustChangePassword
	}
	if _, err := t.sqlTx.ExecContext(ctx, `UPDATE users SET role = ?, password_hash = ?, disabled = ?, must_change_password = ?, updated_at = ? WHERE id = ?`,
		u.Role, u.PasswordHash, u.Disabled, u.MustChangePassword, micros(at), u.ID); err != nil {
		return nil, fmt.Errorf("update user: %w", interpretError(err))
	}
	if endSessions {
		if _, err := t.sqlTx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, u.ID); err != nil {
			return nil, fmt.Errorf("end sessions: %w", interpretError(err))
		}
	}
	return getUser(ctx, t.sqlTx, p.Username)
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
		ss.CreatedAt = t.s.now()
	}
	// Expired sessions go as new ones come: no sweeper needed.
	if _, err := t.sqlTx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, micros(ss.CreatedAt)); err != nil {
		return fmt.Errorf("create session: %w", interpretError(err))
	}
	if _, err := t.sqlTx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		ss.ID, ss.UserID, micros(ss.CreatedAt), micros(ss.ExpiresAt)); err != nil {
		return fmt.Errorf("create session: %w", interpretError(err))
	}
	return nil
}

// DeleteSessions implements store.UsersTx.
func (t *tx) DeleteSessions(ctx context.Context, p store.DeleteSessionsParams) (int64, error) {
	if err := t.guard.Check(); err != nil {
		return 0, err
	}
	var (
		r   sql.Result
		err error
	)
	switch {
	case p.UserID != 0:
		r, err = t.sqlTx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, p.UserID)
	case p.ID != "":
		r, err = t.sqlTx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, p.ID)
	default:
		return 0, waorders.Errorf(waorders.CodeInvalid, "say which sessions to delete: a session id or a user id")
	}
	if err != nil {
		return 0, fmt.Errorf("delete sessions: %w", interpretError(err))
	}
	n, _ := r.RowsAffected()
	return n, nil
}
