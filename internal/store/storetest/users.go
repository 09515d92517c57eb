package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

// RunUsers checks the users area: accounts, roles, sessions, and that
// disabling a user or replacing its password ends its sessions.
func RunUsers(t *testing.T, open Open) {
	runAll(t, open, []subtest{
		{"UserCreateGetList", testUserCreateGetList},
		{"UserUpdateEndsSessions", testUserUpdateEndsSessions},
		{"MustChangePassword", testMustChangePassword},
		{"SessionExpiryAndLogout", testSessionExpiryAndLogout},
		{"UsersTxRollback", testUsersTxRollback},
	})
}

func testUserCreateGetList(t *testing.T, s store.Store) {
	ctx := context.Background()
	if n, err := s.CountUsers(ctx); err != nil || n != 0 {
		t.Fatalf("CountUsers on an empty store = %d, %v; want 0", n, err)
	}
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	u, err := s.CreateUser(ctx, store.CreateUserParams{Username: "zoe", Role: store.RoleStaff, PasswordHash: "$argon2id$x", At: at})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if u.ID == 0 || u.Username != "zoe" || u.Role != store.RoleStaff || u.Disabled || !u.CreatedAt.Equal(at) {
		t.Fatalf("CreateUser = %+v", u)
	}
	_, err = s.CreateUser(ctx, store.CreateUserParams{Username: "zoe", Role: store.RoleAdmin, PasswordHash: "h"})
	wantCode(t, "CreateUser with a taken name", err, waorders.CodeConflict)
	_, err = s.CreateUser(ctx, store.CreateUserParams{Username: "Bad Name", Role: store.RoleAdmin, PasswordHash: "h"})
	wantCode(t, "CreateUser with a bad name", err, waorders.CodeInvalid)
	_, err = s.CreateUser(ctx, store.CreateUserParams{Username: "ann", Role: "root", PasswordHash: "h"})
	wantCode(t, "CreateUser with a bad role", err, waorders.CodeInvalid)
	if _, err := s.CreateUser(ctx, store.CreateUserParams{Username: "ann", Role: store.RoleAdmin, PasswordHash: "h"}); err != nil {
		t.Fatalf("CreateUser ann: %v", err)
	}
	got, err := s.GetUser(ctx, "zoe")
	if err != nil || got.ID != u.ID || got.PasswordHash != "$argon2id$x" {
		t.Fatalf("GetUser = %+v, %v", got, err)
	}
	_, err = s.GetUser(ctx, "nobody")
	wantCode(t, "GetUser of nobody", err, waorders.CodeNotFound)
	list, err := s.ListUsers(ctx)
	if err != nil || len(list) != 2 || list[0].Username != "ann" || list[1].Username != "zoe" {
		t.Fatalf("ListUsers = %v, %v; want ann, zoe", list, err)
	}
	if n, err := s.CountUsers(ctx); err != nil || n != 2 {
		t.Fatalf("CountUsers = %d, %v; want 2", n, err)
	}
}

func newSession(t *testing.T, s store.Store, u *store.User, token string, exp time.Time) {
	t.Helper()
	if err := s.CreateSession(context.Background(), store.Session{ID: store.SessionID(token), UserID: u.ID,
		CreatedAt: exp.Add(-time.Hour), ExpiresAt: exp}); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
}

func testUserUpdateEndsSessions(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Now().UTC()
	u, err := s.CreateUser(ctx, store.CreateUserParams{Username: "zoe", Role: store.RoleViewer, PasswordHash: "old"})
	if err != nil {
		t.Fatal(err)
	}
	newSession(t, s, u, "t1", now.Add(time.Hour))
	role := store.RoleStaff
	if u, err = s.UpdateUser(ctx, store.UpdateUserParams{Username: "zoe", Role: &role}); err != nil || u.Role != store.RoleStaff || u.PasswordHash != "old" {
		t.Fatalf("UpdateUser role = %+v, %v", u, err)
	}
	if _, su, err := s.GetSession(ctx, store.SessionID("t1"), now); err != nil || su.Role != store.RoleStaff {
		t.Fatalf("a role change keeps the session with the new role: %v, %v", su, err)
	}
	hash := "new"
	if u, err = s.UpdateUser(ctx, store.UpdateUserParams{Username: "zoe", PasswordHash: &hash}); err != nil || u.PasswordHash != "new" {
		t.Fatalf("UpdateUser password = %+v, %v", u, err)
	}
	_, _, err = s.GetSession(ctx, store.SessionID("t1"), now)
	wantCode(t, "session after a password reset", err, waorders.CodeNotFound)

	newSession(t, s, u, "t2", now.Add(time.Hour))
	yes := true
	if u, err = s.UpdateUser(ctx, store.UpdateUserParams{Username: "zoe", Disabled: &yes}); err != nil || !u.Disabled {
		t.Fatalf("UpdateUser disable = %+v, %v", u, err)
	}
	_, _, err = s.GetSession(ctx, store.SessionID("t2"), now)
	wantCode(t, "session of a disabled user", err, waorders.CodeNotFound)
	_, err = s.UpdateUser(ctx, store.UpdateUserParams{Username: "nobody", Disabled: &yes})
	wantCode(t, "UpdateUser of nobody", err, waorders.CodeNotFound)
}

