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
	_, err := h.cfg.Users.CreateUser(r.Context(), store.CreateUserParams{Username: name, Role: r.PostFormValue("role"), PasswordHash: password.Hash(pw)})
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
		hash := password.Hash(pw)
		p.PasswordHash = &hash
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
