package ui

import (
	"net/http"
	"strings"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/password"
	"github.com/waorders/waorders/internal/store"
)

type usersData struct {
	Users    []*store.User
	Roles    []string
	Flash    string
	Password string // a generated password, shown once
	For      string
}

// Users serves GET /ui/users (admin).
func (h *Handler) Users(w http.ResponseWriter, r *http.Request) error {
	return h.usersPage(w, r, http.StatusOK, usersData{})
}

func (h *Handler) usersPage(w http.ResponseWriter, r *http.Request, status int, d usersData) error {
	users, err := h.cfg.Users.ListUsers(r.Context())
	if err != nil {
		return err
	}
	d.Users, d.Roles = users, store.Roles
	h.render(w, r, status, "users", view{Title: "Users", Nav: "users", Data: d})
	return nil
}

// UserAdd serves POST /ui/users (fields username, role): the new user's
// password is generated and shown once.
func (h *Handler) UserAdd(w http.ResponseWriter, r *http.Request) error {
	name := strings.ToLower(strings.TrimSpace(r.PostFormValue("username")))
	pw := password.Generate()
	_, err := h.cfg.Users.CreateUser(r.Context(), store.CreateUserParams{Username: name, Role: r.PostFormValue("role"), PasswordHash: password.Hash(pw),
		MustChangePassword: true}) // shown to the admin: the user chooses their own at first login
	if c := waorders.ErrorCode(err); c == waorders.CodeInvalid || c == waorders.CodeConflict {
		return h.usersPage(w, r, http.StatusUnprocessableEntity, usersData{Flash: waorders.ErrorMessage(err)})
	}
	if err != nil {
		return err
	}
	h.cfg.Log.Info("dashboard user added", "username", name, "by", Actor(r))
	return h.usersPage(w, r, http.StatusOK, usersData{Flash: "User " + name + " added.", Password: pw, For: name})
}

// UserChange serves POST /ui/users/{name} (field action: disable, enable,
// reset-password, or role with field role).
func (h *Handler) UserChange(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	p := store.UpdateUserParams{Username: name}
	var d usersData
	switch a := r.PostFormValue("action"); a {
	case "disable", "enable":
		if name == Actor(r) {
			return h.usersPage(w, r, http.StatusUnprocessableEntity, usersData{Flash: "You cannot disable yourself."})
		}
		off := a == "disable"
		p.Disabled = &off
		d.Flash = "User " + name + " " + a + "d."
	case "reset-password":
		pw := password.Generate()
		hash, once := password.Hash(pw), true
		p.PasswordHash, p.MustChangePassword = &hash, &once
		d.Flash, d.Password, d.For = "Password of "+name+" replaced; its sessions are ended.", pw, name
	case "role":
		role := r.PostFormValue("role")
		if name == Actor(r) && role != store.RoleAdmin {
			return h.usersPage(w, r, http.StatusUnprocessableEntity, usersData{Flash: "You cannot take the admin role from yourself."})
		}
		p.Role = &role
		d.Flash = "Role of " + name + " is now " + role + "."
	default:
		return waorders.Errorf(waorders.CodeInvalid, "unknown action; use disable, enable, reset-password or role")
	}
	if _, err := h.cfg.Users.UpdateUser(r.Context(), p); err != nil {
		if waorders.ErrorCode(err) == waorders.CodeInvalid {
			return h.usersPage(w, r, http.StatusUnprocessableEntity, usersData{Flash: waorders.ErrorMessage(err)})
		}
		return err
	}
	h.cfg.Log.Info("dashboard user changed", "username", name, "action", r.PostFormValue("action"), "by", Actor(r))
	return h.usersPage(w, r, http.StatusOK, d)
}

type passwordData struct {
	Forced bool // the password was generated: it must be replaced
	Error  string
	Done   bool
}

// PasswordForm serves GET /ui/password: every user changes their own
// password here, and one with a generated password is sent here first.
func (h *Handler) PasswordForm(w http.ResponseWriter, r *http.Request) error {
	s := sessionOf(r)
	h.render(w, r, http.StatusOK, "password", view{Title: "Your password", Data: passwordData{
		Forced: s.user.MustChangePassword, Done: r.URL.Query().Has("changed")}})
	return nil
}

// PasswordChange serves POST /ui/password (fields current, password,
// again). The new password ends every session of the user, this one
// included, so this browser gets a new one.
func (h *Handler) PasswordChange(w http.ResponseWriter, r *http.Request) error {
	s := sessionOf(r)
	d := passwordData{Forced: s.user.MustChangePassword}
	cur, pw, again := r.PostFormValue("current"), r.PostFormValue("password"), r.PostFormValue("again")
	switch {
	case !password.Verify(s.user.PasswordHash, cur):
		d.Error = "The current password is wrong."
	case pw != again:
		d.Error = "The two new passwords differ."
	case pw == cur:
		d.Error = "Choose a password other than the current one."
	default:
		if err := password.Check(pw); err != nil {
			d.Error = strings.ToUpper(err.Error()[:1]) + err.Error()[1:] + "."
		}
	}
	if d.Error != "" {
		h.render(w, r, http.StatusUnprocessableEntity, "password", view{Title: "Your password", Data: d})
		return nil
	}
	hash, no := password.Hash(pw), false
	if _, err := h.cfg.Users.UpdateUser(r.Context(), store.UpdateUserParams{Username: s.user.Username, PasswordHash: &hash, MustChangePassword: &no}); err != nil {
		return err
	}
	token := newToken()
	now := h.cfg.Now()
	if err := h.cfg.Users.CreateSession(r.Context(), store.Session{ID: store.SessionID(token), UserID: s.user.ID,
		CreatedAt: now, ExpiresAt: now.Add(h.cfg.SessionTTL)}); err != nil {
		return err
	}
	http.SetCookie(w, h.cookie(r, token, int(h.cfg.SessionTTL.Seconds())))
	h.cfg.Log.Info("dashboard password changed", "username", s.user.Username, "was_generated", d.Forced)
	http.Redirect(w, r, "/ui/password?changed=1", http.StatusSeeOther)
	return nil
}