// testMustChangePassword: a generated password is marked, kept by other
// changes, and cleared with the password the user chose; the session of
// a user who must change it still reads the flag.
func testMustChangePassword(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Now().UTC()
	u, err := s.CreateUser(ctx, store.CreateUserParams{Username: "admin", Role: store.RoleAdmin, PasswordHash: "gen", MustChangePassword: true})
	if err != nil || !u.MustChangePassword {
		t.Fatalf("CreateUser one-time = %+v, %v", u, err)
	}
	newSession(t, s, u, "t1", now.Add(time.Hour))
	if _, su, err := s.GetSession(ctx, store.SessionID("t1"), now); err != nil || !su.MustChangePassword {
		t.Fatalf("GetSession of a one-time password = %+v, %v", su, err)
	}
	role := store.RoleAdmin
	if u, err = s.UpdateUser(ctx, store.UpdateUserParams{Username: "admin", Role: &role}); err != nil || !u.MustChangePassword {
		t.Fatalf("a role change cleared the flag: %+v, %v", u, err)
	}
	hash, no := "chosen", false
	if u, err = s.UpdateUser(ctx, store.UpdateUserParams{Username: "admin", PasswordHash: &hash, MustChangePassword: &no}); err != nil || u.MustChangePassword || u.PasswordHash != "chosen" {
		t.Fatalf("UpdateUser chosen password = %+v, %v", u, err)
	}
	if u, err = s.GetUser(ctx, "admin"); err != nil || u.MustChangePassword {
		t.Fatalf("GetUser after the change = %+v, %v", u, err)
	}
	other, err := s.CreateUser(ctx, store.CreateUserParams{Username: "zoe", Role: store.RoleStaff, PasswordHash: "h"})
	if err != nil || other.MustChangePassword {
		t.Fatalf("CreateUser chosen = %+v, %v", other, err)
	}
}

func testSessionExpiryAndLogout(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	u, err := s.CreateUser(ctx, store.CreateUserParams{Username: "zoe", Role: store.RoleAdmin, PasswordHash: "h"})
	if err != nil {
		t.Fatal(err)
	}
	newSession(t, s, u, "a", now.Add(time.Hour))
	newSession(t, s, u, "b", now.Add(time.Hour))
	newSession(t, s, u, "c", now.Add(time.Hour))
	ss, su, err := s.GetSession(ctx, store.SessionID("a"), now)
	if err != nil || ss.UserID != u.ID || su.Username != "zoe" || !ss.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("GetSession = %+v, %+v, %v", ss, su, err)
	}
	_, _, err = s.GetSession(ctx, store.SessionID("a"), now.Add(time.Hour))
	wantCode(t, "an expired session", err, waorders.CodeNotFound)
	if n, err := s.DeleteSessions(ctx, store.DeleteSessionsParams{ID: store.SessionID("a")}); err != nil || n != 1 {
		t.Fatalf("DeleteSessions one = %d, %v", n, err)
	}
	_, _, err = s.GetSession(ctx, store.SessionID("a"), now)
	wantCode(t, "a deleted session", err, waorders.CodeNotFound)
	if n, err := s.DeleteSessions(ctx, store.DeleteSessionsParams{UserID: u.ID}); err != nil || n != 2 {
		t.Fatalf("DeleteSessions everywhere = %d, %v; want 2", n, err)
	}
	_, err = s.DeleteSessions(ctx, store.DeleteSessionsParams{})
	wantCode(t, "DeleteSessions of nothing", err, waorders.CodeInvalid)
}

func testUsersTxRollback(t *testing.T, s store.Store) {
	ctx := context.Background()
	boom := errors.New("boom")
	err := s.InTx(ctx, func(tx store.Tx) error {
		if _, err := tx.CreateUser(ctx, store.CreateUserParams{Username: "zoe", Role: store.RoleAdmin, PasswordHash: "h"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v; want boom", err)
	}
	if n, err := s.CountUsers(ctx); err != nil || n != 0 {
		t.Fatalf("a rolled-back CreateUser left %d users (%v)", n, err)
	}
}
