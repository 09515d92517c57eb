package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"time"

	"github.com/waorders/waorders"
)

// Users is the area of the dashboard's staff accounts and their sessions.
// A user has a unique username, one role and a password hash (computed by
// the caller; the store never sees a password). A session is known by the
// SHA-256 of its cookie token, so a copy of the database cannot be used to
// log in. Disabling a user or replacing its password ends its sessions in
// the same transaction.
type Users interface {
	// GetUser returns the user named username (CodeNotFound if none).
	GetUser(ctx context.Context, username string) (*User, error)
	// ListUsers returns every user, by username.
	ListUsers(ctx context.Context) ([]*User, error)
	// CountUsers counts users, disabled ones included.
	CountUsers(ctx context.Context) (int64, error)
	// GetSession returns the session whose id is SessionID(token) with its
	// user, when it has not expired at now and its user is not disabled;
	// otherwise CodeNotFound.
	GetSession(ctx context.Context, id string, now time.Time) (*Session, *User, error)

	UsersTx
}

// UsersTx are the writes of the users area that can join a transaction.
type UsersTx interface {
	// CreateUser adds a user; CodeConflict when the username is taken.
	CreateUser(ctx context.Context, p CreateUserParams) (*User, error)
	// UpdateUser changes what p sets; disabling or a new password deletes
	// the user's sessions. CodeNotFound when there is no such user.
	UpdateUser(ctx context.Context, p UpdateUserParams) (*User, error)
	// CreateSession stores a session.
	CreateSession(ctx context.Context, s Session) error
	// DeleteSessions deletes the session ID, or with UserID set every
	// session of that user (log out everywhere), and counts them.
	DeleteSessions(ctx context.Context, p DeleteSessionsParams) (int64, error)
}

// Roles of a user: admin manages users, webhooks and notification
// settings; staff works on orders, customers and the quarantine; viewer
// reads only. Each role can do what the roles after it can.
const (
	RoleAdmin  = "admin"
	RoleStaff  = "staff"
	RoleViewer = "viewer"
)

// Roles lists the roles, most powerful first.
var Roles = []string{RoleAdmin, RoleStaff, RoleViewer}

// RoleAtLeast reports whether role has the rights of want.
func RoleAtLeast(role, want string) bool {
	rank := func(r string) int {
		switch r {
		case RoleAdmin:
			return 3
		case RoleStaff:
			return 2
		case RoleViewer:
			return 1
		}
		return 0
	}
	return rank(role) > 0 && rank(role) >= rank(want)
}

// User is one staff account.
type User struct {
	ID           int64
	Username     string
	Role         string
	PasswordHash string // PHC string, e.g. $argon2id$v=19$...
	Disabled     bool
	// MustChangePassword: the password was generated and shown to
	// someone; the user chooses their own before anything else.
	MustChangePassword bool
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// Session is one logged-in browser.
type Session struct {
	ID        string // SessionID of the cookie's token
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time
}

// SessionID is the stored id of a session token: its SHA-256, in hex.
func SessionID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CreateUserParams are the fields of a new user.
type CreateUserParams struct {
	Username     string
	Role         string
	PasswordHash string
	// MustChangePassword: the password is a generated one-time password.
	MustChangePassword bool
	At                 time.Time // zero: now
}

// UpdateUserParams changes a user; nil fields stay as they are.
type UpdateUserParams struct {
	Username     string
	Role         *string
	PasswordHash *string
	Disabled     *bool
	// MustChangePassword sets or clears the flag (with a new password:
	// true for a generated one, false for one the user chose).
	MustChangePassword *bool
	At                 time.Time // zero: now
}

// DeleteSessionsParams chooses the sessions DeleteSessions deletes.
type DeleteSessionsParams struct {
	ID     string // one session
	UserID int64  // or all of a user's
}

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{0,63}$`)

// ValidateUsername checks a username: 1 to 64 lower-case letters, digits,
// '.', '_', '@' or '-', starting with a letter or digit.
func ValidateUsername(name string) error {
	if !usernameRE.MatchString(name) {
		return waorders.Errorf(waorders.CodeInvalid,
			"username %q is not valid: use 1 to 64 lower-case letters, digits, '.', '_', '@' or '-', starting with a letter or digit", clip(name))
	}
	return nil
}

// ValidateRole checks a role name.
func ValidateRole(role string) error {
	switch role {
	case RoleAdmin, RoleStaff, RoleViewer:
		return nil
	}
	return waorders.Errorf(waorders.CodeInvalid, "role %q is not valid; use admin, staff or viewer", clip(role))
}

// Validate checks p.
func (p CreateUserParams) Validate() error {
	if err := ValidateUsername(p.Username); err != nil {
		return err
	}
	if err := ValidateRole(p.Role); err != nil {
		return err
	}
	if p.PasswordHash == "" {
		return waorders.Errorf(waorders.CodeInvalid, "a user needs a password hash")
	}
	return nil
}

// Validate checks p.
func (p UpdateUserParams) Validate() error {
	if p.Role != nil {
		if err := ValidateRole(*p.Role); err != nil {
			return err
		}
	}
	if p.PasswordHash != nil && *p.PasswordHash == "" {
		return waorders.Errorf(waorders.CodeInvalid, "a user needs a password hash")
	}
	return nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
